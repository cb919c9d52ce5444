// Bench: a thin agent runtime over the AWS SDK, with every client counted: start and end tasks,
// wait for the delivery with the Taskbound SDK's default wait strategy, use and probe the credential.
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Agent } from 'node:http';
import { localClientConfig, LOCAL_REGION, SdkCallCounter } from '../lambdas/local/sdk-clients';
import { LOCAL_BUS } from '../lambdas/local/engine';
import { realSleep as sleep } from '../lambdas/adapters/sleep';
import { Taskbound, type TaskRef } from '../sdk';

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


/** The probe loop's interval (a measuring instrument, not a runtime's behaviour). */
export const REJECTION_POLL_MS = 10;

/** The SDK client, counting the delivery reads each task's wait makes. */
class CountingTaskbound extends Taskbound {
  readonly reads = new Map<string, number>();

  override readDelivery(task: TaskRef) {
    this.reads.set(task.taskId, (this.reads.get(task.taskId) ?? 0) + 1);
    return super.readDelivery(task);
  }
}

export class BenchDriver {
  readonly calls = new SdkCallCounter();
  private readonly events: EventBridgeClient;
  private readonly secrets: SecretsManagerClient;
  private readonly taskbound: CountingTaskbound;
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
    this.taskbound = new CountingTaskbound({ eventBridge: this.events, secretsManager: this.secrets, busName: LOCAL_BUS });
  }

  async startTask(taskId: string, scope: string, ttlSeconds?: number): Promise<void> {
    await this.taskbound.startTask({
      agentId: BENCH_AGENT,
      taskId,
      purpose: 'benchmark task',
      requestedBy: 'bench@example.com',
      scopes: [scope],
      ...(ttlSeconds ? { ttlSeconds } : {}),
    });
  }

  async endTask(taskId: string): Promise<void> {
    await this.taskbound.endTask({ agentId: BENCH_AGENT, taskId, outcome: 'succeeded' });
  }

  /** Waits for the task's credential with the SDK's default strategy; throws on a denial or timeout. */
  async waitForIssued(taskId: string, timeoutMs = 30_000): Promise<{ delivery: IssuedDelivery; polls: number }> {
    const issued = await this.taskbound.waitForCredentials({ agentId: BENCH_AGENT, taskId }, { strategy: { timeoutMs, deliveryTimeoutMs: timeoutMs } });
    const polls = this.taskbound.reads.get(taskId) ?? 0;
    this.taskbound.reads.delete(taskId);
    return {
      delivery: {
        grantId: issued.grantId,
        kind: issued.kind,
        accessKeyId: issued.accessKeyId,
        secretAccessKey: issued.secretAccessKey,
        ...(issued.sessionToken ? { sessionToken: issued.sessionToken } : {}),
        expiresAtMs: issued.expiration?.getTime() ?? Number.NaN,
      },
      polls,
    };
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

  /**
   * Probes every REJECTION_POLL_MS until STS refuses (with `backoff`, the interval doubles each
   * time, up to 16 × as long: fewer probes, coarser timing); resolves with the refusal and when it arrived.
   */
  async waitUntilRejected(sts: STSClient, timeoutMs = 30_000, backoff = false): Promise<{ code: string; atMs: number; probes: number }> {
    const deadline = Date.now() + timeoutMs;
    for (let probes = 1; ; probes++) {
      const result = await this.probe(sts);
      if (!result.ok) return { code: result.code, atMs: Date.now(), probes };
      if (Date.now() > deadline) throw new Error(`credential still accepted after ${timeoutMs} ms`);
      await sleep(backoff ? REJECTION_POLL_MS * 2 ** Math.min(probes - 1, 4) : REJECTION_POLL_MS);
    }
  }

  close(): void {
    this.events.destroy();
    this.secrets.destroy();
    this.stsConnections.destroy();
  }
}
