// Handler: `Grant Decision` → decide-grant use case (separation of duties, dual control).
import { grantDecisionSchema } from '../domain/events';
import { decideGrant } from '../use-cases/decide-grant';
import { refuseUnknownGrant } from '../use-cases/refuse-unknown-grant';
import { awsEngine } from './aws-engine';
import { eventHandler, type DepsProvider } from './event-handler';

export const makeGrantDecisionHandler = (getDeps: DepsProvider) =>
  eventHandler('grant-decision', grantDecisionSchema, getDeps, async (deps, event) => {
    const result = await decideGrant(deps, event.detail);
    if (result.outcome !== 'not-found') return result;
    const { agentId, taskId, approver } = event.detail;
    return refuseUnknownGrant(deps, { detailType: event['detail-type'], source: event.source, eventId: event.id, grantId: result.grantId, by: approver, ...(agentId ? { agentId } : {}), ...(taskId ? { taskId } : {}) });
  });

export const handler = makeGrantDecisionHandler(awsEngine);
