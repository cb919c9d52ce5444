// Adapter (AWS SDK): the IAM and STS clients the credential issuers are handed, built once
// with the retry behaviour revocation depends on.
import { IAMClient, type IAMClientConfig } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';

/**
 * Attempts per SDK call, retries included. The SDK's `standard` mode retries throttling
 * (`Throttling`, HTTP 429), 5xx and network errors with exponential backoff and full
 * jitter (base 100 ms, 500 ms for throttling, capped at 20 s), spending a per-client retry
 * token bucket so a throttled account is not hammered. Five attempts ride out a few
 * seconds of IAM throttling inside one Lambda invocation. When they are exhausted the
 * error propagates unchanged: the use case records `Revocation Failed` (or fails the
 * issue), the grant stays due, and the sweep tries again, so nothing is forgotten.
 *
 * Note: the SDK also classes IAM's `LimitExceededException` as throttling (by name), so a
 * genuine quota error is retried before it surfaces; it still surfaces.
 */
export const CONTROL_PLANE_MAX_ATTEMPTS = 5;

export interface AwsClientOptions {
  readonly region: string;
  /** A VPC endpoint or a test server; AWS's public endpoint when absent. */
  readonly endpoint?: string;
  readonly maxAttempts?: number;
  /** The SDK's default provider chain (the Lambda role) when absent. */
  readonly credentials?: IAMClientConfig['credentials'];
}

function clientConfig(options: AwsClientOptions) {
  return {
    region: options.region,
    retryMode: 'standard',
    maxAttempts: options.maxAttempts ?? CONTROL_PLANE_MAX_ATTEMPTS,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  } as const;
}

/** An IAM client (IAM is global; its endpoint lives in us-east-1 for the `aws` partition). */
export function createIamClient(options: AwsClientOptions): IAMClient {
  return new IAMClient(clientConfig(options));
}

/** An STS client on the regional endpoint (regional endpoints keep working if us-east-1 does not). */
export function createStsClient(options: AwsClientOptions): STSClient {
  return new STSClient(clientConfig(options));
}
