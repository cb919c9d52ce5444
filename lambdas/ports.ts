// Ports: what the use cases need from the outside world, in the domain's words.
// One adapter per port per platform (aws/, local/, slack/); tests pass in-memory fakes.
import type { Grant, GrantState } from './domain/grant';
import type { CredentialKind, PolicyStatement } from './domain/policy';
import type { OutboundEvent } from './domain/events';
import type { RecordedCall } from './domain/use-after-revocation';
import type { DeliveryPayload } from './domain/delivery';
import type { AlertEvent, GrantAlertDetail } from './domain/alert-event';
import type { EngineAlarm } from './domain/engine-alarm';
import type { AgentStanding, GovernanceReport, Suspension } from './domain/report';

/** The time, as a parameter: the domain never reads a clock. */
export interface Clock {
  now(): Date;
}

/** Outcome of a conditional write: expected races are values, not exceptions. */
export type WriteOutcome = { readonly ok: true; readonly grant: Grant } | { readonly ok: false; readonly current?: Grant };

/** One grant's conditional write: `next` replaces `previous` if the store still holds `previous.version`. */
export interface GrantWrite {
  readonly previous: Grant;
  readonly next: Grant;
}

/** An agent's standing as the store keeps it (the kill switch): the report's `AgentStanding`, one shape for both. */
export type AgentRecord = AgentStanding;

/** What `recordSuspension` did: suspended the agent, or recorded a repeat of the suspension in force since `inForceSince`. */
export type SuspensionRecorded = { readonly outcome: 'suspended' } | { readonly outcome: 'repeated'; readonly inForceSince?: string };

export interface DueGrantsPage {
  readonly grants: readonly Grant[];
  /** Items the store read to find them: the sweep's cost. */
  readonly itemsRead: number;
}

/** Grants, agents and refused events, with every change a conditional write. */
export interface GrantStore {
  get(grantId: string): Promise<Grant | undefined>;
  /**
   * The grant as this process last wrote or read it, without a call, if it still remembers it (the
   * local engine, whose functions share one process). It may be stale, so it is only a first guess
   * for a write conditioned on the stored version.
   */
  recent?(grantId: string): Grant | undefined;
  /** Creates the grant unless one with its id exists; then returns the existing one. */
  create(grant: Grant): Promise<{ readonly created: true; readonly grant: Grant } | { readonly created: false; readonly existing: Grant }>;
  /**
   * Replaces `previous` with `next` only if the stored grant is still at `previous.version`. Moving
   * it out of the live states gives its concurrency slot back in the same atomic write.
   */
  update(previous: Grant, next: Grant): Promise<WriteOutcome>;
  /**
   * Many grants' `update`s in as few calls as the store allows (the kill switch closes hundreds at
   * once). Each write keeps its own condition and settles on its own, in order: one refused or
   * failed write never costs another its write, nor hides its outcome.
   */
  updateAll(writes: readonly GrantWrite[]): Promise<readonly PromiseSettledResult<WriteOutcome>[]>;
  /**
   * Grants whose credential should be dead, or whose state is overdue, as of `now`. With `shard`,
   * only that shard of the due index (0 ≤ shard < `dueShards`): one reader of the expiry fan-out.
   */
  dueGrants(now: Date, limit?: number, options?: { readonly shard?: number }): Promise<DueGrantsPage>;
  /** How many shards the due index has: the expiry fan-out runs one reader per shard. */
  readonly dueShards?: number;
  /** Grants of an agent, newest first; `liveOnly` keeps those that may hold a credential. */
  grantsOfAgent(agentId: string, options?: { readonly liveOnly?: boolean }): Promise<readonly Grant[]>;
  /** All grants, optionally in one state, newest first (CLI listing and reports). */
  listGrants(options?: { readonly state?: GrantState; readonly since?: Date; readonly limit?: number }): Promise<readonly Grant[]>;
  /** Every live grant of every agent, newest first: a Scan of the sparse live index (CLI inventory, never the engine's path). */
  liveGrants(): Promise<readonly Grant[]>;
  findByCredentialId(credentialId: string): Promise<Grant | undefined>;
  countLiveGrants(agentId: string): Promise<number>;
  /**
   * Opens a grant that holds one of its agent's `max` concurrency slots, in one atomic write: the
   * slot is taken only if free, the grant written only if new, and both only while the agent is
   * not suspended. A suspension written before it refuses it; one written after it finds the grant
   * among the agent's live grants. `open(slot)` is the grant as opened holding that slot.
   * Concurrent callers can never hold more than `max` slots between them.
   */
  openHoldingSlot(agentId: string, max: number, open: (slot: number) => Grant, at: string): Promise<SlotOpening>;
  /** Frees the grant's slot, if it holds one; a slot taken over by another grant is left alone. */
  releaseSlot(agentId: string, grantId: string, slot?: number): Promise<void>;
  /** The agent's taken slots, for the sweep's reconciliation. */
  slotHolders(agentId: string): Promise<readonly SlotHolder[]>;
  getAgent(agentId: string): Promise<AgentRecord>;
  putAgent(agent: AgentRecord): Promise<void>;
  /**
   * Records a kill switch, conditionally: an agent not suspended is suspended by it (`suspended`);
   * one already suspended keeps the suspension in force (its by, reason and at) and has this one
   * recorded as its latest repeat, its repeat count one more (`repeated`). Never a mix of the two.
   */
  recordSuspension(suspension: Suspension): Promise<SuspensionRecorded>;
  /**
   * Writes `agent` (a resumed standing) only if the agent is still suspended by the suspension made
   * at `suspendedAt`, repeated `repeatsSeen` times: a suspension written since, or a repeat of it
   * (a second kill switch), is never undone by a resume decided before it. False when the standing changed.
   */
  liftSuspension(agent: AgentRecord, suspendedAt: string, repeatsSeen?: number): Promise<boolean>;
  /** Keeps an event that named no agent and task: the dead-letter entry of docs/contract.md §1. */
  recordRejectedEvent(entry: RejectedEvent): Promise<void>;
}

/** How opening a grant with a slot ended: refused by the agent's standing or its full slots, or the grant existed. */
export type SlotOpening =
  | { readonly outcome: 'opened'; readonly grant: Grant }
  | { readonly outcome: 'exists'; readonly existing: Grant }
  | { readonly outcome: 'suspended' }
  | { readonly outcome: 'full'; readonly held: number };

export interface SlotHolder {
  readonly slot: number;
  readonly grantId: string;
  readonly reservedAt: string;
}

export interface RejectedEvent {
  readonly at: string;
  readonly detailType: string;
  readonly source: string;
  readonly reason: string;
  readonly eventId?: string;
  /** The event as received, truncated; inbound events never carry credentials. */
  readonly excerpt: string;
}

/** Secret material. It exists only between issuer and vault, and in the probe. */
export interface CredentialMaterial {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface IssueRequest {
  readonly grantId: string;
  readonly taskId: string;
  readonly agentId: string;
  readonly kind: CredentialKind;
  /** The account the credential comes from (a spoke); absent = the engine's own. */
  readonly account?: string;
  readonly statements: readonly PolicyStatement[];
  readonly brokeredSecretArns: readonly string[];
  readonly ttlSeconds: number;
  readonly expiresAt: Date;
}

export interface IssuedCredential extends CredentialMaterial {
  readonly kind: CredentialKind;
  readonly principalArn: string;
  readonly expiresAt: Date;
}

/** What to revoke: everything is derivable from the grant, even if issuance crashed midway. */
export interface RevokeTarget {
  readonly grantId: string;
  readonly agentId: string;
  readonly taskId: string;
  readonly kind: CredentialKind;
  /** The account the credential lives in; absent = the engine's own. */
  readonly account?: string;
  readonly accessKeyId?: string;
  readonly expiresAt?: Date;
  /** When the credential was recorded issued, if it was (eventually consistent platforms care). */
  readonly issuedAt?: Date;
}

export type RevokeOutcome = 'revoked' | 'already-revoked';

/**
 * The kill switch's one step for a whole agent: every credential of the issuer's kind that the
 * agent's grants recorded as issued before `issuedBefore` dies at once, however many there are.
 */
export interface AgentRevocation {
  readonly agentId: string;
  /** The account whose credentials die; absent = the engine's own. */
  readonly account?: string;
  /** A grant whose `issued` audit entry is earlier than this is covered. */
  readonly issuedBefore: Date;
}

export type ProbeVerdict =
  /** `observed`: a call made with the credential was refused (not inferred from the platform's state). */
  | { readonly verdict: 'rejected'; readonly code: string; readonly observed?: boolean }
  | { readonly verdict: 'accepted' }
  | { readonly verdict: 'unknown'; readonly why: string };

/** How long a verification may wait for the platform to stop honouring a revoked credential. */
export type ProbePatience = 'until-refused' | 'one-probe';

/** Issues, revokes and checks one kind of credential. */
export interface CredentialIssuer {
  issue(request: IssueRequest): Promise<IssuedCredential>;
  revoke(target: RevokeTarget): Promise<RevokeOutcome>;
  /**
   * Probes whether the credential still works; `material` is the delivered credential when still at hand.
   * `patience`: `until-refused` (the default) probes again while the platform forgets it (IAM takes seconds);
   * `one-probe` answers after one call, for a revocation that hands its proof on (ProbePatience).
   */
  verify(target: RevokeTarget, material: CredentialMaterial | undefined, patience?: ProbePatience): Promise<ProbeVerdict>;
  /**
   * Revokes every credential `revocation` covers in one step (STS sessions: one deny on the
   * agent's role for sessions issued before then). Afterwards `revoke` and `verify` of a covered
   * grant see it revoked. Absent where credentials can only die one by one (a user per access key).
   */
  revokeAgent?(revocation: AgentRevocation): Promise<void>;
  /**
   * The first moment (engine clock) at which a credential issued passes the agent-wide step taken
   * for `issuedBefore`. Later than it where that step reaches past the notice (STS sessions: the
   * deny allows for STS's clock), so a resume before then would hand the agent credentials its kill
   * switch still refuses. Absent where the step covers exactly what was issued before.
   */
  admitsIssuesFrom?(issuedBefore: Date): Date;
  /**
   * Grants that have a credential on the platform right now, for orphan reconciliation.
   * Absent where credentials cannot be listed (STS sessions): there the grant is written
   * before the credential exists, so none can exist unrecorded.
   */
  listIssued?(): AsyncIterable<{ readonly grantId: string; readonly credentialId?: string; readonly account?: string }>;
}

/**
 * The platform's record of the calls made with a credential (CloudTrail), which arrives
 * minutes late: what was called, when and from where, for both access keys and sessions.
 */
export interface CredentialUseLog {
  /**
   * Calls made with this access key id between `from` and `to`, inclusive, as recorded in
   * `account` (the grant's; absent = the engine's own): a spoke's calls are in its own record.
   */
  callsWith(accessKeyId: string, from: Date, to: Date, account?: string): Promise<readonly RecordedCall[]>;
}

export type Issuers = Readonly<Record<CredentialKind, CredentialIssuer>>;

/** The JSON a runtime reads from its delivery secret (docs/contract.md §5). */
/** What a runtime reads (docs/contract.md §5): typed from the schema the runtime SDK parses it with. */
export type { DeliveryPayload };

export interface Delivery {
  readonly name: string;
  readonly grantId: string;
  readonly agentId: string;
  readonly taskId: string;
  /** Only this principal may read the secret. */
  readonly readerArn: string;
  readonly expiresAt?: string;
  readonly payload: DeliveryPayload;
}

/** Where a delivery goes and who may read it: known once the engine decides, before any value exists. */
export type DeliveryAddress = Omit<Delivery, 'payload'>;

/**
 * What was done already for a delivery's secret: prepared (empty, locked), staged (its value in,
 * not yet locked), or found existing by `stage` (to be re-tagged, locked and written, not created).
 */
export type DoneAheadOfDelivery = 'prepared' | 'staged' | 'existing';

/** Delivers a task's status and credential to its runtime, readable by it alone. */
export interface DeliveryVault {
  /**
   * Creates the delivery secret without a value (or adopts the one already there) and locks it to
   * its reader, so that a later `deliver(..., 'prepared')` has only the value left to
   * write. Idempotent. Left out by a vault with nothing to set up before the value (dynamodb-kms).
   */
  prepare?(address: DeliveryAddress): Promise<void>;
  /**
   * Creates the delivery secret with its value where the platform's key already admits only its
   * reader and the engine (the stack's delivery key), before anything else may read it: the
   * engine stages a credential before it records the grant `active`, so a revoker that claims the
   * grant later deletes what was staged. True when it created the secret; false when one existed,
   * left as it was (no value written). Left out by a vault whose value needs its lock first.
   */
  stage?(delivery: Delivery): Promise<boolean>;
  /**
   * Creates or overwrites the delivery secret. `prepared`: `prepare` resolved for this address, so
   * only the value is written; `staged`: `stage` created it with this very delivery, so only its
   * lock is left to set; `existing`: `stage` found it there, so it is not created again.
   */
  deliver(delivery: Delivery, ahead?: DoneAheadOfDelivery): Promise<void>;
  read(name: string): Promise<DeliveryPayload | undefined>;
  /**
   * Many deliveries in as few calls as the platform allows (the kill switch reads a thousand).
   * Each name answered maps to what `read` would return; a name left out (an error other than
   * absent) is for the caller to `read` on its own. Absent when the platform has no batch read.
   */
  readMany?(names: readonly string[]): Promise<ReadonlyMap<string, DeliveryPayload | undefined>>;
  /** Deletes without recovery; absent already counts as done. */
  destroy(name: string): Promise<void>;
  /** Delivery secrets that exist, for orphan reconciliation. */
  listDeliveries(): AsyncIterable<{ readonly name: string; readonly grantId?: string }>;
}

/** Rotates brokered secrets a task could read, once the task is over. */
export interface SecretRotator {
  rotate(secretArn: string): Promise<'rotated' | 'already-rotating'>;
}

export interface EventPublisher {
  publish(events: readonly OutboundEvent[]): Promise<void>;
}

/** Fires a grant's expiry at its expiry time. */
export interface ExpiryScheduler {
  scheduleExpiry(grantId: string, at: Date): Promise<void>;
  cancelExpiry(grantId: string): Promise<void>;
}

// Alerts: what people are told, and where the approval requests they act on live.

/** Where a posted message lives, so it can be edited to show an outcome. */
export interface MessageRef {
  readonly channel: string;
  readonly ts: string;
}

/** A delivery is a value: the caller decides what an undelivered alert means (it throws). */
export type DeliveryResult =
  { readonly ok: true; readonly refs: readonly MessageRef[] } | { readonly ok: false; readonly error: string; readonly attempts: number };

/** How far an approval request has got. */
export type ApprovalProgress =
  | { readonly kind: 'waiting'; readonly approvedBy: readonly string[] }
  | { readonly kind: 'issued'; readonly approvedBy: readonly string[]; readonly expiresAt?: string }
  | { readonly kind: 'denied'; readonly reason: string };

/** What to tell people: an alert, or an approval request in its current state. The notifier words it. */
export type AlertMessage =
  | { readonly kind: 'alert'; readonly event: AlertEvent }
  | { readonly kind: 'approval-request'; readonly request: GrantAlertDetail; readonly progress: ApprovalProgress }
  /** The engine's own health: a CloudWatch alarm changed state. */
  | { readonly kind: 'engine-alarm'; readonly alarm: EngineAlarm }
  /** Routine events summarised: the governance report of the last `hours`. */
  | { readonly kind: 'digest'; readonly report: GovernanceReport; readonly hours: number };

/** Tells people (Slack, or the console locally). Never given a secret: alerts carry identifiers only. */
export interface Notifier {
  /** Posts to each channel; a webhook posts once, to the channel it was created for. */
  notify(message: AlertMessage, channels: readonly string[]): Promise<DeliveryResult>;
  /** Replaces earlier messages in place; absent when the transport cannot edit. */
  update?(refs: readonly MessageRef[], message: AlertMessage): Promise<DeliveryResult>;
}

/** An approval request as posted: where it is, what it asked, who has approved so far. */
export interface ApprovalThread {
  readonly refs: readonly MessageRef[];
  /** The `Grant Pending Approval` detail that opened it: identifiers and text, no secret. */
  readonly request: Readonly<Record<string, unknown>>;
  readonly approvedBy: readonly string[];
}

/** Remembers each grant's approval request, so its outcome can replace it in place. */
export interface ApprovalMessages {
  get(grantId: string): Promise<ApprovalThread | undefined>;
  put(grantId: string, thread: ApprovalThread): Promise<void>;
}
