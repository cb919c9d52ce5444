// Handler: the engine's `Grant Revoked` with `proof: pending` → prove-revocation use case (probe
// until refused, then delete the delivery and record `verified`).
import { proofPendingSchema } from '../domain/events';
import { proveRevocation } from '../use-cases/prove-revocation';
import { awsProvingEngine } from '../composition/aws-engine';
import { eventHandler, type DepsProvider } from '../composition/event-handler';
import { inRevocationLaneEach } from '../composition/revocation-lane';

export const makeProveRevocationHandler = (getDeps: DepsProvider) =>
  eventHandler('prove-revocation', proofPendingSchema, getDeps, (deps, event) => proveRevocation(deps, event.detail.grantId));

export const handler = inRevocationLaneEach(makeProveRevocationHandler(awsProvingEngine));
