// Handler: `Grant Decision` → decide-grant use case (separation of duties, dual control).
import { grantDecisionSchema } from '../domain/events';
import { decideGrant } from '../use-cases/decide-grant';
import { awsEngine } from './aws-engine';
import { eventHandler, type DepsProvider } from './event-handler';

export const makeGrantDecisionHandler = (getDeps: DepsProvider) =>
  eventHandler('grant-decision', grantDecisionSchema, getDeps, async (deps, event) => {
    const result = await decideGrant(deps, event.detail);
    return result.outcome === 'not-found' ? { outcome: 'not-found', reason: `no grant ${result.grantId}` } : result;
  });

export const handler = makeGrantDecisionHandler(awsEngine);
