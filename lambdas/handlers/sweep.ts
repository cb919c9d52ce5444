// Handler: the sweep, on its schedule or on `Sweep Requested` → sweep-due-grants; with
// `reconcileOrphans: true` (the hourly schedule's payload, or in the event's detail) it
// also runs orphan reconciliation, which lists the platform and so runs less often.
import { sweepDueGrants } from '../use-cases/sweep';
import { reconcileOrphans } from '../use-cases/reconcile-orphans';
import { awsSweepEngine } from '../composition/aws-sweep';
import type { DepsProvider } from '../composition/event-handler';
import { logger } from '../composition/logger';
import { handlerChain } from '../composition/handler-chain';
import { inRevocationLaneEach } from '../composition/revocation-lane';

function asksForReconciliation(event: unknown): boolean {
  const payload = (event ?? {}) as { reconcileOrphans?: unknown; detail?: { reconcileOrphans?: unknown } };
  return payload.reconcileOrphans === true || payload.detail?.reconcileOrphans === true;
}

export const makeSweepHandler = (getDeps: DepsProvider) =>
  handlerChain().handler(async (event: unknown) => {
    const deps = await getDeps();
    const report = await sweepDueGrants(deps);
    const orphans = asksForReconciliation(event) ? await reconcileOrphans(deps) : undefined;
    logger.info('sweep finished', { ...report, ...(orphans ? { orphans } : {}) });
    // Errors are counted per grant (each stays due); a sweep with errors fails loudly for the alarm.
    const errors = report.errors + (orphans?.errors ?? 0);
    if (errors > 0) throw new Error(`sweep could not settle ${errors} item(s)`);
    return { ...report, ...(orphans ? { orphans } : {}) };
  });

export const handler = inRevocationLaneEach(makeSweepHandler(awsSweepEngine));
