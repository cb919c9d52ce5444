// CLI command: `resume AGENT`, lifting the kill switch of CONTRACT §1 (`suspend` is in suspend.ts).
import { agentStatusSchema, INBOUND } from '../../lambdas/domain/events';
import type { CliDeps, ExitCode } from '../context';
import { actor, send } from '../send';
import { validated } from '../validate';

export interface AgentStatusOptions {
  readonly reason?: string;
  readonly as?: string;
}

const FLAGS = { agentId: 'AGENT', by: '--as', reason: '--reason' };

/** Lifts a suspension; the reason is optional because ending an emergency needs no essay. */
export async function resume(deps: CliDeps, agentId: string, options: AgentStatusOptions): Promise<ExitCode> {
  const by = await actor(deps, options.as);
  const detail = validated(agentStatusSchema, { agentId, by, reason: options.reason ?? `resumed by ${by}` }, 'resumption', FLAGS);
  return send(deps, { detailType: INBOUND.agentResumed, detail }, `resumption of ${agentId} requested`);
}
