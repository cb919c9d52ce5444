// Local engine, host: SDK client settings for talking to the local endpoints, and a counter of
// every SDK call made, so the benchmark can report calls per lifecycle honestly.

type Next = (args: unknown) => Promise<unknown>;
interface WithMiddleware {
  readonly middlewareStack: {
    add(middleware: (next: Next, context: { readonly commandName?: string }) => Next, options: { step: 'initialize'; name: string }): void;
  };
}

/**
 * The engine's own key. Locally there are no IAM principals, but a delivery not locked yet is read with this key
 * alone, correctly signed (emulated-aws/delivery-lock.ts): a runtime signs with a key of its own.
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'AKIALOCALENGINE00000', secretAccessKey: 'local-engine-not-a-secret' } as const;
export const LOCAL_REGION = 'us-east-1';

export function localClientConfig(endpoint: string) {
  return { endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 3 } as const;
}

export class SdkCallCounter {
  private count = 0;
  /** The same calls by operation (`PutItemCommand`), to see where a lifecycle's calls go. */
  readonly byOperation = new Map<string, number>();

  get calls(): number {
    return this.count;
  }

  /** Counts each operation the client sends (once per call, not per retry). */
  track<C>(client: C): C {
    (client as unknown as WithMiddleware).middlewareStack.add(
      (next: Next, context) => async (args: unknown) => {
        this.count++;
        const operation = context.commandName ?? 'unknown';
        this.byOperation.set(operation, (this.byOperation.get(operation) ?? 0) + 1);
        return next(args);
      },
      { step: 'initialize', name: 'taskboundSdkCallCounter' },
    );
    return client;
  }
}
