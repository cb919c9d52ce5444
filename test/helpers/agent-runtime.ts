// Test helpers (and the demo's runtime): a scripted agent runtime over the Taskbound SDK, plus
// what only a test or a demo needs: any event on the bus, a delivery in any state, and probes
// that use a credential with STS. For a real runtime, use the SDK (`taskbound/sdk`) directly.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { Taskbound, type DeliveryPayload, type TaskEndedDetail, type TaskStartedDetail } from '../../sdk';
import { realSleep } from '../../lambdas/adapters/sleep';

export interface RuntimeOptions {
  /** The local engine's URL; AWS's endpoints when absent. */
  readonly endpoint?: string;
  readonly region?: string;
  /** The runtime's own credentials (in AWS: its role). The local engine accepts any. */
  readonly credentials?: AwsCredentialIdentity;
  readonly busName?: string;
  readonly source?: string;
}

/** What the runtime reads from `taskbound/<agentId>/<taskId>` (docs/contract.md §5). */
export type Delivery = DeliveryPayload;

export type Identity = { readonly ok: true; readonly arn: string } | { readonly ok: false; readonly code: string };

const LOCAL_RUNTIME_CREDENTIALS = { accessKeyId: 'AKIAEXAMPLERUNTIME00', secretAccessKey: 'example-runtime-not-a-secret' };

export class AgentRuntime {
  /** One keep-alive pool for the per-credential STS clients (a connection per call is slow). */
  private readonly agents = { httpAgent: new HttpAgent({ keepAlive: true }), httpsAgent: new HttpsAgent({ keepAlive: true }) };
  private readonly events: EventBridgeClient;
  private readonly taskbound: Taskbound;
  private readonly config: { endpoint?: string; region: string };

  constructor(private readonly options: RuntimeOptions = {}) {
    const region = options.region ?? 'us-east-1';
    const credentials = options.credentials ?? (options.endpoint ? LOCAL_RUNTIME_CREDENTIALS : undefined);
    this.config = { region, ...(options.endpoint ? { endpoint: options.endpoint } : {}) };
    const shared = { ...this.config, ...(credentials ? { credentials } : {}) };
    this.events = new EventBridgeClient(shared);
    this.taskbound = new Taskbound({
      eventBridge: this.events,
      secretsManager: new SecretsManagerClient(shared),
      ...(options.busName ? { busName: options.busName } : {}),
      source: options.source ?? 'example.agent-runtime',
    });
  }

  /** Puts any event on the Taskbound bus (a forged decision, a leak report…); returns its event id. */
  async emit(
    detailType: string,
    detail: Record<string, unknown>,
    source = this.options.source ?? 'example.agent-runtime',
  ): Promise<string> {
    const answer = await this.events.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: this.options.busName ?? 'taskbound', Source: source, DetailType: detailType, Detail: JSON.stringify(detail) },
        ],
      }),
    );
    const entry = answer.Entries?.[0];
    if (!entry?.EventId) throw new Error(`PutEvents refused ${detailType}: ${entry?.ErrorCode ?? 'no entry'} ${entry?.ErrorMessage ?? ''}`);
    return entry.EventId;
  }

  startTask(detail: TaskStartedDetail): Promise<string> {
    return this.taskbound.startTask(detail);
  }

  endTask(detail: TaskEndedDetail): Promise<string> {
    return this.taskbound.endTask(detail);
  }

  /** Reads the task's delivery secret once; undefined while it does not exist. */
  async readDelivery(agentId: string, taskId: string): Promise<Delivery | undefined> {
    const reading = await this.taskbound.readDelivery({ agentId, taskId });
    return reading.status === 'absent' ? undefined : reading;
  }

  /** Reads the delivery until its status is one of `statuses` (any of them, unlike the SDK's wait for `issued`). */
  async waitForDelivery(
    agentId: string,
    taskId: string,
    statuses: readonly Delivery['status'][],
    timeoutMs = 10_000,
    everyMs = 25,
  ): Promise<Delivery> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const delivery = await this.readDelivery(agentId, taskId);
      if (delivery && statuses.includes(delivery.status)) return delivery;
      if (Date.now() > deadline)
        throw new Error(
          `no ${statuses.join('/')} delivery for ${agentId}/${taskId} within ${timeoutMs} ms (last: ${delivery?.status ?? 'none'})`,
        );
      await realSleep(everyMs);
    }
  }

  /** Uses a delivered credential: STS GetCallerIdentity signed with it. */
  async whoAmI(delivery: Pick<Delivery, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>): Promise<Identity> {
    if (!delivery.accessKeyId || !delivery.secretAccessKey) return { ok: false, code: 'NoCredential' };
    const sts = new STSClient(this.signedWith(delivery));
    try {
      const answer = await sts.send(new GetCallerIdentityCommand({}));
      return { ok: true, arn: answer.Arn ?? '' };
    } catch (error) {
      return { ok: false, code: error instanceof Error ? error.name : 'UnknownError' };
    }
  }

  /**
   * Calls Secrets Manager with a delivered credential: `ok`, or the refusal's name and message (a
   * local engine judges the call by the credential's policy, as IAM would).
   */
  async secretsManagerAs(
    delivery: Pick<Delivery, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>,
    call: (client: SecretsManagerClient) => Promise<unknown>,
  ): Promise<string> {
    const client = new SecretsManagerClient(this.signedWith(delivery));
    try {
      await call(client);
      return 'ok';
    } catch (error) {
      return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    } finally {
      client.destroy();
    }
  }

  /** A client's settings for calls signed with a delivered credential, tried once. */
  private signedWith(delivery: Pick<Delivery, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>) {
    return {
      ...this.config,
      requestHandler: this.agents,
      maxAttempts: 1,
      credentials: {
        accessKeyId: delivery.accessKeyId ?? '',
        secretAccessKey: delivery.secretAccessKey ?? '',
        ...(delivery.sessionToken ? { sessionToken: delivery.sessionToken } : {}),
      },
    };
  }

  /** Probes with the credential until STS rejects it; returns the rejection code. */
  async waitUntilRejected(
    delivery: Pick<Delivery, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>,
    timeoutMs = 10_000,
    everyMs = 10,
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const identity = await this.whoAmI(delivery);
      if (!identity.ok) return identity.code;
      if (Date.now() > deadline) throw new Error(`credential still accepted after ${timeoutMs} ms`);
      await realSleep(everyMs);
    }
  }

  close(): void {
    this.events.destroy();
    this.taskbound.secretsManager.destroy();
    this.agents.httpAgent.destroy();
    this.agents.httpsAgent.destroy();
  }
}
