// CLI commands: `approve ID` and `deny ID` → the operator endpoint, signed with SigV4. The engine
// authenticates the caller, maps them to a person of the policy and enforces who may decide; the
// CLI prints its answer and exits 1 when the decision was refused.
import { operatorRequestSchema, type OperatorAnswerBody, type OperatorRequest } from '../../lambdas/domain/operator-api';
import { EXIT, UsageError, type CliDeps, type ExitCode, type OperatorFlags } from '../context';

import { validated } from '../validate';
import { checkedGrantId } from './grants';

export interface OperatorCommandOptions extends OperatorFlags {
  readonly reason: string;
  readonly json?: boolean;
}

/** Asks the engine to count an approval or a denial by the caller. */
export async function decide(
  deps: CliDeps,
  decision: 'approve' | 'deny',
  grantId: string,
  options: OperatorCommandOptions,
): Promise<ExitCode> {
  const request = validated(
    operatorRequestSchema,
    { action: decision, grantId: checkedGrantId(grantId), reason: options.reason },
    'decision',
    { reason: '--reason' },
  );
  return callOperator(deps, request, options);
}

/** Sends one operator request and prints the engine's answer; refused, not found or failed exits 1. */
export async function callOperator(deps: CliDeps, request: OperatorRequest, options: OperatorCommandOptions): Promise<ExitCode> {
  if (options.as !== undefined && options.as.trim() === '') throw new UsageError('--as: must name a person of the policy');
  const reply = await deps.operator.send(request, options);
  const ok = ['counted', 'issued', 'denied', 'resumed'].includes(reply.body.outcome);
  if (options.json) deps.out(JSON.stringify(reply.body));
  else (ok ? deps.out : deps.err)(describe(request, reply.body));
  return ok ? EXIT.ok : EXIT.failure;
}

function describe(request: OperatorRequest, answer: OperatorAnswerBody): string {
  const subject = request.action === 'resume' ? `agent ${request.agentId}` : `grant ${request.grantId}`;
  const as = answer.person ? ` as ${answer.person}` : '';
  const why = answer.reason ? `: ${answer.reason}` : '';
  switch (answer.outcome) {
    case 'counted':
      return `approval of ${subject}${as} counted; ${answer.remaining ?? '?'} more approval(s) needed`;
    case 'issued':
      return `approval of ${subject}${as} completed it: credential issued`;
    case 'denied':
      return `${subject} denied${as}${why}`;
    case 'resumed':
      return `${subject} resumed${as}${why}`;
    case 'not-found':
      return `taskbound: not found${why}`;
    case 'failed':
      return `taskbound: ${request.action} of ${subject}${as} failed${why}`;
    case 'refused':
      return `taskbound: ${request.action} of ${subject} refused${as}${why}`;
  }
}
