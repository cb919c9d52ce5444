// Test helpers (sdk): the one place every SDK test approves or denies a grant. Today it calls the
// local engine's use case in process, as an authenticated person would be recorded; when approvals
// move to the SigV4 operator endpoint, only this file changes.
import { decideGrant } from '../../lambdas/use-cases/decide-grant';
import type { LocalEngine } from '../../lambdas/local/engine';

export async function approve(engine: LocalEngine, grantId: string, approver: string, reason = 'approved in a test'): Promise<void> {
  const result = await decideGrant(engine.deps, { grantId, decision: 'approve', approver, reason });
  if (result.outcome !== 'counted' && result.outcome !== 'issued') throw new Error(`the approval by ${approver} was ${result.outcome}`);
}
