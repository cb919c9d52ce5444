// Handler: `Grant Revocation Requested` (the CLI's `revoke`) → revoke with trigger `manual`.
import { manualRevokeSchema } from '../domain/events';
import { revokeGrant } from '../use-cases/revoke-grant';
import { awsEngine } from './aws-engine';
import { eventHandler, type DepsProvider } from './event-handler';

export const makeRevokeRequestedHandler = (getDeps: DepsProvider) =>
  eventHandler('revoke-requested', manualRevokeSchema, getDeps, async (deps, event) => {
    const { grantId, by, reason } = event.detail;
    const result = await revokeGrant(deps, grantId, { trigger: 'manual', by, reason, noticeAt: deps.clock.now().toISOString() });
    return result.outcome === 'not-found' ? { outcome: 'not-found', reason: `no grant ${grantId}` } : result;
  });

export const handler = makeRevokeRequestedHandler(awsEngine);
