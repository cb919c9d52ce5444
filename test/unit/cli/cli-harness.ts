// Test helpers for the CLI: grants built through the real state machine, a recording event
// sink, and a runner that drives the real commander program over in-memory fakes.
import { openGrant, transition, type Grant } from '../../../lambdas/domain/grant';
import { grantIdFor } from '../../../lambdas/domain/ids';
import type { BusEvent, CliDeps, EventSink, PutOutcome } from '../../../cli/context';
import { runCli } from '../../../cli/program';
import type { OperatorFlags, OperatorGateway, OperatorReply } from '../../../cli/context';
import type { OperatorRequest } from '../../../lambdas/domain/operator-api';
import { EXAMPLE_POLICY_FILE, loadPolicyFile } from '../../../cli/policy-source';
import { silentProgress } from '../../../cli/progress';
import { FakeClock } from '../../helpers/fake-ports';
import { InMemoryGrantStore } from '../../helpers/in-memory-grant-store';

export const POLICY_VERSION = 'sha256:test';
const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

/** A grant just requested by `Task Started`. */
export function requestedGrant(agentId: string, taskId: string, at = '2026-11-28T10:00:00.000Z'): Grant {
  return openGrant({
    grantId: grantIdFor(agentId, taskId),
    taskId,
    agentId,
    at,
    actor: 'alice@example.com',
    policyVersion: POLICY_VERSION,
    scopes: ['repo-read'],
    purpose: 'update dependencies',
    requestedBy: 'alice@example.com',
  });
}

/** A grant auto-approved and issued one second after its request. */
export function activeGrant(agentId: string, taskId: string, at = '2026-11-28T10:00:00.000Z'): Grant {
  const issuing = transition(requestedGrant(agentId, taskId, at), {
    to: 'issuing',
    at: plus(at, 500),
    actor: 'taskbound',
    action: 'auto-approved',
  });
  const expiresAt = plus(at, 900_000);
  return transition(issuing, {
    to: 'active',
    at: plus(at, 1000),
    actor: 'taskbound',
    action: 'issued',
    changes: {
      expiresAt,
      credential: {
        kind: 'aws-sts-session',
        accessKeyId: 'ASIAEXAMPLE000000001',
        principalArn: 'arn:aws:sts::111122223333:assumed-role/agent/x',
        expiresAt,
      },
    },
  });
}

export interface RevocationTiming {
  readonly trigger?: 'task_ended' | 'expired' | 'leaked' | 'suspended' | 'manual';
  /** When the engine was told: the notice. */
  readonly noticeAt: string;
  readonly revokedAfterMs: number;
  /** Omitted: the grant stays `revoked`, not yet verified. */
  readonly verifiedAfterMs?: number;
}

/** An active grant taken through revocation with the given timing. */
export function revokedGrant(grant: Grant, timing: RevocationTiming): Grant {
  const trigger = timing.trigger ?? 'task_ended';
  const revoking = transition(grant, {
    to: 'revoking',
    at: timing.noticeAt,
    actor: 'taskbound',
    action: `revoke:${trigger}`,
    reason: 'task ended',
    changes: { revocation: { trigger, noticeAt: timing.noticeAt, by: 'taskbound', reason: 'task ended' } },
  });
  const revokedAt = plus(timing.noticeAt, timing.revokedAfterMs);
  const revoked = transition(revoking, { to: 'revoked', at: revokedAt, actor: 'taskbound', action: 'revoked', changes: { revokedAt } });
  if (timing.verifiedAfterMs === undefined) return revoked;
  const verifiedAt = plus(revokedAt, timing.verifiedAfterMs);
  return transition(revoked, {
    to: 'verified',
    at: verifiedAt,
    actor: 'taskbound',
    action: 'verified',
    reason: 'probe rejected the credential (InvalidClientTokenId)',
    changes: { verifiedAt },
  });
}

/** Records what the CLI would have put on the bus; `reject` makes PutEvents refuse the entry. */
export class RecordingSink implements EventSink {
  readonly sent: BusEvent[] = [];
  reject?: { errorCode: string; errorMessage?: string };
  /** Plays the engine: called with each accepted event, e.g. to write the outcome to the store. */
  engine?: (event: BusEvent) => void;

  async put(events: readonly BusEvent[]): Promise<PutOutcome> {
    if (this.reject) return { ok: false, ...this.reject };
    this.sent.push(...events);
    for (const event of events) this.engine?.(event);
    return { ok: true, eventIds: events.map((_, index) => `event-${this.sent.length - events.length + index}`) };
  }
}

export interface Harness {
  readonly store: InMemoryGrantStore;
  readonly events: RecordingSink;
  readonly clock: FakeClock;
  readonly operator: RecordingOperator;
  /** What `credentialCalls` answers and which record it stands for; by default nothing is recorded. */
  calls: { reader: CliDeps['credentialCalls']; record: CliDeps['callRecord'] };
  /** Runs `taskbound <argv>`; returns the exit code and what it printed. */
  run(...argv: string[]): Promise<{ code: number; out: string; err: string }>;
}

/** Records operator requests and answers with `answer` (counted, by default). */
export class RecordingOperator implements OperatorGateway {
  readonly sent: { readonly request: OperatorRequest; readonly flags: OperatorFlags }[] = [];
  answer: OperatorReply = { status: 200, body: { outcome: 'counted', remaining: 1, person: 'lead@example.com' } };

  async send(request: OperatorRequest, flags: OperatorFlags): Promise<OperatorReply> {
    this.sent.push({ request, flags });
    return this.answer;
  }
}

export const CALLER = 'arn:aws:iam::111122223333:user/alice';

/** `identity` replaces the caller lookup, e.g. to make it fail as STS would. */
export function harness(identity: () => Promise<string> = async () => CALLER): Harness {
  const store = new InMemoryGrantStore();
  const events = new RecordingSink();
  const clock = new FakeClock(new Date('2026-11-28T12:00:00.000Z'));
  const operator = new RecordingOperator();
  const calls: Harness['calls'] = { reader: async () => ({ source: 'unavailable', why: 'not recorded in tests' }), record: 'local-engine' };
  return {
    store,
    events,
    clock,
    operator,
    calls,
    async run(...argv) {
      const out: string[] = [];
      const err: string[] = [];
      const io = { out: (line: string) => out.push(line), err: (line: string) => err.push(line) };
      const deps = (): CliDeps => ({
        ...io,
        store,
        events,
        clock,
        identity,
        operator,
        policy: () => loadPolicyFile(EXAMPLE_POLICY_FILE),
        progress: silentProgress,
        sleep: async () => undefined,
        credentialCalls: (...args) => calls.reader(...args),
        callRecord: calls.record,
      });
      const code = await runCli(argv, { io, connect: deps });
      return { code, out: out.join('\n'), err: err.join('\n') };
    },
  };
}
