// CLI commands: `approve ID` and `deny ID` → `Grant Decision`. The engine enforces who may
// decide (approver group, separation of duties); the CLI only checks the request is well formed.
import { grantDecisionSchema, INBOUND } from '../../lambdas/domain/events';
import type { CliDeps, ExitCode } from '../context';
import { send } from '../send';
import { validated } from '../validate';
import { checkedGrantId } from './grants';

export interface DecisionOptions {
  readonly as: string;
  readonly reason: string;
}

/** Sends an approval or a denial of a grant held for approval. */
export async function decide(deps: CliDeps, decision: 'approve' | 'deny', grantId: string, options: DecisionOptions): Promise<ExitCode> {
  const detail = validated(
    grantDecisionSchema,
    { grantId: checkedGrantId(grantId), decision, approver: options.as, reason: options.reason },
    'decision',
    { approver: '--as', reason: '--reason' },
  );
  const verb = decision === 'approve' ? 'approval' : 'denial';
  return send(deps, { detailType: INBOUND.grantDecision, detail }, `${verb} of ${grantId} by ${options.as} sent`);
}
