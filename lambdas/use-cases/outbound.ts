// Use cases: turns a grant into the outbound event of docs/contract.md §2. Only identifiers,
// states and reasons are copied: the credential's secret never reaches an event.
import type { Grant } from '../domain/grant';
import type { OutboundDetail, OutboundEvent, OutboundType } from '../domain/events';

export function outbound(detailType: OutboundType, grant: Grant, at: string, extra: Partial<OutboundDetail> = {}): OutboundEvent {
  const detail: OutboundDetail = {
    grantId: grant.grantId,
    taskId: grant.taskId,
    agentId: grant.agentId,
    at,
    state: grant.state,
    scopes: grant.scopes,
    ...(grant.owner ? { owner: grant.owner } : {}),
    ...(grant.requestedBy ? { requestedBy: grant.requestedBy } : {}),
    ...(grant.purpose ? { purpose: grant.purpose } : {}),
    ...(grant.credentialKind ? { credentialKind: grant.credentialKind } : {}),
    ...(grant.account ? { account: grant.account } : {}),
    ...(grant.credential ? { credentialId: grant.credential.accessKeyId } : {}),
    ...(grant.expiresAt ? { expiresAt: grant.expiresAt } : {}),
    ...(grant.revocation ? { trigger: grant.revocation.trigger } : {}),
    ...(grant.reason ? { reason: grant.reason } : {}),
    ...extra,
  };
  return { detailType, detail };
}

/**
 * An event about an agent rather than one grant (`Agent Resume Refused`, `Agent Suspension Completed`):
 * its `grantId` and `taskId` are empty, as docs/contract.md §2 says.
 */
export function agentEvent(detailType: OutboundType, agentId: string, at: string, extra: Partial<OutboundDetail> = {}): OutboundEvent {
  return { detailType, detail: { grantId: '', taskId: '', agentId, at, ...extra } };
}
