// Handler: `Grant Decision` → decide-grant use case (separation of duties, dual control).
import { grantDecisionSchema } from '../domain/events';
import { decideGrant } from '../use-cases/decide-grant';
import { refuseUnknownGrant } from '../use-cases/refuse-unknown-grant';
import { isTrustedDecisionSource, refuseUntrustedSource } from './trusted-sources';
import { awsEngine } from '../composition/aws-engine';
import { eventHandler, type DepsProvider } from '../composition/event-handler';

export const makeGrantDecisionHandler = (getDeps: DepsProvider) =>
  eventHandler('grant-decision', grantDecisionSchema, getDeps, async (deps, event) => {
    // Only trusted sources decide; anyone else's decision is refused, recorded and said on the bus.
    if (!isTrustedDecisionSource(event.source)) {
      const { grantId, agentId, taskId } = event.detail;
      return refuseUntrustedSource(deps, event, event.detail.approver, { ...(grantId ? { grantId } : {}), ...(agentId ? { agentId } : {}), ...(taskId ? { taskId } : {}) });
    }
    const result = await decideGrant(deps, event.detail);
    if (result.outcome !== 'not-found') return result;
    const { agentId, taskId, approver } = event.detail;
    return refuseUnknownGrant(deps, { detailType: event['detail-type'], source: event.source, eventId: event.id, grantId: result.grantId, by: approver, ...(agentId ? { agentId } : {}), ...(taskId ? { taskId } : {}) });
  });

export const handler = makeGrantDecisionHandler(awsEngine);
