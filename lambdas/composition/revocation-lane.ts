// Composition: the revoking functions' entry points (lambdas/routes.ts REVOKING) run in the
// revocation lane, so every SDK call they make is served before any issuance waiting at a quota
// in the same container (adapters/aws/quota-throttle.ts), and retries in standard, not adaptive, mode.
import { inRevocationLane } from '../adapters/aws/quota-throttle';

/** `handler`, each invocation run in the revocation lane. */
export function inRevocationLaneEach<E, C, R>(handler: (event: E, context: C) => Promise<R>): (event: E, context: C) => Promise<R> {
  return (event, context) => inRevocationLane(() => handler(event, context));
}
