// CLI command: `revoke ID --reason R` → `Grant Revocation Requested` (trigger `manual`).
import { INBOUND, manualRevokeSchema } from '../../lambdas/domain/events';
import type { CliDeps, ExitCode } from '../context';
import { actor, send } from '../send';
import { validated } from '../validate';
import { checkedGrantId } from './grants';

export interface RevokeOptions {
  readonly reason: string;
  readonly as?: string;
}

/** Asks the engine to revoke one grant's credential now. */
export async function revoke(deps: CliDeps, grantId: string, options: RevokeOptions): Promise<ExitCode> {
  const detail = validated(
    manualRevokeSchema,
    { grantId: checkedGrantId(grantId), by: await actor(deps, options.as), reason: options.reason },
    'revocation',
    { by: '--as', reason: '--reason' },
  );
  return send(deps, { detailType: INBOUND.revokeRequested, detail }, `revocation of ${grantId} requested`);
}
