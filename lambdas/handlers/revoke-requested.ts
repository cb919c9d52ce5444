// Handler: `Grant Revocation Requested` (the CLI's `revoke`) → revoke with trigger `manual`.
import { manualRevokeSchema } from '../domain/events';
import { revokeGrant } from '../use-cases/revoke-grant';
import { refuseUnknownGrant } from '../use-cases/refuse-unknown-grant';
import { awsRevokingEngine } from '../composition/aws-engine';
import { eventHandler, type DepsProvider } from '../composition/event-handler';
import { inRevocationLaneEach } from '../composition/revocation-lane';

export const makeRevokeRequestedHandler = (getDeps: DepsProvider) =>
  eventHandler('revoke-requested', manualRevokeSchema, getDeps, async (deps, event) => {
    const { grantId, by, reason } = event.detail;
    const result = await revokeGrant(deps, grantId, { trigger: 'manual', by, reason, noticeAt: deps.clock.now().toISOString() });
    if (result.outcome !== 'not-found') return result;
    return refuseUnknownGrant(deps, { detailType: event['detail-type'], source: event.source, eventId: event.id, grantId, by });
  });

export const handler = inRevocationLaneEach(makeRevokeRequestedHandler(awsRevokingEngine));
