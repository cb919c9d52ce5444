// Bench: a thin agent runtime over the AWS SDK (as examples/agent-runtime.ts, with every
// client counted): start and end tasks, poll the delivery, use and probe the credential.
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Agent } from 'node:http';
import { localClientConfig, LOCAL_REGION, SdkCallCounter } from '../lambdas/local/sdk-clients';
import { LOCAL_BUS } from '../lambdas/local/engine';
import { realSleep as sleep } from '../lambdas/adapters/sleep';

export const BENCH_AGENT = 'bench-bot';
export const SESSION_SCOPE = 'bench-read';
export const ACCESS_KEY_SCOPE = 'bench-upload-key';

/** The delivered credential (CONTRACT §5); its secret parts stay inside the bench. */
export interface IssuedDelivery {
  readonly grantId: string;
  readonly kind: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** Epoch ms of the delivery's `expiration`. */
  readonly expiresAtMs: number;
}

export type ProbeResult = { readonly ok: true } | { readonly ok: false; readonly code: string };


/** Mirrors the example runtime's poll intervals, so the calls it makes are a runtime's. */
export const DELIVERY_POLL_MS = 25;
export const REJECTION_POLL_MS = 10;

export class BenchDriver {
  readonly calls = new SdkCallCounter();
  private readonly events: EventBridgeClient;
  private readonly secrets: SecretsManagerClient;
  /**
   * One connection pool for every credential's STS client, as a runtime holding many
   * credentials would keep: a fresh connection per credential waits for the engine's
   * saturated event loop to accept it (seconds at 100 concurrent tasks), which would
   * measure the accept queue rather than the engine.
   */
  private readonly stsConnections = new Agent({ keepAlive: true, maxSockets: 100 });

  constructor(private readonly endpoint: string) {
    this.events = this.calls.track(new EventBridgeClient(localClientConfig(endpoint)));
    this.secrets = this.calls.track(new SecretsManagerClient(localClientConfig(endpoint)));
  }

  async startTask(taskId: string, scope: string, ttlSeconds?: number): Promise<void> {
    await this.put('Task Started', {
      agentId: BENCH_AGENT,
      taskId,
      purpose: 'benchmark task',
      requestedBy: 'bench@example.com',
      scopes: [scope],
      ...(ttlSeconds ? { ttlSeconds } : {}),
    });
  }

  async endTask(taskId: string): Promise<void> {
    await this.put('Task Ended', { agentId: BENCH_AGENT, taskId, outcome: 'succeeded' });
  }

  /** Polls `taskbound/<agent>/<task>` until the credential is there; throws on a denial or timeout. */
  async waitForIssued(taskId: string, timeoutMs = 30_000): Promise<{ delivery: IssuedDelivery; polls: number }> {
    const deadline = Date.now() + timeoutMs;
    for (let polls = 1; ; polls++) {
      const delivery = await this.readDelivery(taskId);
      if (delivery?.status === 'denied') throw new Error(`task ${taskId} was denied: ${String(delivery.reason)}`);
      if (delivery?.status === 'issued') return { delivery: issuedOf(delivery), polls };
      if (Date.now() > deadline) throw new Error(`no credential for task ${taskId} within ${timeoutMs} ms`);
      await sleep(DELIVERY_POLL_MS);
    }
  }

  /** One STS client per credential, counted, reused for every call made with it; not destroyed (that would close the shared pool). */
  clientFor(delivery: IssuedDelivery): STSClient {
    return this.calls.track(
      new STSClient({
        endpoint: this.endpoint,
        region: LOCAL_REGION,
        maxAttempts: 1,
        requestHandler: { httpAgent: this.stsConnections },
        credentials: {
          accessKeyId: delivery.accessKeyId,
          secretAccessKey: delivery.secretAccessKey,
          ...(delivery.sessionToken ? { sessionToken: delivery.sessionToken } : {}),
        },
      }),
    );
  }

  /** GetCallerIdentity with the credential: does it still work? */
  async probe(sts: STSClient): Promise<ProbeResult> {
    try {
      await sts.send(new GetCallerIdentityCommand({}));
      return { ok: true };
    } catch (error) {
      return { ok: false, code: error instanceof Error ? error.name : 'UnknownError' };
    }
  }

  /** Probes every REJECTION_POLL_MS until STS refuses; resolves with the refusal and when it arrived. */
  async waitUntilRejected(sts: STSClient, timeoutMs = 30_000): Promise<{ code: string; atMs: number; probes: number }> {
    const deadline = Date.now() + timeoutMs;
    for (let probes = 1; ; probes++) {
      const result = await this.probe(sts);
      if (!result.ok) return { code: result.code, atMs: Date.now(), probes };
      if (Date.now() > deadline) throw new Error(`credential still accepted after ${timeoutMs} ms`);
      await sleep(REJECTION_POLL_MS);
    }
  }

  close(): void {
    this.events.destroy();
    this.secrets.destroy();
    this.stsConnections.destroy();
  }

  private async put(detailType: string, detail: Record<string, unknown>): Promise<void> {
    const answer = await this.events.send(
      new PutEventsCommand({ Entries: [{ EventBusName: LOCAL_BUS, Source: 'bench.agent-runtime', DetailType: detailType, Detail: JSON.stringify(detail) }] }),
    );
    const entry = answer.Entries?.[0];
    if (!entry?.EventId) throw new Error(`PutEvents refused ${detailType}: ${entry?.ErrorCode ?? 'no entry'}`);
  }

  private async readDelivery(taskId: string): Promise<Record<string, unknown> | undefined> {
    try {
      const answer = await this.secrets.send(new GetSecretValueCommand({ SecretId: `taskbound/${BENCH_AGENT}/${taskId}` }));
      return answer.SecretString ? (JSON.parse(answer.SecretString) as Record<string, unknown>) : undefined;
    } catch (error) {
      if (error instanceof Error && (error.name === 'ResourceNotFoundException' || error.name === 'InvalidRequestException')) return undefined;
      throw error;
    }
  }
}

function issuedOf(delivery: Record<string, unknown>): IssuedDelivery {
  const { grantId, kind, accessKeyId, secretAccessKey, sessionToken, expiration } = delivery;
  if (typeof grantId !== 'string' || typeof accessKeyId !== 'string' || typeof secretAccessKey !== 'string' || typeof expiration !== 'string') {
    throw new Error('an issued delivery lacks its credential fields');
  }
  return {
    grantId,
    kind: String(kind),
    accessKeyId,
    secretAccessKey,
    ...(typeof sessionToken === 'string' ? { sessionToken } : {}),
    expiresAtMs: Date.parse(expiration),
  };
}
