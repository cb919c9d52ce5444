// Fault test: a world that runs the engine's real use cases against a grant store and the
// modelled platform, every external call through the fault gate. Inbound events are delivered
// at least once (a crashed or failed run is delivered again later), expiries fire from their
// schedules, the sweep runs every minute and alerts go to a Slack that may be down.
import { CoalescingEventPublisher } from '../../lambdas/adapters/local/coalescing-event-publisher';
import { RememberingDeliveryVault } from '../../lambdas/adapters/local/remembering-delivery-vault';
import { RememberingGrantStore } from '../../lambdas/adapters/local/remembering-grant-store';
import { inMemoryApprovalMessages } from '../../lambdas/adapters/slack/in-memory-approval-messages';
import type { SlackMessage } from '../../lambdas/adapters/slack/slack-message';
import { SlackNotifier } from '../../lambdas/adapters/slack/slack-notifier';
import type { AlertEvent } from '../../lambdas/domain/alert-event';
import { routingConfigSchema } from '../../lambdas/domain/alert-routing';
import type { DueTiming } from '../../lambdas/domain/due';
import {
  PROOF_PENDING,
  type CredentialLeaked,
  type GrantDecision,
  type OutboundEvent,
  type TaskEnded,
  type TaskStarted,
} from '../../lambdas/domain/events';
import type { Grant } from '../../lambdas/domain/grant';
import { deliverySecretName, grantIdFor } from '../../lambdas/domain/ids';
import type { Policy, PolicyStatement } from '../../lambdas/domain/policy';
import type {
  Delivery,
  DeliveryAddress,
  DeliveryVault,
  EventPublisher,
  ExpiryScheduler,
  GrantStore,
  IssueRequest,
  SecretRotator,
} from '../../lambdas/ports';
import { resumeAgent, suspendAgent } from '../../lambdas/use-cases/change-agent-status';
import { sendAlert } from '../../lambdas/use-cases/send-alert';
import { decideGrant } from '../../lambdas/use-cases/decide-grant';
import { endTask } from '../../lambdas/use-cases/end-task';
import type { EngineDeps, EngineLogger } from '../../lambdas/use-cases/engine-deps';
import { expireGrant } from '../../lambdas/use-cases/expire-grant';
import { reportLeak } from '../../lambdas/use-cases/report-leak';
import { revokeUnentitledGrants } from '../../lambdas/use-cases/revoke-unentitled';
import { startTask } from '../../lambdas/use-cases/start-task';
import { sweepDueGrants } from '../../lambdas/use-cases/sweep';
import { proveRevocation } from '../../lambdas/use-cases/prove-revocation';
import { FakeClock } from '../helpers/fake-ports';
import { FaultGate, type Fault } from './gate';
import { Platform, platformIssuer, type Consistency } from './platform';

export const SWEEP_INTERVAL_MS = 60_000;
/** When a failed run is delivered again (Lambda's async retries come a minute or two later). */
export const REDELIVERY_MS = 30_000;
export const FAULT_TIMING: DueTiming = { stuckAfterMs: 5 * 60_000, retryAfterMs: 60_000, deniedRetentionMs: 10 * 60_000 };
const START = Date.parse('2026-11-28T12:00:00.000Z');

export type Inbound =
  | { readonly type: 'start'; readonly detail: TaskStarted }
  | { readonly type: 'end'; readonly detail: TaskEnded }
  | { readonly type: 'decide'; readonly detail: GrantDecision & { readonly grantId: string } }
  | { readonly type: 'leak'; readonly report: CredentialLeaked; readonly grantId?: string }
  | { readonly type: 'suspend'; readonly agentId: string }
  | { readonly type: 'resume'; readonly agentId: string }
  | { readonly type: 'expire'; readonly grantId: string }
  /** The engine's own `Grant Revoked` with `proof: pending`, routed to prove-revocation. */
  | { readonly type: 'prove'; readonly grantId: string };

interface Pending {
  readonly inbound: Inbound;
  due: number;
  attempts: number;
  /** When it was first delivered: the engine's notice of it. */
  firstAt?: number;
}

export interface WorldOptions {
  readonly policy: Policy;
  readonly store: GrantStore;
  readonly faults: readonly Fault[];
  readonly consistency: Consistency;
  /** Slack answers with errors until this many ms into the schedule. */
  readonly slackDownForMs: number;
  /**
   * Composed as the local engine composes it: the store and the vault remember what this process
   * wrote (a restart forgets), and concurrent runs share PutEvents calls.
   */
  readonly asLocalEngine?: boolean;
  /** The vault stages (created with the value, locked after) as under the stack's delivery key, instead of preparing. */
  readonly keyLockedVault?: boolean;
}

export interface Notice {
  readonly grantId: string;
  readonly at: number;
}

export class World {
  readonly clock = new FakeClock(new Date(START));
  readonly gate: FaultGate;
  readonly platform: Platform;
  readonly published: OutboundEvent[] = [];
  /** Proofs of death handed on to prove-revocation (a kill's one probe found the credential still honoured). */
  proofsHandedOn = 0;
  readonly logs: string[] = [];
  readonly alerts: SlackMessage[] = [];
  readonly vaultItems = new Map<string, Delivery>();
  /** Delivery secrets prepared (created and locked) but never written. */
  readonly emptyVaultItems = new Map<string, DeliveryAddress>();
  readonly expiries = new Map<string, number>();
  /** Broken promises seen while running: a grant issued without its approvals, a run that never succeeds. */
  readonly violations: string[] = [];
  /** Every approval the world actually gave: `${grantId} ${person}`. */
  readonly approvalsGiven = new Set<string>();
  /** When the engine was first told a grant's credential must die (Task Ended, a leak). */
  readonly notices: Notice[] = [];
  /** Per agent, the suspended periods: from the first delivery of the suspension to the resume whose write landed. */
  readonly suspensions: { agentId: string; from: number; to?: number }[] = [];
  readonly deps: EngineDeps;
  private readonly queue: Pending[] = [];
  private readonly alertQueue: { event: OutboundEvent; due: number }[] = [];
  private readonly slack = { approvals: inMemoryApprovalMessages(), routing: routingConfigSchema.parse({}) };
  private nextSweepAt = START + SWEEP_INTERVAL_MS;
  /** The policy in force: the options' until a restart on another file (changePolicy). */
  private policy: Policy;
  /** Per grant, what its credential was issued: its scopes and statements, as the issuer was asked. */
  private readonly issued = new Map<string, { readonly scopes: readonly string[]; readonly statements: readonly PolicyStatement[] }>();
  /** Set by a policy change; the sweep reconciles (revoke-unentitled) until a run revokes all it must. */
  private reconcilePending = false;

  constructor(private readonly options: WorldOptions) {
    this.policy = options.policy;
    this.gate = new FaultGate(options.faults);
    this.platform = new Platform(this.clock, options.consistency);
    const onIssue = (request: IssueRequest) => this.checkIssue(request);
    this.deps = {
      policy: options.policy,
      ...this.processAdapters(),
      issuers: {
        'aws-sts-session': platformIssuer(this.platform, this.gate, 'aws-sts-session', onIssue),
        'aws-iam-access-key': platformIssuer(this.platform, this.gate, 'aws-iam-access-key', onIssue),
      },
      expiry: this.scheduler(),
      rotator: this.rotator(),
      clock: this.clock,
      logger: this.logger(),
      dueTiming: FAULT_TIMING,
      // As deployed and as the local engine runs: a kill probes once and hands a proof IAM's lag delays to prove-revocation.
      handOffProofs: true,
      // A use case's wait (a leak's second look) passes no model time: the schedule moves the clock.
      sleep: async () => undefined,
    };
  }

  get now(): number {
    return this.clock.now().getTime();
  }

  /** Sends an inbound event; the bus delivers it after `delayMs`. */
  send(inbound: Inbound, delayMs = 0): void {
    this.queue.push({ inbound, due: this.now + delayMs, attempts: 0 });
  }

  /** Lets time pass, delivering, firing expiries and sweeping as it comes due. */
  async advance(ms: number): Promise<void> {
    const until = this.now + ms;
    for (;;) {
      const next = Math.min(
        ...this.queue.map((item) => item.due),
        ...this.expiries.values(),
        ...this.alertQueue.map((item) => item.due),
        this.nextSweepAt,
      );
      if (next > until) break;
      if (next > this.now) this.clock.advance(next - this.now);
      await this.runDue();
    }
    if (until > this.now) this.clock.advance(until - this.now);
  }

  /** Runs what is due now: expiries become deliveries; due deliveries run concurrently, then the sweep. */
  private async runDue(): Promise<void> {
    for (const [grantId, at] of [...this.expiries]) {
      if (at > this.now) continue;
      this.expiries.delete(grantId);
      this.send({ type: 'expire', grantId });
    }
    const due = this.queue.filter((item) => item.due <= this.now);
    for (const item of due) this.queue.splice(this.queue.indexOf(item), 1);
    await Promise.all(due.map((item) => this.deliver(item)));
    if (this.nextSweepAt <= this.now) {
      this.nextSweepAt = this.now + SWEEP_INTERVAL_MS;
      await this.gate.run(() => sweepDueGrants(this.deps));
      if (this.reconcilePending) await this.reconcile();
    }
    await this.deliverAlerts();
  }

  /**
   * The engine restarted (a deploy, on AWS) on another policy: from now on it decides by `policy`, and
   * its next sweep reconciles. Every credential alive now that holds a statement the new policy does
   * not give its scopes (judged here by equality, independently of the engine's rule) must die from now;
   * one whose issuance a crash interrupted (its grant still `issuing`: nothing judges an issuance under
   * way) from when the sweep calls that issuance stuck.
   */
  async changePolicy(policy: Policy): Promise<void> {
    this.policy = policy;
    // A restart builds its dependencies on the new file: the same engine, another policy, and nothing remembered.
    Object.assign(this.deps, { policy, ...this.processAdapters() });
    this.reconcilePending = true;
    for (const credential of this.platform.credentials) {
      const issued = this.issued.get(credential.grantId);
      if (!issued || credential.revokedAt !== undefined || credential.expiresAt <= this.now) continue;
      const agent = policy.agents[credential.agentId];
      const given = new Set(
        issued.scopes
          .filter((scope) => agent?.scopes.includes(scope))
          .flatMap((scope) => policy.scopes[scope]?.statements ?? [])
          .map((statement) => JSON.stringify(statement)),
      );
      if (!issued.statements.every((statement) => given.has(JSON.stringify(statement)))) {
        const interrupted = (await this.options.store.get(credential.grantId))?.state === 'issuing';
        this.notices.push({ grantId: credential.grantId, at: this.now + (interrupted ? FAULT_TIMING.stuckAfterMs : 0) });
      }
    }
  }

  private async reconcile(): Promise<void> {
    const { status } = await this.gate.run(async () => {
      const report = await revokeUnentitledGrants(this.deps);
      if (report.errors > 0) throw new Error(`${report.errors} unentitled grants not revoked yet`);
    });
    if (status === 'ok') this.reconcilePending = false;
  }

  private async deliver(item: Pending): Promise<void> {
    item.firstAt ??= this.now;
    item.attempts++;
    this.noteDelivery(item);
    const { status, error: failure } = await this.gate.run(() => this.handle(item.inbound));
    if (item.inbound.type === 'resume') await this.noteResume(item.inbound.agentId);
    if (status === 'ok') return;
    // At least once: the run is delivered again. A run that fails with no fault left to blame is a bug.
    if (item.attempts > this.options.faults.length + 2) {
      this.violations.push(
        `${item.inbound.type} failed ${item.attempts} times: ${failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure)}`,
      );
      return;
    }
    this.queue.push({ ...item, due: this.now + REDELIVERY_MS });
  }

  private noteDelivery(item: Pending): void {
    if (item.attempts !== 1) return;
    const inbound = item.inbound;
    if (inbound.type === 'end') this.notices.push({ grantId: grantIdFor(inbound.detail.agentId, inbound.detail.taskId), at: this.now });
    if (inbound.type === 'leak' && inbound.grantId) this.notices.push({ grantId: inbound.grantId, at: this.now });
    if (inbound.type === 'suspend' && !this.suspensions.some((period) => period.agentId === inbound.agentId && period.to === undefined)) {
      this.suspensions.push({ agentId: inbound.agentId, from: this.now });
    }
  }

  /**
   * A resume ends the suspension when its write lands, not when its run ends well: a crash
   * (its own, or another run's in the same process) can take the run down after the write,
   * and a start that follows then rightly finds the agent resumed.
   */
  private async noteResume(agentId: string): Promise<void> {
    if (!(await this.options.store.getAgent(agentId)).suspended) this.endSuspension(agentId);
  }

  private endSuspension(agentId: string): void {
    for (const period of this.suspensions) if (period.agentId === agentId && period.to === undefined) period.to = this.now;
  }

  private async handle(inbound: Inbound): Promise<unknown> {
    switch (inbound.type) {
      case 'start':
        return startTask(this.deps, inbound.detail);
      case 'end':
        return endTask(this.deps, inbound.detail);
      case 'decide':
        return decideGrant(this.deps, inbound.detail);
      case 'leak':
        return reportLeak(this.deps, inbound.report);
      case 'suspend':
        return suspendAgent(this.deps, { agentId: inbound.agentId, by: 'secops@example.com', reason: 'drill' });
      case 'resume':
        return resumeAgent(this.deps, { agentId: inbound.agentId, by: 'secops@example.com', reason: 'drill over' });
      case 'expire':
        return expireGrant(this.deps, inbound.grantId);
      case 'prove':
        return proveRevocation(this.deps, inbound.grantId);
    }
  }

  /**
   * A scanner reports what it found: the newest access key of the task's grant, or its delivery
   * secret. Only something that exists when it is reported puts the engine on notice.
   */
  leak(agentId: string, taskId: string, by: 'key' | 'secret'): Inbound {
    const grantId = grantIdFor(agentId, taskId);
    const key = this.platform.credentials.filter((credential) => credential.grantId === grantId).at(-1);
    const name = deliverySecretName(agentId, taskId);
    const credentialId = by === 'key' && key ? key.accessKeyId : name;
    const exists = by === 'key' ? key !== undefined : this.vaultItems.get(name)?.payload.status === 'issued';
    return {
      type: 'leak',
      report: { credentialId, reportedBy: 'secret-scanner', evidence: 'public gist' },
      ...(exists ? { grantId } : {}),
    };
  }

  /** The independent check at the moment a credential is about to exist: recorded first, entitled, approved. */
  private async checkIssue(request: IssueRequest): Promise<void> {
    const policy = this.policy;
    const grant = await this.options.store.get(request.grantId);
    const say = (what: string) => void this.violations.push(`issue for ${request.grantId}: ${what}`);
    if (!grant) return say('no grant recorded before the credential');
    this.issued.set(request.grantId, { scopes: grant.scopes, statements: request.statements });
    const given = new Set(grant.scopes.flatMap((scope) => policy.scopes[scope]?.statements ?? []).map((one) => JSON.stringify(one)));
    if (!request.statements.every((statement) => given.has(JSON.stringify(statement))))
      say('a statement the policy in force does not give');
    if (grant.state !== 'issuing' && !claimedWhileIssuing(grant)) say(`grant is ${grant.state}, not issuing`);
    if (this.platform.credentials.some((credential) => credential.grantId === request.grantId)) say('a second credential for one grant');
    const agent = policy.agents[grant.agentId];
    if (!agent) return say(`agent ${grant.agentId} is not registered`);
    for (const scopeName of grant.scopes) {
      const scope = policy.scopes[scopeName];
      if (!scope || !agent.scopes.includes(scopeName)) say(`scope ${scopeName} is not the agent's`);
      if (!scope) continue;
      const rule = policy.approvals[scope.action];
      if (rule.mode !== 'manual') continue;
      const valid = new Set(
        grant.approvals
          .map((approval) => approval.approver)
          .filter((person) => rule.approverGroup.includes(person) && person !== agent.owner && person !== grant.requestedBy),
      );
      if (valid.size < rule.approvers) say(`${scope.action} needs ${rule.approvers} approvals, has ${valid.size}`);
    }
    for (const approval of grant.approvals) {
      if (!this.approvalsGiven.has(`${grant.grantId} ${approval.approver}`)) say(`approval by ${approval.approver} was never given`);
    }
  }

  /** The store, vault and publisher of one engine process: the local engine's remember and share (see WorldOptions). */
  private processAdapters(): Pick<EngineDeps, 'store' | 'vault' | 'events'> {
    const store = gated(this.options.store, this.gate);
    if (!this.options.asLocalEngine) return { store, vault: this.vault(), events: this.publisher() };
    return {
      store: new RememberingGrantStore(store),
      vault: new RememberingDeliveryVault(this.vault()),
      events: new CoalescingEventPublisher(this.publisher()),
    };
  }

  private vault(): DeliveryVault {
    const items = this.vaultItems;
    const empty = this.emptyVaultItems;
    const gate = this.gate;
    const ahead: Pick<DeliveryVault, 'prepare' | 'stage'> = this.options.keyLockedVault
      ? {
          // Created with the credential before the grant is recorded active, locked after: a crash can leave it unlocked.
          stage: (delivery) =>
            gate.call('vault.stage', async () => {
              if (items.has(delivery.name) || empty.has(delivery.name)) return false;
              items.set(delivery.name, structuredClone(delivery));
              return true;
            }),
        }
      : {
          // Created empty and locked while the credential is issued: a crash can leave it so, with no value.
          prepare: (address) =>
            gate.call('vault.prepare', async () => {
              if (!items.has(address.name)) empty.set(address.name, structuredClone(address));
            }),
        };
    return {
      ...ahead,
      deliver: (delivery, ahead) =>
        gate.call('vault.deliver', async () => {
          // Prepared: the value alone is written (PutSecretValue); staged: the lock alone (PutResourcePolicy).
          // Either fails once the secret is deleted.
          if (ahead !== undefined && !items.has(delivery.name) && !empty.has(delivery.name))
            throw Object.assign(new Error(`secret ${delivery.name} not found`), { name: 'ResourceNotFoundException' });
          empty.delete(delivery.name);
          items.set(delivery.name, structuredClone(delivery));
        }),
      read: (name) => gate.call('vault.read', async () => structuredClone(items.get(name)?.payload)),
      // One external call for many deliveries, as BatchGetSecretValue: the kill switch's batched path under the same faults.
      readMany: (names) =>
        gate.call('vault.readMany', async () => new Map(names.map((name) => [name, structuredClone(items.get(name)?.payload)] as const))),
      destroy: (name) =>
        gate.call('vault.destroy', async () => {
          items.delete(name);
          empty.delete(name);
        }),
      async *listDeliveries() {
        for (const delivery of [...items.values(), ...empty.values()]) yield { name: delivery.name, grantId: delivery.grantId };
      },
    };
  }

  private publisher(): EventPublisher {
    return {
      publish: (events) =>
        events.length === 0
          ? Promise.resolve()
          : this.gate.call('events.publish', async () => {
              this.published.push(...structuredClone(events));
              for (const event of events) this.alertQueue.push({ event, due: this.now });
              // The prove-revocation route (routes.ts): the engine's own event, delivered at least once like any other.
              for (const event of events) {
                if (event.detailType !== 'Grant Revoked' || event.detail.proof !== PROOF_PENDING) continue;
                this.proofsHandedOn++;
                this.send({ type: 'prove', grantId: event.detail.grantId });
              }
            }),
    };
  }

  private scheduler(): ExpiryScheduler {
    return {
      scheduleExpiry: (grantId, at) => this.gate.call('expiry.schedule', async () => void this.expiries.set(grantId, at.getTime())),
      cancelExpiry: (grantId) => this.gate.call('expiry.cancel', async () => void this.expiries.delete(grantId)),
    };
  }

  private rotator(): SecretRotator {
    return { rotate: () => this.gate.call('rotator.rotate', async () => 'rotated' as const) };
  }

  private logger(): EngineLogger {
    const keep = (level: string) => (message: string, extra?: Record<string, unknown>) =>
      void this.logs.push(JSON.stringify({ level, message, ...extra }));
    return { info: keep('info'), warn: keep('warn'), error: keep('error') };
  }

  /** The alerts rule: each event to Slack; while Slack is down the alert fails and is retried. */
  private async deliverAlerts(): Promise<void> {
    const due = this.alertQueue.filter((item) => item.due <= this.now);
    for (const item of due) this.alertQueue.splice(this.alertQueue.indexOf(item), 1);
    const slackDown = this.now < START + this.options.slackDownForMs;
    // The real wording (SlackNotifier) over a transport that is down, or keeps what Slack would show.
    const notifier = new SlackNotifier({
      notify: async (message: SlackMessage) => {
        if (slackDown) return { ok: false as const, error: 'Slack answered 503', attempts: 3 };
        this.alerts.push(message);
        return { ok: true as const, refs: [] };
      },
    });
    for (const item of due) {
      const outcome = await sendAlert({ notifier, ...this.slack }, item.event as AlertEvent);
      if (outcome.outcome === 'failed') this.alertQueue.push({ event: item.event, due: this.now + REDELIVERY_MS });
    }
  }

  /** Alerts still waiting for Slack. */
  get undeliveredAlerts(): number {
    return this.alertQueue.length;
  }

  /** Deliveries still queued (a settled world has none). */
  get pendingDeliveries(): number {
    return this.queue.length;
  }

  /** Gives `person`'s decision on the task's grant, as the authenticated decision path would. */
  decide(agentId: string, taskId: string, person: string, decision: 'approve' | 'deny', delayMs = 0): void {
    const grantId = grantIdFor(agentId, taskId);
    if (decision === 'approve') this.approvalsGiven.add(`${grantId} ${person}`);
    this.send({ type: 'decide', detail: { grantId, decision, approver: person, reason: 'fault drill' } }, delayMs);
  }
}

/** The store with every method through the gate. */
function gated(store: GrantStore, gate: FaultGate): GrantStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => gate.call(`store.${String(property)}`, () => value.apply(target, args));
    },
  });
}

/**
 * A revocation (Task Ended, a suspension, a leak) claimed the grant while it was being issued,
 * before any credential was recorded: the claim is a write, and issuing is a call the store cannot
 * condition, so the two can always cross. The issuer's own version-checked `active` write then
 * fails and it revokes what it made (issue-grant.ts), which the settled invariants check. Anything
 * else at this moment (pending, denied, active, a credential recorded) is still a violation.
 */
function claimedWhileIssuing(grant: Grant): boolean {
  return grant.credential === undefined && grant.audit.some((entry) => entry.from === 'issuing' && entry.to === 'revoking');
}
