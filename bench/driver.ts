// Bench: a thin agent runtime over the AWS SDK, with every client counted: start and end tasks,
// wait for the delivery with the Taskbound SDK's default wait strategy, use and probe the credential.
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Agent } from 'node:http';
import { localClientConfig, LOCAL_REGION, SdkCallCounter } from '../lambdas/local/host/sdk-clients';
import { LOCAL_BUS } from '../lambdas/local/engine';
import { realSleep as sleep } from '../lambdas/adapters/sleep';
import { Taskbound } from '../sdk';
import { LOCAL_RUNTIME_CREDENTIALS } from '../sdk/taskbound';
import { deliverySecretName } from '../lambdas/domain/ids';

export const BENCH_AGENT = 'bench-bot';
export const SESSION_SCOPE = 'bench-read';
export const ACCESS_KEY_SCOPE = 'bench-upload-key';

/** The delivered credential (docs/contract.md §5); its secret parts stay inside the bench. */
export interface IssuedDelivery {
  readonly grantId: string;
  readonly kind: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** Epoch ms of the delivery's `expiration`. */
  readonly expiresAtMs: number;
}

/** STS's answers that refuse a credential (deleted, revoked, expired): only these count as dead. */
const STS_REFUSALS = new Set([
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
]);
/** Probes that end in no answer from STS before the probe gives up. */
const PROBE_ATTEMPTS = 3;

/** The SDK's wait: its default, its learnt first read always (`learnt`), or once issuances take 500 ms (`when-slow`). */
export type BenchWait = 'default' | 'learnt' | 'when-slow';

export type ProbeResult = { readonly ok: true } | { readonly ok: false; readonly code: string };

/** The probe loop's interval (a measuring instrument, not a runtime's behaviour). */
export const REJECTION_POLL_MS = 10;

/** Epoch ms with the sub-millisecond part, comparable with the engine's ISO times on the same host. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

/** One delivery read as the runtime saw it: when it was sent, when it answered, whether it found the delivery. */
export interface DeliveryRead {
  readonly sentMs: number;
  readonly answeredMs: number;
  readonly found: boolean;
}

export class BenchDriver {
  readonly calls = new SdkCallCounter();
  private readonly events: EventBridgeClient;
  private readonly secrets: SecretsManagerClient;
  private readonly taskbound: Taskbound;
  /** Each delivery secret's reads (GetSecretValue), by secret name, until its wait ends. */
  private readonly reads = new Map<string, DeliveryRead[]>();
  /**
   * One connection pool for every credential's STS client, as a runtime holding many
   * credentials would keep: a fresh connection per credential waits for the engine's
   * saturated event loop to accept it (seconds at 100 concurrent tasks), which would
   * measure the accept queue rather than the engine.
   */
  private readonly stsConnections = new Agent({ keepAlive: true, maxSockets: 100 });

  /**
   * Each delivery secret's version date (GetSecretValue's `CreatedDate`, epoch ms): when the
   * engine's write of the value landed, by the emulated Secrets Manager's clock (this host's).
   */
  readonly deliveredAtMs = new Map<string, number>();

  /** `wait`: the SDK's wait the runtimes use (`BenchWait`). */
  constructor(
    private readonly endpoint: string,
    wait: BenchWait = 'default',
  ) {
    // Signed as a runtime, not as the engine: a delivery not locked yet is refused to it, as on AWS.
    const runtime = { ...localClientConfig(endpoint), credentials: LOCAL_RUNTIME_CREDENTIALS };
    this.events = this.calls.track(new EventBridgeClient(runtime));
    this.secrets = this.calls.track(new SecretsManagerClient(runtime));
    this.secrets.middlewareStack.add(
      (next, context) => async (args) => {
        // Each delivery read, alone (GetSecretValue) or in a batch the SDK made of concurrent waits (BatchGetSecretValue).
        const input = args.input as { SecretId?: unknown; SecretIdList?: unknown };
        const secretIds =
          context.commandName === 'GetSecretValueCommand' && typeof input.SecretId === 'string'
            ? [input.SecretId]
            : context.commandName === 'BatchGetSecretValueCommand' && Array.isArray(input.SecretIdList)
              ? input.SecretIdList.filter((id): id is string => typeof id === 'string')
              : [];
        if (secretIds.length === 0) return next(args);
        const sentMs = epochMs();
        const log = (secretId: string, found: boolean) =>
          this.reads.set(secretId, [...(this.reads.get(secretId) ?? []), { sentMs, answeredMs: epochMs(), found }]);
        try {
          const result = await next(args);
          const output = result.output as {
            CreatedDate?: unknown;
            Name?: unknown;
            SecretValues?: readonly { Name?: unknown; CreatedDate?: unknown }[];
          };
          // GetSecretValue answers its one secret; a batch names each secret it found (the rest are in its Errors).
          for (const secretId of secretIds) {
            const value = output.SecretValues ? output.SecretValues.find((candidate) => candidate.Name === secretId) : output;
            log(secretId, value !== undefined);
            if (value?.CreatedDate instanceof Date) this.deliveredAtMs.set(secretId, value.CreatedDate.getTime());
          }
          return result;
        } catch (error) {
          for (const secretId of secretIds) log(secretId, false);
          throw error;
        }
      },
      { step: 'initialize', name: 'benchDeliveryReads' },
    );
    this.taskbound = new Taskbound({
      eventBridge: this.events,
      secretsManager: this.secrets,
      busName: LOCAL_BUS,
      ...(wait === 'learnt' ? { wait: { learnFirstRead: true } } : {}),
      ...(wait === 'when-slow' ? { wait: { learnFirstReadFromMs: 500 } } : {}),
    });
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
  async waitForIssued(
    taskId: string,
    timeoutMs = 30_000,
  ): Promise<{ delivery: IssuedDelivery; polls: number; reads: readonly DeliveryRead[]; deliveredAtMs?: number }> {
    const issued = await this.taskbound.waitForCredentials(
      { agentId: BENCH_AGENT, taskId },
      { strategy: { timeoutMs, deliveryTimeoutMs: timeoutMs } },
    );
    const secretId = deliverySecretName(BENCH_AGENT, taskId);
    const reads = this.reads.get(secretId) ?? [];
    this.reads.delete(secretId);
    const deliveredAtMs = this.deliveredAtMs.get(secretId);
    this.deliveredAtMs.delete(secretId);
    return {
      reads,
      ...(deliveredAtMs !== undefined ? { deliveredAtMs } : {}),
      delivery: {
        grantId: issued.grantId,
        kind: issued.kind,
        accessKeyId: issued.accessKeyId,
        secretAccessKey: issued.secretAccessKey,
        ...(issued.sessionToken ? { sessionToken: issued.sessionToken } : {}),
        expiresAtMs: issued.expiration?.getTime() ?? Number.NaN,
      },
      polls: reads.length,
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
    for (let attempt = 1; ; attempt++) {
      try {
        await sts.send(new GetCallerIdentityCommand({}));
        return { ok: true };
      } catch (error) {
        const code = error instanceof Error ? error.name : 'UnknownError';
        if (STS_REFUSALS.has(code)) return { ok: false, code };
        // A timeout or a dropped connection says nothing of the credential: counted dead, it would
        // make a kill switch look faster than it was. Asked again; past the attempts, the run fails.
        if (attempt >= PROBE_ATTEMPTS)
          throw new Error(`GetCallerIdentity failed ${attempt} times without an answer from STS (${code})`, { cause: error });
      }
    }
  }

  /**
   * Probes every REJECTION_POLL_MS until STS refuses (with `backoff`, the interval doubles each
   * time, up to 16 × as long: fewer probes, coarser timing); resolves with the refusal and when it arrived.
   */
  async waitUntilRejected(
    sts: STSClient,
    timeoutMs = 30_000,
    backoff = false,
  ): Promise<{ code: string; atMs: number; probes: number; lastAcceptedSentMs?: number }> {
    const deadline = Date.now() + timeoutMs;
    let lastAcceptedSentMs: number | undefined;
    for (let probes = 1; ; probes++) {
      const sentMs = epochMs();
      const result = await this.probe(sts);
      if (!result.ok)
        return { code: result.code, atMs: Date.now(), probes, ...(lastAcceptedSentMs !== undefined ? { lastAcceptedSentMs } : {}) };
      lastAcceptedSentMs = sentMs;
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
