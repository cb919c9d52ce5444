// Test helpers: Grant fixtures built through the domain's own `openGrant` and `transition`,
// so every fixture has a valid state history and a verifiable audit chain.
import { ENGINE_ACTOR, openGrant, transition, type Grant, type GrantState, type TransitionInput } from '../../lambdas/domain/grant';
import { grantIdFor } from '../../lambdas/domain/ids';

/** The fixtures' default "now". */
export const FIXTURE_TIME = '2026-11-28T12:00:00.000Z';

export interface GrantFixture {
  readonly agentId?: string;
  readonly taskId?: string;
  /** When the grant was requested; every later step happens at the same time unless told. */
  readonly at?: string;
  readonly ttlSeconds?: number;
  /** The issued access key id (for `active` and later). */
  readonly accessKeyId?: string;
}

/** Seconds after `iso`, as ISO. */
export const after = (iso: string, seconds: number) => new Date(Date.parse(iso) + seconds * 1000).toISOString();

let fixtureSequence = 0;

/** A grant just requested, with a fresh task id unless one is given. */
export function requestedGrant(fixture: GrantFixture = {}): Grant {
  const agentId = fixture.agentId ?? 'release-bot';
  const taskId = fixture.taskId ?? `task-${++fixtureSequence}`;
  return openGrant({
    grantId: grantIdFor(agentId, taskId),
    taskId,
    agentId,
    at: fixture.at ?? FIXTURE_TIME,
    actor: 'lead@example.com',
    policyVersion: 'policy-v1',
    scopes: ['repo-read'],
    purpose: 'Dependency updates',
    requestedBy: 'lead@example.com',
    ttlSeconds: fixture.ttlSeconds ?? 900,
  });
}

/** Moves `grant` to `to` as the engine would, at `at` (default: its last change). */
export function advance(grant: Grant, to: GrantState, options: Partial<Omit<TransitionInput, 'to'>> = {}): Grant {
  return transition(grant, { at: grant.updatedAt, actor: ENGINE_ACTOR, action: to, ...options, to });
}

/** A grant whose credential was issued at `at` and expires `ttlSeconds` later. */
export function activeGrant(fixture: GrantFixture = {}): Grant {
  const issuing = advance(requestedGrant(fixture), 'issuing');
  const expiresAt = after(issuing.updatedAt, fixture.ttlSeconds ?? 900);
  const accessKeyId = fixture.accessKeyId ?? `ASIAFIXTURE${String(fixtureSequence).padStart(9, '0')}`;
  return advance(issuing, 'active', {
    action: 'issued',
    changes: {
      credentialKind: 'aws-sts-session',
      credential: {
        kind: 'aws-sts-session',
        accessKeyId,
        principalArn: `arn:aws:sts::111122223333:assumed-role/agent/${issuing.grantId}`,
        expiresAt,
      },
      expiresAt,
    },
  });
}

/** A grant revoked because its task ended, and proven dead. */
export function verifiedGrant(fixture: GrantFixture = {}): Grant {
  const active = activeGrant(fixture);
  const revoking = advance(active, 'revoking', {
    action: 'revoke',
    changes: { revocation: { trigger: 'task_ended', noticeAt: active.updatedAt, by: ENGINE_ACTOR, reason: 'task ended' } },
  });
  const revoked = advance(revoking, 'revoked', { changes: { revokedAt: revoking.updatedAt } });
  return advance(revoked, 'verified', { changes: { verifiedAt: revoked.updatedAt } });
}

/** A request refused by policy. */
export function deniedGrant(fixture: GrantFixture = {}): Grant {
  return advance(requestedGrant(fixture), 'denied', { reason: 'scope not allowed', changes: { reason: 'scope not allowed' } });
}
