// Domain: what an alert is about. Outbound engine events and the inbound kill switch, parsed
// field by field: unknown fields are dropped here, so nothing the message builders never
// asked for (a secret included) can reach a message.
import * as z from 'zod';
import { agentStatusSchema, INBOUND, OUTBOUND_TYPES, REQUESTER_STATUSES, type AgentStatusChange, type OutboundType } from './events';
import { REVOCATION_TRIGGERS } from './grant';

export const ALERT_TYPES = [...OUTBOUND_TYPES, INBOUND.agentSuspended] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

const text = z.string().max(20_000);
const names = z.array(z.string().max(2048)).max(200);
const count = z.number().int().min(0).max(1_000_000);

/** An outbound event's detail (OutboundDetail), as far as a message shows it. */
export const grantAlertDetailSchema = z.object({
  grantId: text,
  taskId: text,
  agentId: text,
  at: text,
  state: text.optional(),
  reason: text.optional(),
  trigger: z.enum(REVOCATION_TRIGGERS).optional(),
  scopes: names.optional(),
  owner: text.optional(),
  requestedBy: text.optional(),
  /** `Grant Denied` answering an invalid `Task Started`: how far its `requestedBy` can be told. */
  requestedByStatus: z.enum(REQUESTER_STATUSES).optional(),
  purpose: text.optional(),
  credentialKind: text.optional(),
  /** The account the credential lives in (hub and spoke); absent = the engine's own. */
  account: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  credentialId: text.optional(),
  secretArn: text.optional(),
  expiresAt: text.optional(),
  ttlSeconds: count.optional(),
  riskTier: text.optional(),
  requiredApprovals: count.optional(),
  remaining: count.optional(),
  approvers: names.optional(),
  approver: text.optional(),
  decision: text.optional(),
  /** `Grant Decision Refused` / `Agent Resume Refused`: the bus event's source, absent when the operator endpoint refused a person. */
  refusedSource: text.optional(),
  approvalDeadline: text.optional(),
  stillValidAfterNoticeMs: z.number().min(0).optional(),
  propagationMs: z.number().min(0).optional(),
  revokedAt: text.optional(),
  callCount: count.optional(),
  /** `Agent Suspension Completed`: the kill switch's grants by how their revocation ended. */
  revocations: z
    .object({
      grants: count,
      verified: count,
      awaitingProof: count,
      failed: count,
      closedOtherwise: count,
      elapsedMs: z.number().min(0),
    })
    .optional(),
  /** `Credential Used After Revocation`: each call's name, time and origin (no parameters are ever sent). */
  calls: z
    .array(
      z.object({ eventName: text, eventSource: text.optional(), eventTime: text, sourceIp: text.optional(), errorCode: text.optional() }),
    )
    .max(50)
    .optional(),
});
export type GrantAlertDetail = z.infer<typeof grantAlertDetailSchema>;

export type AgentSuspendedDetail = AgentStatusChange & { readonly at: string };

export type AlertEvent =
  | { readonly detailType: OutboundType; readonly detail: GrantAlertDetail }
  | { readonly detailType: typeof INBOUND.agentSuspended; readonly detail: AgentSuspendedDetail };

export type ParsedAlert = { readonly ok: true; readonly event: AlertEvent } | { readonly ok: false; readonly reason: string };

/** Parses an event the `alerts` rule delivered; `time` is the envelope's, for details without one. */
export function parseAlertEvent(detailType: string, detail: unknown, time: string): ParsedAlert {
  if (detailType === INBOUND.agentSuspended) {
    const parsed = agentStatusSchema.safeParse(detail);
    return parsed.success
      ? { ok: true, event: { detailType, detail: { ...parsed.data, at: time } } }
      : { ok: false, reason: describe(parsed.error) };
  }
  if (!(OUTBOUND_TYPES as readonly string[]).includes(detailType)) return { ok: false, reason: `not an alert: ${detailType.slice(0, 64)}` };
  const parsed = grantAlertDetailSchema.safeParse(detail);
  return parsed.success
    ? { ok: true, event: { detailType: detailType as OutboundType, detail: parsed.data } }
    : { ok: false, reason: describe(parsed.error) };
}

/** Paths and messages only: never the offending value. */
function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join('.') || '(detail)'}: ${issue.message}`)
    .join('; ');
}
