// Composition: Powertools Metrics (CloudWatch EMF). The engine's counts come from its events;
// what only a handler knows, how long a revocation took to be proven, is recorded here and
// published by the handler chain when the invocation ends.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Grant } from '../domain/grant';

// Outside Lambda (the local engine, tests, the bench) EMF lines would only be noise on stdout.
if (process.env.AWS_LAMBDA_FUNCTION_NAME === undefined) process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Taskbound',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'taskbound',
});

/** From the notice to revoke (task end, leak, expiry…) to the probe that saw the credential rejected. */
export function recordRevocationLatency(grant: Grant | undefined): void {
  if (grant?.state !== 'verified' || !grant.revocation || !grant.verifiedAt) return;
  const latencyMs = Date.parse(grant.verifiedAt) - Date.parse(grant.revocation.noticeAt);
  if (!Number.isFinite(latencyMs) || latencyMs < 0) return;
  metrics.addMetric('RevocationLatency', MetricUnit.Milliseconds, latencyMs);
}
