// CLI command: `sweep` → `Sweep Requested`: the engine settles every due grant now
// instead of at its next scheduled sweep.
import { INBOUND } from '../../lambdas/domain/events';
import type { CliDeps, ExitCode } from '../context';
import { actor, send } from '../send';

export interface SweepOptions {
  readonly as?: string;
}

/** Asks the engine to run its sweep now. */
export async function sweep(deps: CliDeps, options: SweepOptions): Promise<ExitCode> {
  const requestedBy = await actor(deps, options.as);
  return send(deps, { detailType: INBOUND.sweepRequested, detail: { requestedBy } }, 'sweep requested');
}
