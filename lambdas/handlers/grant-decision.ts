// Handler: `Grant Decision` on the bus → refused, recorded and answered (`Grant Decision Refused`).
// A bus event cannot say who decided; decisions count only through the operator endpoint
// (handlers/operator-api.ts) and signed Slack clicks (handlers/slack-interactions.ts).
import * as z from 'zod';
import { refuseBusDecision } from '../use-cases/refuse-bus-decision';
import { awsRefusals } from '../composition/aws-engine';
import { eventHandler, type DepsProvider } from '../composition/event-handler';
import type { RefusalDeps } from '../use-cases/engine-deps';

/** Any detail at all: a malformed forgery is refused and recorded like a well-formed one. */
const anyDetail = z.unknown();

export const makeGrantDecisionHandler = (getDeps: DepsProvider<RefusalDeps>) =>
  eventHandler('grant-decision', anyDetail, getDeps, (deps, event) => refuseBusDecision(deps, event));

// Refusing needs only the table and the bus: the function is configured with nothing that issues.
export const handler = makeGrantDecisionHandler(awsRefusals);
