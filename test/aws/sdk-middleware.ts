// Test tier (AWS emulator): middleware on the engine's real SDK clients. A counter of the AWS
// API calls each client sends, and faults (throttling, 5xx, IAM's eventual consistency)
// injected in the SDK's own stack, so retries, error parsing and backoff stay the SDK's.
import type { MiddlewareStack } from '@smithy/types';

interface SdkClient {
  readonly config: { readonly serviceId?: string };
  readonly middlewareStack: MiddlewareStack<object, object>;
}

const isSdkClient = (value: unknown): value is SdkClient =>
  typeof value === 'object' && value !== null && 'middlewareStack' in value && 'send' in value && 'config' in value;

/**
 * Every SDK client reachable from `root` (the composition root's adapters hold them in
 * private fields), once each: a document client shares its base client's stack.
 */
export function sdkClientsOf(root: unknown): SdkClient[] {
  const clients: SdkClient[] = [];
  const stacks = new Set<unknown>();
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number) => {
    if (typeof value !== 'object' || value === null || seen.has(value) || depth > 6) return;
    seen.add(value);
    if (isSdkClient(value)) {
      if (!stacks.has(value.middlewareStack)) {
        stacks.add(value.middlewareStack);
        clients.push(value);
      }
      return;
    }
    for (const key of Object.keys(value)) visit((value as Record<string, unknown>)[key], depth + 1);
  };
  visit(root, 0);
  return clients;
}

/** The service of a client, as the SDK names it (`IAM`, `STS`, `DynamoDB`, ...). */
export const serviceOf = (client: SdkClient) => client.config.serviceId ?? 'unknown';

/** One AWS API call, as sent: each attempt of the SDK's retries counts, as AWS bills and throttles it. */
export interface ApiCall {
  readonly service: string;
  readonly operation: string;
}

/** Counts every attempt the client sends (after the SDK's retry step, before signing). */
export function countCalls(client: SdkClient, calls: ApiCall[], inFlight: { count: number }): void {
  const service = serviceOf(client);
  client.middlewareStack.addRelativeTo(
    (next: (args: object) => Promise<unknown>, context: { commandName?: string }) => async (args: object) => {
      calls.push({ service, operation: (context.commandName ?? 'Unknown').replace(/Command$/, '') });
      inFlight.count += 1;
      try {
        return await next(args);
      } finally {
        inFlight.count -= 1;
      }
    },
    { name: 'taskboundCallCounter', relation: 'after', toMiddleware: 'retryMiddleware', override: true },
  );
}

/** An error as the SDK's deserializer would raise it for an AWS error response. */
export function awsServiceError(code: string, httpStatusCode: number, message: string): Error {
  return Object.assign(new Error(message), {
    name: code,
    Code: code,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode, attempts: 1, totalRetryDelay: 0 },
  });
}

/** A fault: which call it hits, what it answers, and how many times (default: every time). */
export interface Fault {
  readonly operation: string;
  readonly error: () => Error;
  times?: number;
}

/**
 * Answers matching calls with the fault's error instead of sending them. It sits after the
 * retry step, so the SDK's retry strategy sees each failed attempt as it would AWS's answer.
 */
export function injectFaults(client: SdkClient, faults: Fault[]): void {
  client.middlewareStack.addRelativeTo(
    (next: (args: object) => Promise<unknown>, context: { commandName?: string }) => async (args: object) => {
      const operation = (context.commandName ?? '').replace(/Command$/, '');
      const fault = faults.find((candidate) => candidate.operation === operation && (candidate.times === undefined || candidate.times > 0));
      if (!fault) return next(args);
      if (fault.times !== undefined) fault.times -= 1;
      throw fault.error();
    },
    { name: 'taskboundFaults', relation: 'after', toMiddleware: 'taskboundCallCounter', override: true },
  );
}

export const throttling = () => awsServiceError('Throttling', 400, 'Rate exceeded');
export const serviceUnavailable = () => awsServiceError('ServiceUnavailable', 503, 'Service is unavailable');
