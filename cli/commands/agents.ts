// CLI command: `resume AGENT`, lifting the kill switch of docs/contract.md §1 (`suspend` is in suspend.ts).
// Resuming loosens control, so it goes to the operator endpoint, as the person it authenticates.
import { operatorRequestSchema } from '../../lambdas/domain/operator-api';
import type { CliDeps, ExitCode } from '../context';
import { validated } from '../validate';
import { callOperator, type OperatorCommandOptions } from './decisions';

/** Lifts a suspension, as the person the operator endpoint authenticates. */
export async function resume(deps: CliDeps, agentId: string, options: OperatorCommandOptions): Promise<ExitCode> {
  const request = validated(operatorRequestSchema, { action: 'resume', agentId, reason: options.reason }, 'resumption', {
    agentId: 'AGENT',
    reason: '--reason',
  });
  return callOperator(deps, request, options);
}
