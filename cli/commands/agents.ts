// CLI commands: `suspend AGENT` and `resume AGENT`, the kill switch of CONTRACT §1. Anyone may
// suspend (an event on the bus); resuming loosens control, so it goes to the operator endpoint.
import { agentStatusSchema, INBOUND } from '../../lambdas/domain/events';
import { operatorRequestSchema } from '../../lambdas/domain/operator-api';
import type { CliDeps, ExitCode } from '../context';
import { actor, send } from '../send';
import { validated } from '../validate';
import { callOperator, type OperatorCommandOptions } from './decisions';

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

/** Lifts a suspension, as the person the operator endpoint authenticates. */
export async function resume(deps: CliDeps, agentId: string, options: OperatorCommandOptions): Promise<ExitCode> {
  const request = validated(operatorRequestSchema, { action: 'resume', agentId, reason: options.reason }, 'resumption', { agentId: 'AGENT', reason: '--reason' });
  return callOperator(deps, request, options);
}
