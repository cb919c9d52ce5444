// CLI: what to do next about an error that reached the top: the common ways a command fails
// before the engine is even asked (nothing listening, no credentials, wrong table or bus).

const HINTS: readonly [test: (error: Error & { code?: string }) => boolean, hint: string][] = [
  [
    (e) => e.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(e.message),
    'nothing answers at the endpoint: start the local engine with `npm start`, or check --endpoint',
  ],
  [
    (e) => e.name === 'CredentialsProviderError',
    'no AWS credentials found: configure them (AWS_PROFILE, SSO, environment), or pass --endpoint URL for the local engine',
  ],
  [(e) => /Region is missing/.test(e.message), 'no AWS region: set AWS_REGION or pass --region, or --endpoint URL for the local engine'],
  [(e) => e.name === 'ResourceNotFoundException', 'the grant table was not found: check --table (or TASKBOUND_TABLE) and --region'],
  [
    (e) => e.name === 'AccessDeniedException' || e.name === 'UnrecognizedClientException',
    'your credentials may not read the grant table or put events: see "Permissions" in docs/cli.md',
  ],
  [(e) => e.name === 'TimeoutError' || e.name === 'AbortError', 'the request timed out: check the endpoint and your network, then retry'],
];

/** A one-line suggestion for a known failure, or undefined. */
export function nextStepFor(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const cause = (error as Error & { cause?: unknown }).cause;
  const candidates = [error, ...(cause instanceof Error ? [cause] : [])] as (Error & { code?: string })[];
  return HINTS.find(([test]) => candidates.some(test))?.[1];
}
