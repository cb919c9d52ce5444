// Example: an agent runtime that uses Taskbound through the AWS SDK alone. Point it at a
// deployed stack (AWS's endpoints) or at the local engine (`AWS_ENDPOINT_URL`).
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';

export interface RuntimeOptions {
  /** The local engine's URL; AWS's endpoints when absent. */
  readonly endpoint?: string;
  readonly region?: string;
  /** The runtime's own credentials (in AWS: its role). The local engine accepts any. */
  readonly credentials?: AwsCredentialIdentity;
  readonly busName?: string;
  readonly source?: string;
}

/** What the runtime reads from `taskbound/<agentId>/<taskId>` (CONTRACT §5). */
export interface Delivery {
  readonly status: 'pending_approval' | 'issued' | 'denied';
  readonly grantId: string;
  readonly reason?: string;
  readonly kind?: string;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly sessionToken?: string;
  readonly expiration?: string;
  readonly scopes: readonly string[];
}

export type Identity = { readonly ok: true; readonly arn: string } | { readonly ok: false; readonly code: string };

const LOCAL_RUNTIME_CREDENTIALS = { accessKeyId: 'AKIAEXAMPLERUNTIME00', secretAccessKey: 'example-runtime-not-a-secret' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class AgentRuntime {
  /** One keep-alive pool for the per-credential STS clients (a connection per call is slow). */
  private readonly agents = { httpAgent: new HttpAgent({ keepAlive: true }), httpsAgent: new HttpsAgent({ keepAlive: true }) };
  private readonly events: EventBridgeClient;
  private readonly secrets: SecretsManagerClient;
  private readonly config: { endpoint?: string; region: string };

  constructor(private readonly options: RuntimeOptions = {}) {
    const region = options.region ?? 'us-east-1';
    const credentials = options.credentials ?? (options.endpoint ? LOCAL_RUNTIME_CREDENTIALS : undefined);
    this.config = { region, ...(options.endpoint ? { endpoint: options.endpoint } : {}) };
    const shared = { ...this.config, ...(credentials ? { credentials } : {}) };
    this.events = new EventBridgeClient(shared);
    this.secrets = new SecretsManagerClient(shared);
  }

  /** Puts one event on the Taskbound bus; returns its event id, throws on a refused entry. */
  async emit(detailType: string, detail: Record<string, unknown>, source = this.options.source ?? 'example.agent-runtime'): Promise<string> {
    const answer = await this.events.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: this.options.busName ?? 'taskbound', Source: source, DetailType: detailType, Detail: JSON.stringify(detail) }],
      }),
    );
    const entry = answer.Entries?.[0];
    if (!entry?.EventId) throw new Error(`PutEvents refused ${detailType}: ${entry?.ErrorCode ?? 'no entry'} ${entry?.ErrorMessage ?? ''}`);
    return entry.EventId;
  }

  startTask(detail: { agentId: string; taskId: string; purpose: string; requestedBy: string; scopes: string[]; ttlSeconds?: number; context?: Record<string, unknown> }) {
    return this.emit('Task Started', detail);
  }

  endTask(detail: { agentId: string; taskId: string; outcome: 'succeeded' | 'failed' | 'cancelled'; systemsTouched?: string[] }) {
    return this.emit('Task Ended', detail);
  }

  /** Reads the task's delivery secret once; undefined while it does not exist. */
  async readDelivery(agentId: string, taskId: string): Promise<Delivery | undefined> {
    try {
      const answer = await this.secrets.send(new GetSecretValueCommand({ SecretId: `taskbound/${agentId}/${taskId}` }));
      return answer.SecretString ? (JSON.parse(answer.SecretString) as Delivery) : undefined;
    } catch (error) {
      if (error instanceof Error && (error.name === 'ResourceNotFoundException' || error.name === 'InvalidRequestException')) return undefined;
      throw error;
    }
  }

  /** Polls the delivery secret until its status is one of `statuses`. */
  async waitForDelivery(agentId: string, taskId: string, statuses: readonly Delivery['status'][], timeoutMs = 10_000, everyMs = 25): Promise<Delivery> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const delivery = await this.readDelivery(agentId, taskId);
      if (delivery && statuses.includes(delivery.status)) return delivery;
      if (Date.now() > deadline) throw new Error(`no ${statuses.join('/')} delivery for ${agentId}/${taskId} within ${timeoutMs} ms (last: ${delivery?.status ?? 'none'})`);
      await sleep(everyMs);
    }
  }

  /** Uses a delivered credential: STS GetCallerIdentity signed with it. */
  async whoAmI(delivery: Pick<Delivery, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>): Promise<Identity> {
    if (!delivery.accessKeyId || !delivery.secretAccessKey) return { ok: false, code: 'NoCredential' };
    const sts = new STSClient({
      ...this.config,
      requestHandler: this.agents,
      maxAttempts: 1,
      credentials: { accessKeyId: delivery.accessKeyId, secretAccessKey: delivery.secretAccessKey, ...(delivery.sessionToken ? { sessionToken: delivery.sessionToken } : {}) },
    });
    try {
      const answer = await sts.send(new GetCallerIdentityCommand({}));
      return { ok: true, arn: answer.Arn ?? '' };
    } catch (error) {
      return { ok: false, code: error instanceof Error ? error.name : 'UnknownError' };
    }
  }

  /** Polls with the credential until STS rejects it; returns the rejection code. */
  async waitUntilRejected(delivery: Pick<Delivery, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>, timeoutMs = 10_000, everyMs = 10): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const identity = await this.whoAmI(delivery);
      if (!identity.ok) return identity.code;
      if (Date.now() > deadline) throw new Error(`credential still accepted after ${timeoutMs} ms`);
      await sleep(everyMs);
    }
  }

  close(): void {
    this.events.destroy();
    this.secrets.destroy();
    this.agents.httpAgent.destroy();
    this.agents.httpsAgent.destroy();
  }
}
