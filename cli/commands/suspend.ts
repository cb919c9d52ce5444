// CLI command: `suspend AGENT --reason R`, the kill switch of docs/contract.md §1: sends
// `Agent Suspended`, then waits until the engine has recorded the suspension and every grant
// that was live has been revoked and proven dead, and prints each outcome.
import { agentStatusSchema, INBOUND } from '../../lambdas/domain/events';
import { FINAL_STATES, LIVE_STATES, type Grant } from '../../lambdas/domain/grant';
import type { AgentRecord } from '../../lambdas/ports';
import { awaitEngine, waitSeconds } from '../await-engine';
import { EXIT, UsageError, type CliDeps, type ExitCode } from '../context';
import { json, relative, repeatText, stateLabel, table } from '../output';
import { actor, dispatch } from '../send';
import { validated } from '../validate';
import { outcomeOf } from './revoke';

export interface SuspendOptions {
  readonly reason: string;
  readonly as?: string;
  readonly wait?: string;
  readonly json?: boolean;
}

const FLAGS = { agentId: 'AGENT', by: '--as', reason: '--reason' };

interface Suspension {
  readonly agent: AgentRecord;
  readonly grants: readonly Grant[];
}

/**
 * Registered in the policy file, or holding a grant that may still hold a credential: anything else is
 * most likely a typo (the engine refuses it, and the CLI would wait its whole --wait for nothing). Only
 * denied or ended grants, e.g. of a runtime that named an agent the policy does not have, do not count.
 */
async function knownAgent(deps: CliDeps, agentId: string, grants: readonly Grant[]): Promise<void> {
  if (grants.some((grant) => !FINAL_STATES.includes(grant.state))) return;
  // The kill switch must not depend on the CLI having the policy file: an unreadable one is no verdict.
  const policy = await deps.policy().catch(() => undefined);
  if (policy && !policy.agents[agentId]) {
    throw new UsageError(
      `agent "${agentId}" is not in the policy (${policy.source}) and has no live grants; \`taskbound agents list\` shows the agents`,
    );
  }
}

/** Suspends an agent and waits for the engine to revoke every live grant. */
export async function suspend(deps: CliDeps, agentId: string, options: SuspendOptions): Promise<ExitCode> {
  const seconds = waitSeconds(options.wait);
  const detail = validated(agentStatusSchema, { agentId, by: await actor(deps, options.as), reason: options.reason }, 'suspension', FLAGS);
  const before = await deps.store.getAgent(agentId);
  const grants = await deps.store.grantsOfAgent(agentId);
  await knownAgent(deps, agentId, grants);
  const live = grants.filter((grant) => LIVE_STATES.includes(grant.state) || grant.state === 'revoked').map((grant) => grant.grantId);
  const eventId = await dispatch(deps, { detailType: INBOUND.agentSuspended, detail });
  if (eventId === undefined) return EXIT.failure;
  if (seconds === 0) {
    deps.out(
      options.json ? json({ agentId, sent: true, eventId, waited: false }) : `suspension of ${agentId} requested (event ${eventId})`,
    );
    return EXIT.ok;
  }
  const waited = await awaitEngine<Suspension>(
    deps,
    `suspending ${agentId}`,
    seconds,
    async () => {
      const agent = await deps.store.getAgent(agentId);
      // A new suspension has its own time; one thrown again while the agent is suspended is recorded as a repeat of it.
      const recorded =
        agent.suspended && agent.at !== undefined && (agent.at !== before.at || (agent.repeatCount ?? 0) > (before.repeatCount ?? 0));
      // One consistent GetItem per live grant, not a Scan of the whole table every poll.
      const now = (await Promise.all(live.map((grantId) => deps.store.get(grantId)))).filter((grant) => grant !== undefined);
      return { done: recorded && now.every((grant) => FINAL_STATES.includes(grant.state)), value: { agent, grants: now } };
    },
    (value) => {
      const settled = value?.grants.filter((grant) => FINAL_STATES.includes(grant.state)).length ?? 0;
      return `suspending ${agentId}: ${value?.agent.suspended ? 'suspended' : 'asked'}, ${settled}/${live.length} live grants settled`;
    },
  );
  const result = waited.done ? waited.value : waited.last;
  if (options.json) {
    deps.out(
      json({
        agentId,
        sent: true,
        eventId,
        waited: true,
        settled: waited.done,
        agent: result?.agent,
        grants: result?.grants.map((grant) => ({ grantId: grant.grantId, taskId: grant.taskId, state: grant.state })),
      }),
    );
  } else if (result) {
    const agent = result.agent;
    deps.out(
      agent.suspended
        ? `${agentId} suspended by ${agent.by ?? '?'} ${agent.at ? relative(agent.at, deps.clock.now()) : ''}: ${agent.reason ?? ''}${repeatText(agent, deps.clock.now())}`
        : `${agentId} not suspended yet`,
    );
    if (result.grants.length === 0) deps.out('it held no live grants');
    else
      for (const line of table(
        ['GRANT', 'TASK', 'STATE', 'OUTCOME'],
        result.grants.map((g) => [g.grantId, g.taskId, stateLabel(g.state), outcomeOf(g)]),
      ))
        deps.out(line);
  }
  if (!waited.done) {
    deps.err(`taskbound: the engine had not finished suspending ${agentId} after ${seconds}s.`);
    deps.err(
      `if the agent is not registered in the deployed policy the engine refuses the suspension; otherwise follow it with \`taskbound agents show ${agentId}\``,
    );
    return EXIT.failure;
  }
  return EXIT.ok;
}
