// Domain: the grant and its state machine (docs/contract.md §3). Every change goes through
// `transition`, which checks the move is allowed and appends to the hash-linked audit chain.
import { nextAuditEntry, verifyChain, type AuditEntry, type ChainVerdict } from './audit';
import { IllegalTransitionError } from './errors';
import type { ActionClass, CredentialKind } from './policy';
import type { ScopeDigests } from './scope-digests';

export const GRANT_STATES = [
  'requested',
  'pending_approval',
  'issuing',
  'active',
  'revoking',
  'revoked',
  'verified',
  'denied',
  'failed',
] as const;
export type GrantState = (typeof GRANT_STATES)[number];

export const REVOCATION_TRIGGERS = ['task_ended', 'expired', 'leaked', 'suspended', 'manual'] as const;
export type RevocationTrigger = (typeof REVOCATION_TRIGGERS)[number];

/** States in which a credential may exist and must eventually be revoked. */
export const LIVE_STATES: readonly GrantState[] = ['requested', 'pending_approval', 'issuing', 'active', 'revoking'];
/** States that end the story: nothing left to do but keep the record. */
export const FINAL_STATES: readonly GrantState[] = ['verified', 'denied', 'failed'];

const ALLOWED: Readonly<Record<GrantState, readonly GrantState[]>> = {
  requested: ['pending_approval', 'issuing', 'denied'],
  pending_approval: ['issuing', 'denied'],
  issuing: ['active', 'revoking', 'failed'],
  active: ['revoking'],
  // A revocation that did not take effect goes back to revoking (the sweep re-revokes).
  revoking: ['revoked', 'failed'],
  revoked: ['verified', 'revoking'],
  verified: [],
  denied: [],
  failed: [],
};

export function canTransition(from: GrantState, to: GrantState): boolean {
  return ALLOWED[from].includes(to);
}

export interface Approval {
  readonly approver: string;
  readonly at: string;
  readonly reason: string;
}

/** Identifies the credential without carrying any secret: safe in logs, events and alerts. */
export interface CredentialRef {
  readonly kind: CredentialKind;
  readonly accessKeyId: string;
  readonly principalArn: string;
  readonly expiresAt: string;
}

export interface BrokeredSecret {
  readonly arn: string;
  readonly rotateAfterUse: boolean;
}

export interface Revocation {
  readonly trigger: RevocationTrigger;
  /** When the engine was told the credential must die: the clock for "still valid after notice". */
  readonly noticeAt: string;
  readonly by: string;
  readonly reason: string;
}

export interface Grant {
  readonly grantId: string;
  readonly taskId: string;
  readonly agentId: string;
  readonly state: GrantState;
  /** Incremented on every write: the store's conditions compare it. */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly policyVersion: string;
  readonly requestedBy?: string;
  readonly purpose?: string;
  readonly owner?: string;
  readonly scopes: readonly string[];
  /**
   * Each held scope's statements as the policy defined them when the grant was decided (held for
   * approval, then again when approved and issued): a scope later narrowed under the same name
   * revokes the grant. Absent on grants written before session 9: judged by scope name only.
   */
  readonly scopeDigests?: ScopeDigests;
  readonly actionClasses: readonly ActionClass[];
  readonly credentialKind?: CredentialKind;
  /** The account the credential comes from (the scope's, else the agent's); absent = the engine's own. */
  readonly account?: string;
  readonly ttlSeconds?: number;
  readonly context?: Readonly<Record<string, unknown>>;
  /** Approvals still needed, and who may give them (empty for auto-approved grants). */
  readonly requiredApprovals: number;
  readonly eligibleApprovers: readonly string[];
  readonly approvals: readonly Approval[];
  readonly approvalDeadline?: string;
  readonly brokeredSecrets: readonly BrokeredSecret[];
  readonly deliverySecret?: string;
  readonly credential?: CredentialRef;
  readonly expiresAt?: string;
  readonly revocation?: Revocation;
  readonly revokedAt?: string;
  readonly verifiedAt?: string;
  /** When to read the platform's record of calls again for use after revocation (CloudTrail lags). */
  readonly misuseCheckAt?: string;
  /** How far that record has been read: calls up to here were checked for use after revocation. */
  readonly useReadThrough?: string;
  readonly reason?: string;
  readonly systemsTouched?: readonly string[];
  /** True when a `Task Ended` arrived before its `Task Started`: the task may never issue. */
  readonly endedBeforeStart?: boolean;
  /** Which of its agent's concurrency slots the grant holds while live (see GrantStore.openHoldingSlot). */
  readonly concurrencySlot?: number;
  readonly audit: readonly AuditEntry[];
}

export interface TransitionInput {
  readonly to: GrantState;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly reason?: string;
  readonly detail?: Readonly<Record<string, unknown>>;
  readonly changes?: Partial<Omit<Grant, 'grantId' | 'taskId' | 'agentId' | 'state' | 'version' | 'audit'>>;
}

/** Moves a grant to a new state, recording who, what, when and why in its audit chain. */
export function transition(grant: Grant, input: TransitionInput): Grant {
  if (!canTransition(grant.state, input.to)) {
    throw new IllegalTransitionError(`grant ${grant.grantId} cannot go from ${grant.state} to ${input.to}`);
  }
  return record({ ...grant, ...input.changes, state: input.to }, grant, input);
}

/** Records an event that changes no state (a refused decision, a duplicate, an approval). */
export function note(grant: Grant, input: Omit<TransitionInput, 'to'>): Grant {
  return record({ ...grant, ...input.changes }, grant, { ...input, to: grant.state });
}

/**
 * A bookkeeping write that is no event in the grant's life (a due time moved on, a cleared
 * delivery): the version moves so the store's condition holds, the audit chain does not.
 */
export function bump(grant: Grant, at: string, changes: TransitionInput['changes'] = {}): Grant {
  return { ...grant, ...changes, version: grant.version + 1, updatedAt: at };
}

function record(next: Grant, previous: Grant, input: TransitionInput): Grant {
  const entry = nextAuditEntry(previous.grantId, previous.audit.at(-1), {
    at: input.at,
    actor: input.actor,
    action: input.action,
    ...(previous.state !== input.to ? { from: previous.state, to: input.to } : {}),
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
    policyVersion: next.policyVersion,
    ...(input.detail !== undefined ? { detail: input.detail } : {}),
  });
  return { ...next, version: previous.version + 1, updatedAt: input.at, audit: [...previous.audit, entry] };
}

export const ENGINE_ACTOR = 'taskbound';

export interface GrantOpening {
  readonly grantId: string;
  readonly taskId: string;
  readonly agentId: string;
  readonly at: string;
  readonly actor: string;
  readonly policyVersion: string;
  readonly scopes: readonly string[];
  readonly purpose?: string;
  readonly requestedBy?: string;
  readonly owner?: string;
  readonly ttlSeconds?: number;
  readonly context?: Readonly<Record<string, unknown>>;
  readonly action?: string;
  readonly reason?: string;
}

/** A new grant in `requested`, its audit chain opened with who asked and for what. */
export function openGrant(opening: GrantOpening): Grant {
  const blank: Grant = {
    grantId: opening.grantId,
    taskId: opening.taskId,
    agentId: opening.agentId,
    state: 'requested',
    version: 0,
    createdAt: opening.at,
    updatedAt: opening.at,
    policyVersion: opening.policyVersion,
    scopes: opening.scopes,
    actionClasses: [],
    requiredApprovals: 0,
    eligibleApprovers: [],
    approvals: [],
    brokeredSecrets: [],
    audit: [],
    ...(opening.purpose !== undefined ? { purpose: opening.purpose } : {}),
    ...(opening.requestedBy !== undefined ? { requestedBy: opening.requestedBy } : {}),
    ...(opening.owner !== undefined ? { owner: opening.owner } : {}),
    ...(opening.ttlSeconds !== undefined ? { ttlSeconds: opening.ttlSeconds } : {}),
    ...(opening.context !== undefined ? { context: opening.context } : {}),
  };
  return note(blank, {
    at: opening.at,
    actor: opening.actor,
    action: opening.action ?? 'requested',
    ...(opening.reason !== undefined ? { reason: opening.reason } : {}),
    detail: {
      scopes: opening.scopes,
      ...(opening.purpose ? { purpose: opening.purpose } : {}),
      ...(opening.ttlSeconds ? { ttlSeconds: opening.ttlSeconds } : {}),
    },
  });
}

/**
 * A grant as read from a store anyone with write access can edit: one whose audit chain was
 * removed reads as one with no entries, which verifyGrantAudit reports, instead of crashing
 * every reader of `audit` (the report, the digest, the CLI's evidence commands).
 */
export function withReadableAudit(grant: Grant): Grant {
  const audit: unknown = grant.audit;
  return Array.isArray(audit) ? grant : { ...grant, audit: [] };
}

/** The state a chain's entries lead to: the last move recorded, else the state every grant opens in. */
function stateOfChain(chain: readonly AuditEntry[]): string {
  return chain.findLast((entry) => entry.to !== undefined)?.to ?? 'requested';
}

/**
 * Verifies a grant's audit chain and that it is the whole story of the grant: hashes alone
 * cannot show entries cut from the end (or all of them), so the chain must open with the
 * grant's request and lead to the state the grant is in.
 */
export function verifyGrantAudit(grant: Grant): ChainVerdict {
  const chain: unknown = grant.audit;
  if (!Array.isArray(chain) || chain.length === 0)
    return { ok: false, brokenAt: 0, why: 'the grant has no audit entries: its chain was deleted' };
  const hashes = verifyChain(grant.grantId, grant.audit);
  if (!hashes.ok) return hashes;
  const opening = grant.audit[0];
  if (opening?.from !== undefined)
    return {
      ok: false,
      brokenAt: 0,
      why: `entry 0 is not the grant's opening (it records a move from ${opening.from}): earlier entries were deleted`,
    };
  const reached = stateOfChain(grant.audit);
  if (reached !== grant.state)
    return {
      ok: false,
      brokenAt: grant.audit.length,
      why: `the chain ends in ${reached} but the grant is ${grant.state}: entries after entry ${grant.audit.length - 1} were deleted, or the state was edited`,
    };
  // Who asked and who approved are shown from the record; the chain is what the hashes cover.
  const edited = (why: string): ChainVerdict => ({ ok: false, brokenAt: grant.audit.length, why: `${why}: the grant's record was edited` });
  if (grant.requestedBy !== undefined && !grant.audit.some((entry) => entry.actor === grant.requestedBy))
    return edited(`the grant names ${grant.requestedBy} as requester, and no entry does`);
  const unrecorded = grant.approvals.find(
    (approval) =>
      !grant.audit.some((entry) => entry.action === 'approved' && entry.actor === approval.approver && entry.at === approval.at),
  );
  if (unrecorded) return edited(`the grant lists an approval by ${unrecorded.approver} at ${unrecorded.at}, and no entry does`);
  return { ok: true };
}
