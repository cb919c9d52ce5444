// Test helpers (sdk): a local engine in process and an SDK client pointed at its AWS endpoints,
// with every SDK call the runtime makes counted, and a way to try a credential with STS.
import { afterAll, beforeAll } from 'vitest';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startHarness, type Harness } from '../e2e/local-engine';
import { localClientConfig, LOCAL_REGION, SdkCallCounter } from '../../lambdas/local/host/sdk-clients';
import { Taskbound, type WaitStrategy } from '../../sdk';

/** Short waits, so a test of a timeout takes a second, not fifteen minutes. */
export const FAST_WAIT: Partial<WaitStrategy> = {
  minDelayMs: 50,
  maxDelayMs: 200,
  pendingMinDelayMs: 50,
  pendingMaxDelayMs: 200,
  deliveryTimeoutMs: 5_000,
  timeoutMs: 10_000,
};

export interface SdkHarness extends Harness {
  readonly calls: SdkCallCounter;
  client(config?: { wait?: Partial<WaitStrategy> }): Taskbound;
  /** STS GetCallerIdentity with a credential: its ARN, or the error's name. */
  whoAmI(credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider): Promise<string>;
}

export async function startSdkHarness(): Promise<SdkHarness> {
  const harness = await startHarness();
  const calls = new SdkCallCounter();
  const config = localClientConfig(harness.engine.url);
  const clients: { destroy(): void }[] = [];
  const keep = <C extends { destroy(): void }>(client: C) => (clients.push(client), client);
  return {
    ...harness,
    calls,
    client: (options = {}) =>
      new Taskbound({
        eventBridge: keep(calls.track(new EventBridgeClient(config))),
        secretsManager: keep(calls.track(new SecretsManagerClient(config))),
        wait: options.wait ?? FAST_WAIT,
      }),
    async whoAmI(credentials) {
      const sts = keep(new STSClient({ endpoint: harness.engine.url, region: LOCAL_REGION, maxAttempts: 1, credentials }));
      try {
        return (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? 'no arn';
      } catch (error) {
        return error instanceof Error ? error.name : String(error);
      }
    },
    async stop() {
      for (const client of clients) client.destroy();
      await harness.stop();
    },
  };
}

/**
 * One harness for a file's tests (`startSdkHarness`, or the plain `startHarness`): started before
 * the first, stopped after the last. Returns a getter, since the harness exists only once started.
 */
export function harnessPerFile<H extends { stop(): Promise<void> }>(start: () => Promise<H>): () => H {
  let started: H | undefined;
  beforeAll(async () => {
    started = await start();
  });
  afterAll(async () => {
    await started?.stop();
  });
  return () => {
    if (!started) throw new Error('the harness has not started (use it inside a test)');
    return started;
  };
}
