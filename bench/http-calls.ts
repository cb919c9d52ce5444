// Bench: counts every HTTP request this process sends, by AWS service, including calls from
// SDK clients the engine's own counter does not see (the STS probe builds one per probe).
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { CREDENTIAL_SCOPE } from '../lambdas/constants';

const CHANNEL = 'http.client.request.start';
/** The SDK marks each attempt: `amz-sdk-request: attempt=2; max=3` is a retry, not a new call. */
const RETRY = /attempt=([2-9]|\d{2,})/;

export interface HttpCallCounts {
  /** First attempts, by the service in the request's SigV4 scope (`unsigned` when none). */
  readonly calls: Readonly<Record<string, number>>;
  readonly retries: number;
}

/** Subscribes to Node's HTTP client diagnostics channel until `stop()`. */
export class HttpCallCounter {
  private readonly calls = new Map<string, number>();
  private retries = 0;
  private readonly listener = (message: unknown) => {
    const request = (message as { request: ClientRequest }).request;
    if (RETRY.test(String(request.getHeader('amz-sdk-request') ?? ''))) {
      this.retries++;
      return;
    }
    const service = CREDENTIAL_SCOPE.exec(String(request.getHeader('authorization') ?? ''))?.[2] ?? 'unsigned';
    this.calls.set(service, (this.calls.get(service) ?? 0) + 1);
  };

  start(): this {
    subscribe(CHANNEL, this.listener);
    return this;
  }

  stop(): void {
    unsubscribe(CHANNEL, this.listener);
  }

  snapshot(): HttpCallCounts {
    return { calls: Object.fromEntries(this.calls), retries: this.retries };
  }
}

/** What happened between two snapshots. */
export function callsBetween(before: HttpCallCounts, after: HttpCallCounts): HttpCallCounts {
  const calls: Record<string, number> = {};
  for (const [service, count] of Object.entries(after.calls)) {
    const delta = count - (before.calls[service] ?? 0);
    if (delta > 0) calls[service] = delta;
  }
  return { calls, retries: after.retries - before.retries };
}

export const totalCalls = (counts: HttpCallCounts): number => Object.values(counts.calls).reduce((sum, count) => sum + count, 0);
