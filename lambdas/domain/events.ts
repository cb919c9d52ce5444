// Domain: the event contract (docs/contract.md §1-§2). Inbound schemas validate every field;
// outbound events carry identifiers and reasons, never secret material.
import * as z from 'zod';
import { AGENT_ID_PATTERN, GRANT_ID_PATTERN, SCOPE_NAME_PATTERN, TASK_ID_PATTERN } from './ids';
import { DECEPTIVE, DECEPTIVE_REASON, mixesLookalikeScripts, safeText } from './text';
import { redactSecretShapes } from './secret-shapes';
import { taskContextSchema } from './task-context';
import { ttlSecondsSchema } from './ttl';
import type { GrantState, RevocationTrigger } from './grant';

const taskId = z.string().regex(TASK_ID_PATTERN, 'taskId is 1-128 of A-Za-z0-9._:-');
const agentId = z.string().min(1).max(64).regex(AGENT_ID_PATTERN, 'agentId is lower-case letters, digits and dashes');
// Free text people write may hold a secret pasted in ("key wJalr… seen in a log"): it is redacted
// on the way in, so the grant record, its audit chain, its events and Slack never hold it, and the
// publisher's last check never has to refuse an event (and so hide a grant's whole story) for it.
const principal = safeText(z.string().trim().min(1).max(256))
  .refine((value) => !DECEPTIVE.test(value), DECEPTIVE_REASON)
  .refine((value) => !mixesLookalikeScripts(value), 'must not mix look-alike alphabets (Latin, Cyrillic, Greek…) in one word')
  .transform(redactSecretShapes);
const reason = safeText(z.string().trim().min(1).max(1024)).transform(redactSecretShapes);

export const taskStartedSchema = z.strictObject({
  taskId,
  agentId,
  purpose: safeText(z.string().trim().min(1).max(1024)).transform(redactSecretShapes),
  requestedBy: principal,
  scopes: z.array(z.string().regex(SCOPE_NAME_PATTERN, 'scope names are lower-case letters, digits and dashes')).min(1).max(10),
  ttlSeconds: ttlSecondsSchema("; the agent's maxTtlSeconds in the policy may allow less").optional(),
  context: taskContextSchema.optional(),
});
export type TaskStarted = z.infer<typeof taskStartedSchema>;

/**
 * How a refused `Task Started` named its requester: `unverified` when its `requestedBy` met the
 * rule every requester meets (and is carried, redacted like any), since the event around it was
 * refused; `not given` or `invalid in the event` when it did not, and then no text of it is kept.
 */
export const REQUESTER_STATUSES = ['unverified', 'not given', 'invalid in the event'] as const;
export type RequesterStatus = (typeof REQUESTER_STATUSES)[number];

/** What a refused `Task Started`'s detail says of its requester, as `Grant Denied` carries it. */
export function requesterOfRefusedStart(detail: unknown): {
  readonly requestedBy?: string;
  readonly requestedByStatus: RequesterStatus;
} {
  const claimed = detail && typeof detail === 'object' ? (detail as Record<string, unknown>).requestedBy : undefined;
  if (claimed === undefined) return { requestedByStatus: 'not given' };
  const parsed = principal.safeParse(claimed);
  return parsed.success ? { requestedBy: parsed.data, requestedByStatus: 'unverified' } : { requestedByStatus: 'invalid in the event' };
}

export const taskEndedSchema = z.strictObject({
  taskId,
  agentId,
  outcome: z.enum(['succeeded', 'failed', 'cancelled']),
  systemsTouched: z
    .array(safeText(z.string().min(1).max(512)))
    .max(100)
    .optional(),
});
export type TaskEnded = z.infer<typeof taskEndedSchema>;

/**
 * A decision as decide-grant takes it. `approver` is the person the engine authenticated (the
 * operator endpoint, Slack), never a field read from an event: a `Grant Decision` on the bus is
 * refused whatever it holds (use-cases/refuse-bus-decision.ts).
 */
export const grantDecisionSchema = z
  .strictObject({
    grantId: z.string().regex(GRANT_ID_PATTERN, 'grantId looks like g-<26 letters or digits>').optional(),
    agentId: agentId.optional(),
    taskId: taskId.optional(),
    decision: z.enum(['approve', 'deny']),
    approver: principal,
    reason,
  })
  .refine((value) => value.grantId !== undefined || (value.agentId !== undefined && value.taskId !== undefined), {
    message: 'name the grant: grantId, or agentId and taskId',
  });
export type GrantDecision = z.infer<typeof grantDecisionSchema>;

export const credentialLeakedSchema = z.strictObject({
  credentialId: z.string().trim().min(1).max(2048),
  reportedBy: principal,
  evidence: safeText(z.string().max(4096)).optional(),
});
export type CredentialLeaked = z.infer<typeof credentialLeakedSchema>;

/** The AWS Health event AWS sends when it finds an access key exposed in public. */
export const healthExposureSchema = z.looseObject({
  eventTypeCode: z.literal('AWS_RISK_CREDENTIALS_EXPOSED'),
  affectedEntities: z.array(z.looseObject({ entityValue: z.string().min(1).max(128) })).min(1),
});

export const agentStatusSchema = z.strictObject({ agentId, by: principal, reason });
export type AgentStatusChange = z.infer<typeof agentStatusSchema>;

/** `Grant Revoked`'s `proof` when the revoking function handed the proof of death on (use-cases/revoke-grant.ts). */
export const PROOF_PENDING = 'pending';

/**
 * The engine's own `Grant Revoked` whose proof of death was handed on (`proof: pending`): only the
 * grant id is read, and the grant itself decides (a forged or repeated one proves nothing new).
 */
export const proofPendingSchema = z.looseObject({
  grantId: z.string().regex(GRANT_ID_PATTERN),
  proof: z.literal(PROOF_PENDING),
});

export const manualRevokeSchema = z.strictObject({
  grantId: z.string().regex(GRANT_ID_PATTERN),
  by: principal,
  reason,
});

/** Inbound detail-types the engine consumes (docs/contract.md §1, plus the CLI's own requests). */
export const INBOUND = {
  taskStarted: 'Task Started',
  taskEnded: 'Task Ended',
  grantDecision: 'Grant Decision',
  credentialLeaked: 'Credential Leaked',
  agentSuspended: 'Agent Suspended',
  agentResumed: 'Agent Resumed',
  revokeRequested: 'Grant Revocation Requested',
  sweepRequested: 'Sweep Requested',
  healthEvent: 'AWS Health Event',
} as const;

export const OUTBOUND_TYPES = [
  'Grant Requested',
  'Grant Pending Approval',
  'Grant Issued',
  'Grant Denied',
  'Grant Revoked',
  'Revocation Verified',
  'Revocation Failed',
  'Credential Still Valid',
  'Credential Used After Revocation',
  'Orphan Credential Found',
  // Beyond docs/contract.md §2: a Grant Decision that was refused (separation of duties, not eligible, late).
  'Grant Decision Refused',
  // Beyond docs/contract.md §2: an `Agent Resumed` put on the bus, which never counts (grantId and taskId are empty).
  'Agent Resume Refused',
  // Beyond docs/contract.md §2: a kill switch's outcome, once per suspension (grantId and taskId are empty).
  'Agent Suspension Completed',
] as const;
export type OutboundType = (typeof OUTBOUND_TYPES)[number];

/** What every outbound event says. Identifiers and reasons only: no secret ever. */
export interface OutboundDetail {
  readonly grantId: string;
  readonly taskId: string;
  readonly agentId: string;
  readonly at: string;
  readonly state?: GrantState;
  readonly reason?: string;
  readonly trigger?: RevocationTrigger;
  readonly scopes?: readonly string[];
  readonly owner?: string;
  readonly requestedBy?: string;
  /** On `Grant Denied` answering an invalid `Task Started`: how far its `requestedBy` can be told (REQUESTER_STATUSES). */
  readonly requestedByStatus?: RequesterStatus;
  readonly purpose?: string;
  readonly credentialKind?: string;
  /** The account the credential lives in (hub and spoke); absent = the engine's own. */
  readonly account?: string;
  /** An access key id or session principal: an identifier, not a secret. */
  readonly credentialId?: string;
  readonly expiresAt?: string;
  readonly ttlSeconds?: number;
  readonly requiredApprovals?: number;
  readonly approvers?: readonly string[];
  /** For `Credential Still Valid`: how long it kept working after the notice to revoke. */
  readonly stillValidAfterNoticeMs?: number;
  /** For `Agent Suspension Completed`: what became of the agent's live grants. */
  readonly revocations?: SuspensionTally;
  /** For `Grant Revoked`: `pending` when the credential was killed and its proof of death handed to prove-revocation. */
  readonly proof?: typeof PROOF_PENDING;
  readonly [extra: string]: unknown;
}

/** A kill switch's grants, by how their revocation ended, and how long it took from the notice. */
export interface SuspensionTally {
  readonly grants: number;
  /** Refused by AWS when probed: dead. */
  readonly verified: number;
  /** Revoked, not yet seen refused: the sweep keeps probing (and says `Credential Still Valid` if it stays alive). */
  readonly awaitingProof: number;
  /** Could not be revoked: each also said `Revocation Failed`, and the sweep retries. */
  readonly failed: number;
  /** Had no credential yet, or was closed by another trigger meanwhile. */
  readonly closedOtherwise: number;
  readonly elapsedMs: number;
}

export interface OutboundEvent {
  readonly detailType: OutboundType;
  readonly detail: OutboundDetail;
}
