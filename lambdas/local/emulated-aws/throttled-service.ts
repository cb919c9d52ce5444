// Local engine, emulated AWS: an emulated AWS service that throttles like AWS. Each operation has a token
// bucket at its quota; a request finding it empty is answered `ThrottlingException` (HTTP 400),
// which the SDK classes as throttling and retries. Used by the quota simulation (bench/quota.ts).
import { TokenBucket, type QuotaTable } from '../../adapters/aws/quota-throttle';
import { jsonError, type AwsRequest, type AwsService } from './protocol';

export interface ThrottleCounts {
  readonly accepted: Readonly<Record<string, number>>;
  readonly throttled: Readonly<Record<string, number>>;
}

/** Wraps a JSON-protocol service (`X-Amz-Target: prefix.Operation`) so it throttles at `quotas`. */
export function throttledService(service: AwsService, signingName: string, quotas: QuotaTable): AwsService & { counts(): ThrottleCounts } {
  const buckets = new Map<string, TokenBucket>();
  for (const [key, rate] of Object.entries(quotas)) {
    const [prefix, operation] = key.split(':');
    if (prefix === signingName && operation) buckets.set(operation, new TokenBucket(rate));
  }
  const accepted: Record<string, number> = {};
  const throttled: Record<string, number> = {};
  const operationOf = (request: AwsRequest) => (request.target ?? '').split('.').pop() ?? '';
  return {
    name: `${service.name} (throttled)`,
    matches: (request) => service.matches(request),
    async handle(request) {
      const operation = operationOf(request);
      const bucket = buckets.get(operation);
      if (bucket && !bucket.tryTake()) {
        throttled[operation] = (throttled[operation] ?? 0) + 1;
        return jsonError(400, 'ThrottlingException', 'Rate exceeded');
      }
      accepted[operation] = (accepted[operation] ?? 0) + 1;
      return service.handle(request);
    },
    counts: () => ({ accepted: { ...accepted }, throttled: { ...throttled } }),
  };
}
