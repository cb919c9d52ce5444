// CLI command: `sweep` → `Sweep Requested`: the engine settles every due grant now instead of
// at its next scheduled sweep. The CLI waits until each grant that was due has been handled
// (its record changed, or it is no longer due) and prints what became of it.
import { INBOUND } from '../../lambdas/domain/events';
import type { Grant } from '../../lambdas/domain/grant';
import { awaitEngine, waitSeconds } from '../await-engine';
import { EXIT, type CliDeps, type ExitCode } from '../context';
import { json, stateLabel, table } from '../output';
import { actor, dispatch } from '../send';

export interface SweepOptions {
  readonly as?: string;
  readonly wait?: string;
  readonly json?: boolean;
}

/** Asks the engine to run its sweep now and waits until the grants that were due are handled. */
export async function sweep(deps: CliDeps, options: SweepOptions): Promise<ExitCode> {
  const seconds = waitSeconds(options.wait);
  const requestedBy = await actor(deps, options.as);
  const due = (await deps.store.dueGrants(deps.clock.now())).grants;
  const eventId = await dispatch(deps, { detailType: INBOUND.sweepRequested, detail: { requestedBy } });
  if (eventId === undefined) return EXIT.failure;
  if (seconds === 0 || due.length === 0) {
    const summary = due.length === 0 ? 'sweep requested; no grant was due' : `sweep requested (event ${eventId})`;
    deps.out(options.json ? json({ sent: true, eventId, waited: false, due: due.length, grants: [] }) : summary);
    return EXIT.ok;
  }
  const handled = (before: Grant, now: Grant | undefined) => now === undefined || now.version !== before.version;
  const waited = await awaitEngine<readonly (Grant | undefined)[]>(
    deps,
    `sweeping ${due.length} due grants`,
    seconds,
    async () => {
      const now = await Promise.all(due.map((grant) => deps.store.get(grant.grantId)));
      return { done: due.every((grant, index) => handled(grant, now[index])), value: now };
    },
    (now) => `sweeping: ${due.filter((grant, index) => now && handled(grant, now[index])).length}/${due.length} due grants handled`,
  );
  const after = (waited.done ? waited.value : waited.last) ?? [];
  const rows = due.map((grant, index) => ({
    grantId: grant.grantId,
    agentId: grant.agentId,
    was: grant.state,
    now: after[index]?.state ?? grant.state,
    handled: handled(grant, after[index]),
  }));
  if (options.json) deps.out(json({ sent: true, eventId, waited: true, settled: waited.done, due: due.length, grants: rows }));
  else
    for (const line of table(
      ['GRANT', 'AGENT', 'WAS', 'NOW'],
      rows.map((row) => [row.grantId, row.agentId, row.was, stateLabel(row.now)]),
    ))
      deps.out(line);
  if (!waited.done) {
    deps.err(
      `taskbound: ${rows.filter((row) => !row.handled).length} due grants were not handled within ${seconds}s; is the engine running? (--wait SECONDS to wait longer)`,
    );
    return EXIT.failure;
  }
  return EXIT.ok;
}
