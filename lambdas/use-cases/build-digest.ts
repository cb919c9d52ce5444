// Use case: the periodic digest. Routine events (issued, verified, revoked at task end) are muted
// one by one in Slack; the digest reports them together, with any finding first. Reads the whole
// grant table once per period (a scan), which is why it runs hours apart, not per event.
import { buildGovernanceReport, type GovernanceReport } from '../domain/report';
import type { Clock, GrantStore } from '../ports';

export interface DigestDeps {
  readonly store: Pick<GrantStore, 'listGrants' | 'getAgent'>;
  readonly clock: Clock;
}

/** The governance report of the last `hours`, with every agent the grants name. */
export async function buildDigest(deps: DigestDeps, hours: number): Promise<GovernanceReport> {
  const until = deps.clock.now();
  const since = new Date(until.getTime() - hours * 3_600_000);
  const grants = await deps.store.listGrants();
  const agents = await Promise.all([...new Set(grants.map((grant) => grant.agentId))].map((agentId) => deps.store.getAgent(agentId)));
  return buildGovernanceReport({ grants, agents, since, until });
}
