// Handler: the sweep, on its schedule or on `Sweep Requested` → sweep-due-grants; with
// `reconcileOrphans: true` (the hourly schedule's payload, or in the event's detail) it
// also runs orphan reconciliation, which lists the platform and so runs less often, and
// revokes live grants the policy no longer allows, which a container also does on its first
// sweep (a policy changes only with a deploy, and a deploy starts new containers).
import { sweepDueGrants } from '../use-cases/sweep';
import { reconcileOrphans } from '../use-cases/reconcile-orphans';
import { revokeUnentitledGrants } from '../use-cases/revoke-unentitled';
import { awsSweepEngine } from '../composition/aws-sweep';
import type { DepsProvider } from '../composition/event-handler';
import { logger } from '../composition/logger';
import { handlerChain } from '../composition/handler-chain';
import { inRevocationLaneEach } from '../composition/revocation-lane';

function asksForReconciliation(event: unknown): boolean {
  const payload = (event ?? {}) as { reconcileOrphans?: unknown; detail?: { reconcileOrphans?: unknown } };
  return payload.reconcileOrphans === true || payload.detail?.reconcileOrphans === true;
}

export const makeSweepHandler = (getDeps: DepsProvider) => {
  // This container has judged every live grant by the policy it was built with.
  let entitlementsReconciled = false;
  return handlerChain().handler(async (event: unknown) => {
    const deps = await getDeps();
    const report = await sweepDueGrants(deps);
    const reconcile = asksForReconciliation(event);
    const orphans = reconcile ? await reconcileOrphans(deps) : undefined;
    const unentitled = reconcile || !entitlementsReconciled ? await revokeUnentitledGrants(deps) : undefined;
    if (unentitled && unentitled.errors === 0) entitlementsReconciled = true;
    const extra = { ...(orphans ? { orphans } : {}), ...(unentitled ? { unentitled } : {}) };
    logger.info('sweep finished', { ...report, ...extra });
    // Errors are counted per grant (each stays due); a sweep with errors fails loudly for the alarm.
    const errors = report.errors + (orphans?.errors ?? 0) + (unentitled?.errors ?? 0);
    if (errors > 0) throw new Error(`sweep could not settle ${errors} item(s)`);
    return { ...report, ...extra };
  });
};

export const handler = inRevocationLaneEach(makeSweepHandler(awsSweepEngine));
