// CLI commands: `suspend AGENT` and `resume AGENT`, the kill switch of CONTRACT §1.
import { agentStatusSchema, INBOUND } from '../../lambdas/domain/events';
import type { CliDeps, ExitCode } from '../context';
import { actor, send } from '../send';
import { validated } from '../validate';

export interface AgentStatusOptions {
  readonly reason?: string;
  readonly as?: string;
}

const FLAGS = { agentId: 'AGENT', by: '--as', reason: '--reason' };

/** Suspends an agent: the engine revokes all its live grants and denies new ones. */
export async function suspend(deps: CliDeps, agentId: string, options: AgentStatusOptions & { readonly reason: string }): Promise<ExitCode> {
  const detail = validated(agentStatusSchema, { agentId, by: await actor(deps, options.as), reason: options.reason }, 'suspension', FLAGS);
  return send(deps, { detailType: INBOUND.agentSuspended, detail }, `suspension of ${agentId} requested`);
}

/** Lifts a suspension; the reason is optional because ending an emergency needs no essay. */
export async function resume(deps: CliDeps, agentId: string, options: AgentStatusOptions): Promise<ExitCode> {
  const by = await actor(deps, options.as);
  const detail = validated(agentStatusSchema, { agentId, by, reason: options.reason ?? `resumed by ${by}` }, 'resumption', FLAGS);
  return send(deps, { detailType: INBOUND.agentResumed, detail }, `resumption of ${agentId} requested`);
}
