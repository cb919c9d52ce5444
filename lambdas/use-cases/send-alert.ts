// Use case: an engine event → the alert people act on. Routes and mutes by config, posts
// approval requests and then edits them in place as approvals count and the grant is issued
// or denied. An alert that cannot be delivered is a failed outcome, never dropped.
import { grantAlertDetailSchema, type AlertEvent, type GrantAlertDetail } from '../domain/alert-event';
import { routeAlert, type RoutingConfig } from '../domain/alert-routing';
import type { AlertMessage, ApprovalMessages, ApprovalProgress, ApprovalThread, DeliveryResult, Notifier } from '../ports';

export interface AlertDeps {
  readonly notifier: Notifier;
  readonly routing: RoutingConfig;
  readonly approvals: ApprovalMessages;
}

export type AlertOutcome =
  { readonly outcome: 'muted' | 'duplicate' | 'posted' | 'updated' } | { readonly outcome: 'failed'; readonly error: string };

export async function sendAlert(deps: AlertDeps, event: AlertEvent): Promise<AlertOutcome> {
  if (event.detailType === 'Agent Suspended') return post(deps, event, { kind: 'alert', event });
  if (event.detailType === 'Grant Pending Approval') return pendingApproval(deps, event, await deps.approvals.get(event.detail.grantId));
  const settled = settledProgress(event);
  // Only an issue or a denial can close an approval request: other alerts need no lookup.
  const thread = settled ? await deps.approvals.get(event.detail.grantId) : undefined;
  if (thread && settled) return showOutcome(deps, event, thread, settled);
  return post(deps, event, { kind: 'alert', event });
}

/** The first `Grant Pending Approval` opens the request; later ones carry one more approval. */
async function pendingApproval(
  deps: AlertDeps,
  event: AlertEvent & { detail: GrantAlertDetail },
  thread: ApprovalThread | undefined,
): Promise<AlertOutcome> {
  const approver = event.detail.approver;
  if (!thread) {
    const approvedBy = approver ? [approver] : [];
    const route = routeAlert(deps.routing, event);
    if (route.muted) return { outcome: 'muted' };
    const delivered = await deps.notifier.notify(
      { kind: 'approval-request', request: event.detail, progress: { kind: 'waiting', approvedBy } },
      route.channels,
    );
    if (!delivered.ok) return failed(delivered);
    await deps.approvals.put(event.detail.grantId, { refs: delivered.refs, request: event.detail, approvedBy });
    return { outcome: 'posted' };
  }
  // A redelivered event adds nobody: the request already shows this approver.
  if (approver === undefined || thread.approvedBy.includes(approver)) return { outcome: 'duplicate' };
  return showOutcome(deps, event, thread, { kind: 'waiting', approvedBy: [...thread.approvedBy, approver] });
}

function settledProgress(event: AlertEvent & { detail: GrantAlertDetail }): ApprovalProgress | undefined {
  if (event.detailType === 'Grant Denied') return { kind: 'denied', reason: event.detail.reason ?? 'no reason recorded' };
  if (event.detailType === 'Grant Issued')
    return { kind: 'issued', approvedBy: [], ...(event.detail.expiresAt ? { expiresAt: event.detail.expiresAt } : {}) };
  return undefined;
}

/** Edits the request in place when the transport can; otherwise posts its new form. */
async function showOutcome(
  deps: AlertDeps,
  event: AlertEvent & { detail: GrantAlertDetail },
  thread: ApprovalThread,
  progress: ApprovalProgress,
): Promise<AlertOutcome> {
  const request = grantAlertDetailSchema.parse(thread.request);
  const shown = progress.kind === 'issued' ? { ...progress, approvedBy: withApprover(thread.approvedBy, event.detail.approver) } : progress;
  const message: AlertMessage = { kind: 'approval-request', request, progress: shown };
  const edit = thread.refs.length > 0 ? deps.notifier.update?.bind(deps.notifier) : undefined;
  const delivered = edit ? await edit(thread.refs, message) : await deps.notifier.notify(message, channelsFor(deps, event));
  if (!delivered.ok) return failed(delivered);
  const approvedBy = progress.kind === 'waiting' ? progress.approvedBy : thread.approvedBy;
  await deps.approvals.put(request.grantId, { ...thread, approvedBy });
  return { outcome: edit ? 'updated' : 'posted' };
}

/** The people who approved, with the one an issue names (the last approval) once. */
function withApprover(approvedBy: readonly string[], approver: string | undefined): readonly string[] {
  return approver === undefined || approvedBy.includes(approver) ? approvedBy : [...approvedBy, approver];
}

/** An outcome is shown even when its detail-type is muted: someone clicked and waits for it. */
function channelsFor(deps: AlertDeps, event: AlertEvent): readonly string[] {
  const route = routeAlert({ ...deps.routing, muted: [], mutedRevocations: [] }, event);
  return route.muted ? [] : route.channels;
}

async function post(deps: AlertDeps, event: AlertEvent, message: AlertMessage): Promise<AlertOutcome> {
  const route = routeAlert(deps.routing, event);
  if (route.muted) return { outcome: 'muted' };
  const delivered = await deps.notifier.notify(message, route.channels);
  return delivered.ok ? { outcome: 'posted' } : failed(delivered);
}

function failed(result: DeliveryResult & { ok: false }): AlertOutcome {
  return { outcome: 'failed', error: result.error };
}
