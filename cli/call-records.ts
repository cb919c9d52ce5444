// CLI: where `grants show` and `report` read what a credential did: the local engine's record over
// loopback, or, on AWS, CloudTrail event history through the engine's own reader
// (lambdas/adapters/aws/cloudtrail-use-log.ts), paced under LookupEvents' 2 requests a second.
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudTrailUseLog } from '../lambdas/adapters/aws/cloudtrail-use-log';
import { credentialCallsAnswerSchema, type CredentialCall } from '../lambdas/domain/credential-call';
import type { ObservedCall } from '../lambdas/domain/credential-usage';
import type { RecordedCall } from '../lambdas/domain/use-after-revocation';
import type { CredentialCalls } from './context';

/**
 * "The rate of lookup requests is limited to two per second, per account, per Region" (CloudTrail
 * API Reference, LookupEvents). The CLI keeps a little under it, since the engine's sweep reads too.
 */
export const LOOKUP_INTERVAL_MS = 550;
/** Events read per credential at most (20 pages of 50): past this the listing says it was cut. */
export const MAX_EVENTS_PER_CREDENTIAL = 1000;

export type CallReader = (accessKeyId: string, from: Date, to: Date) => Promise<CredentialCalls>;

const fromLocal = (call: CredentialCall): ObservedCall => ({
  at: call.at,
  service: call.service,
  operation: call.operation,
  status: call.status,
  ...(call.errorCode ? { errorCode: call.errorCode } : call.status >= 400 ? { errorCode: `HTTP ${call.status}` } : {}),
});

/** The local engine's record of a credential's calls (GET /credential-calls/ID on loopback); the window is not needed. */
export function localEngineCalls(endpoint: string): CallReader {
  return async (accessKeyId) => {
    try {
      const answer = await fetch(`${endpoint.replace(/\/$/, '')}/credential-calls/${encodeURIComponent(accessKeyId)}`, {
        signal: AbortSignal.timeout(5_000),
      });
      if (!answer.ok) return { source: 'unavailable', why: `the engine at ${endpoint} does not record calls (HTTP ${answer.status})` };
      const body = credentialCallsAnswerSchema.safeParse(await answer.json());
      if (!body.success) return { source: 'unavailable', why: `the engine at ${endpoint} answered calls in an unexpected shape` };
      return { source: 'local-engine', calls: body.data.calls.map(fromLocal) };
    } catch (error) {
      return { source: 'unavailable', why: `could not ask ${endpoint} (${error instanceof Error ? error.name : 'error'})` };
    }
  };
}

/**
 * Spaces calls at least `intervalMs` apart, in the order they asked, however many wait at once:
 * LookupEvents' limit is per account and region, not per credential.
 */
export function pacer(intervalMs: number, sleep: (ms: number) => Promise<void>, now: () => number = Date.now): () => Promise<void> {
  let next = 0;
  return async () => {
    const at = Math.max(now(), next);
    next = at + intervalMs;
    const wait = at - now();
    if (wait > 0) await sleep(wait);
  };
}

/** Paces every LookupEvents attempt (retries included: they count against the same limit). */
export function paceRequests(client: CloudTrailClient, pace: () => Promise<void>): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      await pace();
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'taskboundLookupPacing' },
  );
}

const fromTrail = (call: RecordedCall): ObservedCall => ({
  at: call.eventTime.toISOString(),
  service: call.eventSource.replace(/\.amazonaws\.com$/, ''),
  operation: call.eventName,
  ...(call.sourceIp ? { sourceIp: call.sourceIp } : {}),
  ...(call.userAgent ? { userAgent: call.userAgent } : {}),
  ...(call.errorCode ? { errorCode: call.errorCode } : {}),
  ...(call.sourceIdentity ? { sourceIdentity: call.sourceIdentity } : {}),
});

const AWS_ERROR_HINT: Readonly<Record<string, string>> = {
  AccessDeniedException: 'the caller needs cloudtrail:LookupEvents',
  UnrecognizedClientException: 'the caller has no valid AWS credentials',
  ThrottlingException: 'CloudTrail throttled the lookups even after retries; try again in a minute',
};

/**
 * CloudTrail event history by access key id (AKIA and ASIA alike): management events of the
 * client's region, the last 90 days. A failure is an answer (`unavailable`, with what to do), not a crash.
 */
export function cloudTrailCalls(client: CloudTrailClient, maxEvents = MAX_EVENTS_PER_CREDENTIAL): CallReader {
  const log = new CloudTrailUseLog({ cloudTrail: client, maxEvents });
  return async (accessKeyId, from, to) => {
    try {
      const [calls, region] = await Promise.all([log.callsWith(accessKeyId, from, to), client.config.region()]);
      return { source: 'cloudtrail', region, calls: calls.map(fromTrail), truncated: calls.length >= maxEvents };
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      return {
        source: 'unavailable',
        why: `CloudTrail LookupEvents failed (${name}${AWS_ERROR_HINT[name] ? `: ${AWS_ERROR_HINT[name]}` : ''})`,
      };
    }
  };
}
