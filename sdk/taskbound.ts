// SDK: the Taskbound client a runtime holds. Sends `Task Started`/`Task Ended` with EventBridge
// PutEvents and reads the delivery with Secrets Manager GetSecretValue (the deliveries of tasks
// waited for at once together, with BatchGetSecretValue), or, in a `dynamodb-kms`
// deployment (TASKBOUND_DELIVERY_TABLE), DynamoDB GetItem and KMS Decrypt: the same calls against
// AWS and against the local engine (`AWS_ENDPOINT_URL`), nothing else.
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { randomUUID } from 'node:crypto';
import { EventRejectedError } from './errors';
import { dynamoDbKmsReader, secretsManagerReader, type DeliveryReader } from './delivery-readers';
import { batchedSecretsManagerReader } from './batched-delivery-reads';
import { parseTaskEnded, parseTaskStarted } from './validate';
import { taskCredentialProvider, type TaskCredentialProvider, type ProviderOptions } from './provider';
import type { DeliveryReading, IssuedCredential, TaskEndedDetail, TaskRef, TaskRequest, TaskStartedDetail } from './types';
import { waitForDelivery, type WaitOptions, type WaitStrategy } from './wait';
import { IssuanceTimes } from './issuance-times';
import { runWithTaskCredentials, type TaskWork, type WithTaskOptions } from './with-task-credentials';

/** How to reach Taskbound; every field is optional, the AWS SDK's own resolution fills the rest. */
export interface TaskboundConfig {
  /** AWS region (else AWS_REGION or the profile's; us-east-1 when only AWS_ENDPOINT_URL is set). */
  readonly region?: string;
  /** One endpoint for every call, e.g. the local engine; the AWS SDK also honours AWS_ENDPOINT_URL. */
  readonly endpoint?: string;
  /**
   * The runtime's own identity (on AWS: its runtime principal); the AWS SDK's default chain when
   * absent, or a placeholder against a loopback endpoint when the environment names no credentials.
   */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Event bus name (else TASKBOUND_BUS, else `taskbound`). */
  readonly busName?: string;
  /** `source` of the events sent (the engine matches on detail-type only). Default `taskbound.sdk`. */
  readonly source?: string;
  /** Bring your own clients (connection pools, middleware, call counting). */
  readonly eventBridge?: EventBridgeClient;
  readonly secretsManager?: SecretsManagerClient;
  /**
   * The deployment's delivery table, in the `dynamodb-kms` delivery mode (else TASKBOUND_DELIVERY_TABLE;
   * the stack's `DeliveryTableName` output). Absent: deliveries are Secrets Manager secrets.
   */
  readonly deliveryTable?: string;
  readonly dynamoDb?: DynamoDBClient;
  readonly kms?: KMSClient;
  /** The default wait strategy of this client's waits. */
  readonly wait?: Partial<WaitStrategy>;
  /**
   * Read the deliveries of tasks waited for at once together, up to 20 in one BatchGetSecretValue
   * (sdk/batched-delivery-reads.ts). Default true. Needs `secretsmanager:BatchGetSecretValue` on `*`
   * in the runtime's own IAM policy (it grants no secret: AWS still requires GetSecretValue on each);
   * without it, the first concurrent reads are refused once (one AccessDenied in CloudTrail per
   * client) and the client reads each alone from then on. False: every read is a GetSecretValue.
   */
  readonly batchReads?: boolean;
}

const DEFAULT_SOURCE = 'taskbound.sdk';
/** Tasks started and not yet waited for that a client remembers the start of (the oldest are forgotten). */
const REMEMBERED_STARTS = 1_000;
const LOCAL_DEFAULT_REGION = 'us-east-1';
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/**
 * A runtime's key against the local engine, which checks SigV4 framing, not who signed: any fixed pair but the
 * engine's own will do (a delivery not locked yet is the engine's alone, as on AWS: docs/contract.md §5).
 */
export const LOCAL_RUNTIME_CREDENTIALS = { accessKeyId: 'AKIALOCALRUNTIME0000', secretAccessKey: 'taskbound-local-engine' };

const startKey = (task: TaskRef) => `${task.agentId}/${task.taskId}`;

function isLoopback(url: string | undefined): boolean {
  if (!url) return false;
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** Against the local engine, a laptop without AWS credentials of its own still signs its requests. */
function defaultCredentials(endpoint: string | undefined, env: NodeJS.ProcessEnv) {
  const local = isLoopback(endpoint ?? env.AWS_ENDPOINT_URL);
  return local && !env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE ? LOCAL_RUNTIME_CREDENTIALS : undefined;
}

function defaultRegion(env: NodeJS.ProcessEnv): string | undefined {
  // A runtime pointed at the local engine by AWS_ENDPOINT_URL alone should not fail on "Region is missing".
  return env.AWS_ENDPOINT_URL && !env.AWS_REGION && !env.AWS_DEFAULT_REGION && !env.AWS_PROFILE ? LOCAL_DEFAULT_REGION : undefined;
}

/** A Taskbound client: start and end tasks, wait for credentials, run work under them. */
export class Taskbound {
  readonly eventBridge: EventBridgeClient;
  readonly secretsManager: SecretsManagerClient;
  private readonly busName: string;
  /** How this deployment delivers: read once, at construction. */
  private readonly reader: DeliveryReader;
  /** The client the waiter is given (the one that reads). */
  private readonly readingClient: unknown;
  private readonly source: string;
  /** The clients this instance created, and so closes. */
  private readonly owned: { destroy(): void }[] = [];
  /** When each task's `Task Started` was accepted (epoch ms), until its wait begins. */
  private readonly starts = new Map<string, number>();
  /** How long this client's tasks took to issue: when the next wait reads first. */
  private readonly issuance = new IssuanceTimes();
  /** Waits in flight: a wait with no other reads on the learnt schedule once issuance is slow (`learnAloneFromMs`). */
  private waits = 0;

  constructor(private readonly config: TaskboundConfig = {}) {
    const region = config.region ?? defaultRegion(process.env);
    const credentials = config.credentials ?? defaultCredentials(config.endpoint, process.env);
    const shared = {
      ...(region ? { region } : {}),
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(credentials ? { credentials } : {}),
    };
    this.eventBridge = config.eventBridge ?? this.own(new EventBridgeClient(shared));
    this.secretsManager = config.secretsManager ?? this.own(new SecretsManagerClient(shared));
    const deliveryTable = config.deliveryTable ?? (process.env.TASKBOUND_DELIVERY_TABLE || undefined);
    if (deliveryTable !== undefined && !TABLE_NAME.test(deliveryTable)) {
      throw new TypeError(`the delivery table "${deliveryTable}" is not a DynamoDB table name (deliveryTable or TASKBOUND_DELIVERY_TABLE)`);
    }
    if (deliveryTable) {
      const dynamoDb = config.dynamoDb ?? this.own(new DynamoDBClient(shared));
      this.reader = dynamoDbKmsReader(dynamoDb, config.kms ?? this.own(new KMSClient(shared)), deliveryTable);
      this.readingClient = dynamoDb;
    } else {
      this.reader =
        config.batchReads === false ? secretsManagerReader(this.secretsManager) : batchedSecretsManagerReader(this.secretsManager);
      this.readingClient = this.secretsManager;
    }
    this.busName = config.busName ?? process.env.TASKBOUND_BUS ?? 'taskbound';
    this.source = config.source ?? DEFAULT_SOURCE;
  }

  /** Sends `Task Started` once it validates; returns the event id. Throws `InvalidTaskRequestError`, `EventRejectedError`. */
  async startTask(detail: TaskStartedDetail): Promise<string> {
    const task = parseTaskStarted(detail);
    const eventId = await this.put('Task Started', task);
    const key = startKey(task);
    this.starts.delete(key);
    this.starts.set(key, Date.now());
    if (this.starts.size > REMEMBERED_STARTS) this.starts.delete(this.starts.keys().next().value as string);
    return eventId;
  }

  /** Sends `Task Ended`: the engine revokes the task's credential and proves it dead. */
  async endTask(detail: TaskEndedDetail): Promise<string> {
    return this.put('Task Ended', parseTaskEnded(detail));
  }

  /** Reads the task's delivery once (one GetSecretValue, or GetItem and Decrypt): absent, pending, issued or denied. */
  async readDelivery(task: TaskRef): Promise<DeliveryReading> {
    return (await this.reader(task)).reading;
  }

  /**
   * Waits (backoff with jitter) until the task's credential is issued, the first read timed from
   * this client's recent issuances when it sent the task's `Task Started` itself. See `waitForDelivery` for how it ends.
   */
  async waitForCredentials(task: TaskRef, options: WaitOptions = {}): Promise<IssuedCredential> {
    const key = startKey(task);
    const startedMs = this.starts.get(key);
    this.starts.delete(key);
    const alone = this.waits === 0;
    this.waits += 1;
    try {
      return await waitForDelivery(
        (ref) => this.reader(ref),
        this.readingClient,
        task,
        { ...options, strategy: { ...this.config.wait, ...options.strategy } },
        { issuance: this.issuance, alone, ...(startedMs !== undefined ? { startedMs } : {}) },
      );
    } finally {
      this.waits -= 1;
    }
  }

  /** An AWS credential provider over an issued credential: refreshes from the delivery, refuses once revoked. */
  credentialProvider(task: TaskRef, issued: IssuedCredential, options: ProviderOptions = {}): TaskCredentialProvider {
    return taskCredentialProvider((ref) => this.readDelivery(ref), task, issued, options);
  }

  /**
   * Starts the task, waits for its credential, runs `work` with an AWS credential provider, and
   * always ends the task: `succeeded`, `failed` when work throws, `cancelled` on abort or SIGINT/SIGTERM.
   */
  withTaskCredentials<T>(request: TaskRequest, work: TaskWork<T>, options: WithTaskOptions = {}): Promise<T> {
    return runWithTaskCredentials(this, { ...request, taskId: request.taskId ?? randomUUID() }, work, options);
  }

  /** Closes the clients this instance created (not the ones handed in). */
  destroy(): void {
    for (const client of this.owned.splice(0)) client.destroy();
  }

  private own<C extends { destroy(): void }>(client: C): C {
    this.owned.push(client);
    return client;
  }

  private async put(detailType: string, detail: object): Promise<string> {
    const answer = await this.eventBridge.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: this.busName, Source: this.source, DetailType: detailType, Detail: JSON.stringify(detail) }],
      }),
    );
    const entry = answer.Entries?.[0];
    if (!entry?.EventId) throw new EventRejectedError(detailType, entry?.ErrorCode ?? 'NoEntry', entry?.ErrorMessage);
    return entry.EventId;
  }
}
