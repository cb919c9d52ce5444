// Test tier (AWS emulator): the AWS list prices the cost per lifecycle is derived from. All
// us-east-1 (US East, N. Virginia), on-demand, taken 2026-11-30 through the project's search
// of stored public pages. `confirmed` says whether AWS's own page showed the number; where it
// did not (AWS renders its price tables client-side), a third-party transcription is named.
export interface Price {
  readonly usd: number;
  readonly per: string;
  readonly source: string;
  readonly confirmed: boolean;
  readonly note?: string;
}

export const PRICES_TAKEN = '2026-11-30';
export const PRICE_REGION = 'us-east-1';

export const PRICES = {
  lambdaRequest: {
    usd: 0.2 / 1e6,
    per: 'request',
    source:
      'https://aws.amazon.com/lambda/pricing/ ($0.20 per 1M requests, quoted from the page by api-evangelist/aws-lambda, read 2026-09-20)',
    confirmed: true,
  },
  lambdaGbSecond: {
    usd: 0.0000166667,
    per: 'GB-second (x86_64)',
    source:
      'third-party transcriptions of https://aws.amazon.com/lambda/pricing/ (artillery lib/platform/aws-lambda/prices.js; a 2023 gist)',
    confirmed: false,
  },
  dynamoWriteRequestUnit: {
    usd: 0.625 / 1e6,
    per: 'write request unit (on-demand)',
    source:
      'https://aws.amazon.com/dynamodb/pricing/on-demand/ (rate not rendered in the stored page); $0.625/M WRU after the 2024-11-01 cut, per airbyte.com/data-engineering-resources/dynamodb-pricing',
    confirmed: false,
  },
  dynamoReadRequestUnit: {
    usd: 0.125 / 1e6,
    per: 'read request unit (on-demand)',
    source: 'as dynamoWriteRequestUnit: $0.125/M RRU',
    confirmed: false,
  },
  eventBridgeCustomEvent: {
    usd: 1 / 1e6,
    per: 'custom event (each 64 KB chunk)',
    source:
      'https://aws.amazon.com/eventbridge/pricing/ (rate not rendered in the stored page); $1.00/M per cloudburn.io/blog/amazon-eventbridge-pricing (March 2026)',
    confirmed: false,
  },
  schedulerInvocation: {
    usd: 1 / 1e6,
    per: 'scheduled invocation, after 14M free a month',
    source: 'cloudburn.io/blog/amazon-eventbridge-pricing (March 2026); AWS price list AWSEvents ScheduledInvocation ($1.25/M in Tokyo)',
    confirmed: false,
    note: 'API calls (CreateSchedule, DeleteSchedule) are not billed; a schedule deleted before it fires costs nothing',
  },
  secretsManagerApiCall: {
    usd: 0.05 / 10_000,
    per: 'API call',
    source:
      'https://aws.amazon.com/secrets-manager/pricing/ ($0.05 per 10,000 API calls, quoted from the page by api-evangelist/amazon-secrets-manager, read 2026-09-20)',
    confirmed: true,
  },
  secretsManagerSecretMonth: {
    usd: 0.4,
    per: 'secret-month, prorated',
    source: 'as secretsManagerApiCall ($0.40 per secret per month)',
    confirmed: true,
    note: 'a delivery lives about one task; counted as one hour of a 730-hour month (hourly proration assumed, not confirmed)',
  },
  kmsRequest: {
    usd: 0.03 / 10_000,
    per: 'request (symmetric key)',
    source:
      'https://aws.amazon.com/kms/pricing/ ($0.03 per 10,000 requests; third-party: a 2019 gist and the secret-key comparison table); $1/key-month is fixed, not per lifecycle',
    confirmed: false,
    note: 'Secrets Manager calls KMS once per PutSecretValue (GenerateDataKey) and once per GetSecretValue (Decrypt) with a customer managed key',
  },
  stsIam: {
    usd: 0,
    per: 'API call',
    source: 'AWS Prescriptive Guidance, secure-dx-telemetry-sharing cost model: "IAM, STS ... incur no charges"',
    confirmed: true,
  },
} as const satisfies Record<string, Price>;
