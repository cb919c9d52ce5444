// Adapter (Slack): one POST to Slack with bounded retries. Rate limits (429, honouring
// Retry-After) and server errors are retried with backoff; what still fails is returned,
// described without the URL or token, which are secrets.
import { realSleep, type Sleep } from '../sleep';
import { notYet, retry, settled } from '../retry';

/** The fetch this adapter needs; tests and the local engine may pass their own. */
export type Fetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal },
) => Promise<Response>;
export type { Sleep };

export interface RetryOptions {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A Retry-After longer than this gives up now: EventBridge's own retry waits better than a Lambda. */
  readonly maxRetryAfterMs: number;
  readonly timeoutMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 30_000,
  timeoutMs: 10_000,
};

export interface HttpTransport {
  readonly fetch: Fetch;
  readonly sleep: Sleep;
  readonly retry: RetryOptions;
}

/** What a caller may override: tests pass a recording sleep and fewer attempts. */
export interface TransportOverrides {
  readonly fetch?: Fetch;
  readonly sleep?: Sleep;
  readonly retry?: Partial<RetryOptions>;
}

/** Builds a transport from optional overrides: real fetch, real sleep, default retries. */
export function transport(overrides: TransportOverrides = {}): HttpTransport {
  return { fetch: overrides.fetch ?? fetch, sleep: overrides.sleep ?? realSleep, retry: { ...DEFAULT_RETRY, ...overrides.retry } };
}

/** What a 2xx-4xx answer means to the caller (Slack's Web API says `ok: false` inside a 200). */
export type Verdict =
  { readonly kind: 'done' } | { readonly kind: 'retry'; readonly reason: string } | { readonly kind: 'fail'; readonly reason: string };

export type PostOutcome =
  | { readonly ok: true; readonly body: string; readonly attempts: number }
  | { readonly ok: false; readonly error: string; readonly attempts: number };

export interface SlackRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export async function postWithRetry(
  http: HttpTransport,
  request: SlackRequest,
  judge: (status: number, body: string) => Verdict,
): Promise<PostOutcome> {
  const { maxAttempts, baseDelayMs, maxDelayMs, maxRetryAfterMs } = http.retry;
  const posted = await retry(
    { attempts: maxAttempts, baseDelayMs, maxDelayMs },
    async (attempt) => {
      const answer = await attemptOnce(http, request, judge);
      if (answer.kind === 'done') return settled<PostOutcome>({ ok: true, body: answer.body, attempts: attempt });
      if (answer.kind === 'fail') return settled<PostOutcome>({ ok: false, error: answer.reason, attempts: attempt });
      if (attempt < maxAttempts && answer.retryAfterMs !== undefined && answer.retryAfterMs > maxRetryAfterMs) {
        return settled<PostOutcome>({
          ok: false,
          error: `${answer.reason}; Slack asked to wait ${answer.retryAfterMs / 1000} s, longer than this attempt may`,
          attempts: attempt,
        });
      }
      return notYet(answer.reason, answer.retryAfterMs);
    },
    { sleep: http.sleep },
  );
  return posted.settled
    ? posted.value
    : { ok: false, error: `${posted.last} (gave up after ${maxAttempts} attempts)`, attempts: maxAttempts };
}

type Attempt =
  | { readonly kind: 'done'; readonly body: string }
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number }
  | { readonly kind: 'fail'; readonly reason: string };

async function attemptOnce(http: HttpTransport, request: SlackRequest, judge: (status: number, body: string) => Verdict): Promise<Attempt> {
  let response: Response;
  let body: string;
  try {
    response = await http.fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(http.retry.timeoutMs),
    });
    body = await response.text();
  } catch (error) {
    return { kind: 'retry', reason: `network error (${networkErrorCode(error)})` };
  }
  if (response.status === 429) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    return { kind: 'retry', reason: 'rate limited (HTTP 429)', ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  if (response.status >= 500) return { kind: 'retry', reason: `Slack answered HTTP ${response.status}` };
  const verdict = judge(response.status, body);
  return verdict.kind === 'done' ? { kind: 'done', body } : verdict;
}

/** Retry-After in whole seconds, as Slack sends it; anything else falls back to backoff. */
function parseRetryAfter(header: string | null): number | undefined {
  if (header === null || !/^\d{1,6}$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}

/** The error's code only: messages of network errors can quote the URL. */
function networkErrorCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } })?.cause;
  if (typeof cause?.code === 'string' && /^[A-Z_]{2,40}$/.test(cause.code)) return cause.code;
  return error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'failed';
}

/** Slack's short error strings (`channel_not_found`), kept only when they look like one. */
export function slackErrorCode(value: unknown): string {
  return typeof value === 'string' && /^[a-z_]{1,64}$/.test(value) ? value : 'unknown_error';
}
