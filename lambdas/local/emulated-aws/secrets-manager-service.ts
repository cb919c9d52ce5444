// Local engine, emulated AWS: a stateful Secrets Manager on the JSON protocol (`secretsmanager.*`),
// where the engine's delivery vault writes credentials and agent runtimes read them. Each secret is
// one item of the `taskbound-local-secrets` table in the embedded store (state-tables.ts), written
// before the call answers (the changes made in one turn of the event loop in one BatchWriteItem). The store is the truth: memory keeps the secrets in use, and one unused for
// 10 s (a denied delivery waiting its hour) is read back from the store when asked for. Every input is
// checked against the API's constraints (zod). Resource
// policies are stored, not enforced: locally there are no IAM principals; only the credentials the
// engine issued are judged (a revoked session is denied), and a delivery the engine has not locked
// yet is read by the engine alone (delivery-lock.ts). Secret values never reach a log, an error
// or an event.
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { BatchedWrites } from './batched-writes';
import { ColdSecretNames } from './cold-secret-names';
import type { DeliveryLock, LockedSecret } from './delivery-lock';
import type { RequestGate } from './issued-credential-gate';
import { LOCAL_ACCOUNT_ID } from '../../constants';
import { jsonError, jsonOk, type AwsRequest, type AwsResponse, type AwsService } from './protocol';
import {
  CURRENT,
  addVersion,
  findSecret,
  markedForDeletion,
  matchesFilters,
  mergeTags,
  newSecretArn,
  notFound,
  sameValue,
  SecretsManagerError,
  versionWithStage,
  versionsToStages,
  type SecretRecord,
  type SecretValue,
} from './secret-records';
import { scanAll, type StateTable } from './state-tables';
import { checkInput } from './validation';

/**
 * Rotation locally: there is no rotation Lambda to invoke, so RotateSecret answers
 * InvalidRequestException unless a hook is registered. The hook returns the new SecretString,
 * which becomes the AWSCURRENT version at once (the old one becomes AWSPREVIOUS).
 */
export type RotationHook = (secret: { readonly arn: string; readonly name: string }) => Promise<string> | string;

export interface SecretsManagerServiceOptions {
  /** The secrets table in the embedded store; in memory when absent (tests). */
  readonly table?: StateTable;
  readonly region?: string;
  readonly now?: () => Date;
  readonly onRotate?: RotationHook;
  /** Stands in for IAM: may refuse a request before it runs (issued-credential-gate.ts). */
  readonly gate?: RequestGate;
  /**
   * Refuses anyone but the engine a delivery with no resource policy yet, as AWS refuses a runtime that relies on
   * it (delivery-lock.ts). Absent (tests of the API alone): every secret reads as if its policy allowed it.
   */
  readonly deliveryLock?: DeliveryLock;
  /** How long a secret stays in memory unused before only the store keeps it (SECRET_COLD_AFTER_MS by default; never without a table). */
  readonly coldAfterMs?: number;
}

export interface SecretsManagerService extends AwsService {
  /** Resolves once every write already accepted has reached the table. */
  close(): Promise<void>;
  /** How many secrets memory holds (tests: the ones in use, not every secret stored). */
  readonly secretsInMemory: number;
}

/**
 * How long a secret stays in memory unused. A delivery is read within a second of being written and
 * deleted when its task ends; one denied is read once, then waits an hour for nobody: the store keeps it.
 */
export const SECRET_COLD_AFTER_MS = 10_000;
const COOL_DOWN_EVERY_MS = 1_000;

const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const DAY_MS = 86_400_000;
/** DynamoDB's 400 KB item limit, less room for the item's keys: older unlabelled versions go first beyond it. */
const MAX_RECORD_CHARS = 380_000;

const seconds = (ms: number) => ms / 1000;

function invalidParameter(message: string): SecretsManagerError {
  return new SecretsManagerError('InvalidParameterException', message);
}

function invalidRequest(message: string): SecretsManagerError {
  return new SecretsManagerError('InvalidRequestException', message);
}

// The API's own constraints (Secrets Manager API reference), checked before any operation runs.
const secretId = z.string().min(1).max(2048);
const token = z.string().min(1).max(64);
const secretString = z.string().max(65_536);
/** The SDK sends blobs base64-encoded: at most 65,536 bytes once decoded. */
const secretBinary = z.base64().max(87_384);
const tag = z.object({ Key: z.string().min(1).max(128), Value: z.string().max(256) });
const tags = z.array(tag).max(50);

const listFilters = z
  .array(
    z.object({
      Key: z.enum(['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all']),
      Values: z.array(z.string().min(1).max(512)).min(1).max(10),
    }),
  )
  .max(10);
/** BatchGetSecretValue reads at most 20 secrets per call, named or found by filters. */
const BATCH_MAX = 20;

const schemas = {
  CreateSecret: z.object({
    Name: z.string().min(1).max(512),
    ClientRequestToken: token.optional(),
    Description: z.string().max(2048).optional(),
    KmsKeyId: z.string().max(2048).optional(),
    SecretString: secretString.optional(),
    SecretBinary: secretBinary.optional(),
    Tags: tags.optional(),
  }),
  PutSecretValue: z.object({
    SecretId: secretId,
    ClientRequestToken: token.optional(),
    SecretString: secretString.optional(),
    SecretBinary: secretBinary.optional(),
    VersionStages: z.array(z.string().min(1).max(256)).min(1).max(20).optional(),
  }),
  GetSecretValue: z.object({ SecretId: secretId, VersionId: token.optional(), VersionStage: z.string().min(1).max(256).optional() }),
  DescribeSecret: z.object({ SecretId: secretId }),
  DeleteSecret: z.object({
    SecretId: secretId,
    RecoveryWindowInDays: z.number().int().optional(),
    ForceDeleteWithoutRecovery: z.boolean().optional(),
  }),
  RestoreSecret: z.object({ SecretId: secretId }),
  ListSecrets: z.object({
    MaxResults: z.number().int().min(1).max(100).optional(),
    NextToken: z.string().min(1).max(4096).optional(),
    IncludePlannedDeletion: z.boolean().optional(),
    SortOrder: z.enum(['asc', 'desc']).optional(),
    Filters: listFilters.optional(),
  }),
  BatchGetSecretValue: z.object({
    SecretIdList: z.array(secretId).min(1).max(BATCH_MAX).optional(),
    Filters: listFilters.optional(),
    MaxResults: z.number().int().min(1).max(BATCH_MAX).optional(),
    NextToken: z.string().min(1).max(4096).optional(),
  }),
  PutResourcePolicy: z.object({
    SecretId: secretId,
    ResourcePolicy: z.string().min(1).max(20_480),
    BlockPublicPolicy: z.boolean().optional(),
  }),
  GetResourcePolicy: z.object({ SecretId: secretId }),
  DeleteResourcePolicy: z.object({ SecretId: secretId }),
  TagResource: z.object({ SecretId: secretId, Tags: tags }),
  UntagResource: z.object({ SecretId: secretId, TagKeys: z.array(z.string().min(1).max(128)).max(50) }),
  RotateSecret: z.object({
    SecretId: secretId,
    ClientRequestToken: token.optional(),
    RotationLambdaARN: z.string().max(2048).optional(),
    RotationRules: z
      .object({
        AutomaticallyAfterDays: z.number().int().min(1).max(1000).optional(),
        Duration: z.string().min(2).max(3).optional(),
        ScheduleExpression: z.string().min(1).max(256).optional(),
      })
      .optional(),
    RotateImmediately: z.boolean().optional(),
  }),
} as const;

type OperationName = keyof typeof schemas;
type InputOf<N extends OperationName> = z.output<(typeof schemas)[N]>;
/** An operation runs on its checked input; the reads also see the request, to tell the engine from a runtime (`deliveryLock`). */
type Operations = { readonly [N in OperationName]: (input: InputOf<N>, request: AwsRequest) => Promise<object> };

function readValue(input: { readonly SecretString?: string | undefined; readonly SecretBinary?: string | undefined }): SecretValue {
  const { SecretString: secretString, SecretBinary: secretBinary } = input;
  if (secretString !== undefined && secretBinary !== undefined) {
    throw invalidParameter("You can't specify both a binary secret value and a string secret value in the same secret.");
  }
  return { ...(secretString !== undefined ? { secretString } : {}), ...(secretBinary !== undefined ? { secretBinary } : {}) };
}

/** The stored form: the secret's name and ARN as attributes, the record as one JSON string. */
type SecretItem = {
  readonly name: string;
  readonly arn: string;
  readonly record: string;
};

function isSecretItem(item: Record<string, unknown>): item is Record<string, unknown> & SecretItem {
  return typeof item.name === 'string' && typeof item.arn === 'string' && typeof item.record === 'string';
}

/** The table's item, refused if it is not a secret's. */
function secretItem(item: Record<string, unknown>): Record<string, unknown> & SecretItem {
  if (!isSecretItem(item)) throw new Error(`the local secrets table holds an item that is not a secret (${String(item.name)})`);
  return item;
}

function parseSecretItem(item: Record<string, unknown>): SecretRecord {
  return JSON.parse(secretItem(item).record) as SecretRecord;
}

/** Notes the name of every secret in the table (each is read from there when first asked for), and returns the service. */
export async function createSecretsManagerService(options: SecretsManagerServiceOptions = {}): Promise<SecretsManagerService> {
  const cold = new ColdSecretNames();
  if (options.table) {
    for (const item of await scanAll(options.table)) cold.add(secretItem(item).name);
  }
  return new LocalSecretsManager(cold, options);
}

class LocalSecretsManager implements SecretsManagerService {
  readonly name = 'secretsmanager';
  private readonly region: string;
  private readonly now: () => Date;
  /** The secrets in memory: those used in the last `coldAfterMs`, or all of them without a table. */
  private readonly secrets = new Map<string, SecretRecord>();
  /** When each secret in memory was last used, the least recent first (a use moves it to the end). */
  private readonly usedAt = new Map<string, number>();
  /** Reads of cold secrets under way, by name: concurrent requests for one secret share one read. */
  private readonly loading = new Map<string, Promise<void>>();
  private readonly coldAfterMs: number;
  private lastCoolDownMs = Number.NEGATIVE_INFINITY;
  private readonly rotating = new Set<string>();
  /** Writes per secret name, in call order: a later write never lands before an earlier one. */
  private readonly writes = new Map<string, Promise<void>>();
  /** Per secret name, the write not yet started, if any: a newer change joins it. */
  private readonly waitingWrites = new Map<string, { state: SecretItem | 'deleted'; done: Promise<void> }>();
  /**
   * The table's writes, group-committed: the changes of different secrets made in one turn of the event loop go to
   * the store as one BatchWriteItem, not a request each (each change still answers only once it is stored, and one
   * secret's writes stay in order: `inOrder`).
   */
  private readonly stored: BatchedWrites | undefined;
  private readonly operations: Operations;

  constructor(
    /** Names of the secrets only the table holds. */
    private readonly cold: ColdSecretNames,
    private readonly options: SecretsManagerServiceOptions,
  ) {
    this.region = options.region ?? 'us-east-1';
    this.now = options.now ?? (() => new Date());
    this.coldAfterMs = options.coldAfterMs ?? SECRET_COLD_AFTER_MS;
    this.stored = options.table && new BatchedWrites(options.table, 'name');
    this.operations = {
      CreateSecret: (input) => this.createSecret(input),
      PutSecretValue: (input) => this.putSecretValue(input),
      GetSecretValue: (input, request) => this.getSecretValue(input, request),
      BatchGetSecretValue: (input, request) => this.batchGetSecretValue(input, request),
      DescribeSecret: (input, request) => this.describeSecret(input, request),
      DeleteSecret: (input) => this.deleteSecret(input),
      RestoreSecret: (input) => this.restoreSecret(input),
      ListSecrets: (input) => this.listSecrets(input),
      PutResourcePolicy: (input) => this.putResourcePolicy(input),
      GetResourcePolicy: (input) => this.getResourcePolicy(input),
      DeleteResourcePolicy: (input) => this.deleteResourcePolicy(input),
      TagResource: (input) => this.tagResource(input),
      UntagResource: (input) => this.untagResource(input),
      RotateSecret: (input) => this.rotateSecret(input),
    };
  }

  matches(request: AwsRequest): boolean {
    return request.target?.startsWith('secretsmanager.') ?? false;
  }

  /** The resource IAM authorises a call on: the ARN of the secret its `SecretId` names, or `*` for calls that name none. */
  private async resourceOf(body: unknown): Promise<string> {
    const secretId = typeof body === 'object' && body !== null ? (body as { SecretId?: unknown }).SecretId : undefined;
    if (typeof secretId !== 'string') return '*';
    if (secretId.startsWith('arn:')) return secretId;
    return (await this.lookup(secretId))?.arn ?? `arn:aws:secretsmanager:${this.region}:${LOCAL_ACCOUNT_ID}:secret:${secretId}`;
  }

  async handle(request: AwsRequest): Promise<AwsResponse> {
    const name = (request.target ?? '').slice('secretsmanager.'.length);
    if (!Object.hasOwn(schemas, name))
      return jsonError(400, 'UnknownOperationException', `The local Secrets Manager does not implement ${request.target}.`);
    let body: unknown;
    try {
      body = JSON.parse(request.body.toString('utf8') || '{}');
    } catch {
      body = undefined;
    }
    // Authorisation first, as on AWS; the gate asks for the resource only when it judges the caller's policy.
    const refusal = await this.options.gate?.(request, { resource: () => this.resourceOf(body) });
    if (refusal) return refusal;
    if (body === undefined) return jsonError(400, 'SerializationException', 'The request body is not valid JSON.');
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return jsonError(400, 'SerializationException', 'The request body must be a JSON object.');
    }
    const operation = name as OperationName;
    const checked = checkInput(schemas[operation], body);
    if (!checked.ok) return jsonError(400, 'ValidationException', checked.message);
    this.coolDown();
    try {
      return jsonOk(await (this.operations[operation] as (input: unknown, request: AwsRequest) => Promise<object>)(checked.input, request));
    } catch (error) {
      if (error instanceof SecretsManagerError) return jsonError(400, error.code, error.message);
      throw error;
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.writes.values()]);
  }

  get secretsInMemory(): number {
    return this.secrets.size;
  }

  /** Runs `write` after every earlier write of the same secret name. */
  private inOrder(name: string, write: () => Promise<void>): Promise<void> {
    const next = (this.writes.get(name) ?? Promise.resolve()).catch(() => undefined).then(write);
    this.writes.set(name, next);
    const forget = () => {
      if (this.writes.get(name) === next) this.writes.delete(name);
    };
    next.then(forget, forget);
    return next;
  }

  /** Writes the secret as it is now (serialised at call time). */
  private save(secret: SecretRecord): Promise<void> {
    return this.write(secret.name, { name: secret.name, arn: secret.arn, record: fittedRecord(secret) });
  }

  private purge(secret: SecretRecord): Promise<void> {
    this.secrets.delete(secret.name);
    this.usedAt.delete(secret.name);
    return this.write(secret.name, 'deleted');
  }

  /** Marks the secret used now: it stays in memory another `coldAfterMs`. */
  private touch(name: string): void {
    this.usedAt.delete(name);
    this.usedAt.set(name, this.now().getTime());
  }

  /** Keeps in memory a secret created or read back from the table. */
  private keep(secret: SecretRecord): void {
    this.secrets.set(secret.name, secret);
    this.touch(secret.name);
  }

  /**
   * Lets secrets unused for `coldAfterMs` go from memory: the table has them (a secret whose write is
   * still under way, or that is being rotated, stays until it is done). At most once a second.
   */
  private coolDown(): void {
    if (!this.options.table) return;
    const nowMs = this.now().getTime();
    if (nowMs - this.lastCoolDownMs < COOL_DOWN_EVERY_MS) return;
    this.lastCoolDownMs = nowMs;
    for (const [name, usedMs] of this.usedAt) {
      if (nowMs - usedMs < this.coldAfterMs) break;
      const secret = this.secrets.get(name);
      if (secret && (this.writes.has(name) || this.rotating.has(secret.arn))) {
        this.touch(name);
        continue;
      }
      this.usedAt.delete(name);
      if (!secret) continue;
      this.secrets.delete(name);
      this.cold.add(name);
    }
  }

  /**
   * Brings back into memory the secret `secretId` names, if only the table has it: by name, or by
   * ARN (full or partial, as `findSecret` resolves them).
   */
  private async warm(secretId: string): Promise<void> {
    if (this.cold.size === 0) return;
    for (const name of namesFor(secretId)) {
      // Not in memory with a write under way: a forced delete not yet landed, so the table's copy is not a cold secret.
      if (this.secrets.has(name) || this.writes.has(name) || !this.cold.mayHave(name)) continue;
      let loading = this.loading.get(name);
      if (!loading) {
        loading = this.readCold(name).finally(() => this.loading.delete(name));
        this.loading.set(name, loading);
      }
      await loading;
    }
  }

  private async readCold(name: string): Promise<void> {
    const table = this.options.table;
    if (!table) return;
    const { Item: item } = await table.client.send(
      new GetItemCommand({ TableName: table.tableName, Key: { name: { S: name } }, ConsistentRead: true }),
    );
    // Absent: another cold name shares the filter's bucket. Not in memory, no write under way, yet stored: a cold secret.
    if (!item || this.secrets.has(name)) return;
    const secret = parseSecretItem(unmarshall(item));
    this.cold.remove(name);
    this.keep(secret);
  }

  /**
   * Stores the secret's latest state after every earlier write of it. A write still waiting its
   * turn takes the newer state instead of queueing another: changes that pile up behind a slow
   * write land as one (each caller still resolves only once its change is stored).
   */
  private write(name: string, state: SecretItem | 'deleted'): Promise<void> {
    const stored = this.stored;
    if (!stored) return Promise.resolve();
    const waiting = this.waitingWrites.get(name);
    if (waiting) {
      waiting.state = state;
      return waiting.done;
    }
    const next: { state: SecretItem | 'deleted'; done: Promise<void> } = { state, done: Promise.resolve() };
    this.waitingWrites.set(name, next);
    next.done = this.inOrder(name, async () => {
      this.waitingWrites.delete(name);
      const latest = next.state;
      if (latest === 'deleted') await stored.delete(name);
      else await stored.put(latest);
    });
    return next.done;
  }

  /** The secret (read back from the table if it had gone cold), purged first if its recovery window has ended. */
  private async lookup(secretId: string): Promise<SecretRecord | undefined> {
    let secret = findSecret(this.secrets, secretId);
    if (!secret) {
      await this.warm(secretId);
      secret = findSecret(this.secrets, secretId);
    }
    if (secret?.deletionMs !== undefined && secret.deletionMs <= this.now().getTime()) {
      await this.purge(secret);
      return undefined;
    }
    if (secret) this.touch(secret.name);
    return secret;
  }

  private async existing(secretId: string, options: { readonly allowDeleted?: boolean } = {}): Promise<SecretRecord> {
    const secret = await this.lookup(secretId);
    if (!secret) throw notFound();
    if (secret.deletedMs !== undefined && !options.allowDeleted) throw markedForDeletion();
    return secret;
  }

  private async createSecret(input: InputOf<'CreateSecret'>): Promise<object> {
    const name = input.Name;
    if (!NAME_PATTERN.test(name)) {
      throw invalidParameter('Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
    }
    const value = readValue(input);
    const token = input.ClientRequestToken;
    const found = await this.lookup(name);
    if (found?.deletedMs !== undefined) {
      throw invalidRequest("You can't create this secret because a secret with this name is already scheduled for deletion.");
    }
    if (found) {
      const retried = token === undefined ? undefined : found.versions.find((version) => version.versionId === token);
      if (retried && sameValue(retried, value)) return { ARN: found.arn, Name: found.name, VersionId: retried.versionId };
      throw new SecretsManagerError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    }
    const nowMs = this.now().getTime();
    const secret: SecretRecord = {
      arn: newSecretArn(this.region, name),
      name,
      tags: (input.Tags ?? []).map(({ Key, Value }) => ({ Key, Value })),
      versions: [],
      createdMs: nowMs,
      lastChangedMs: nowMs,
      ...(input.Description !== undefined ? { description: input.Description } : {}),
      ...(input.KmsKeyId !== undefined ? { kmsKeyId: input.KmsKeyId } : {}),
    };
    const hasValue = value.secretString !== undefined || value.secretBinary !== undefined;
    const version = hasValue ? addVersion(secret, value, token, [CURRENT], nowMs) : undefined;
    this.keep(secret);
    await this.save(secret);
    return { ARN: secret.arn, Name: secret.name, ...(version ? { VersionId: version.versionId } : {}) };
  }

  private async putSecretValue(input: InputOf<'PutSecretValue'>): Promise<object> {
    const secret = await this.existing(input.SecretId);
    const value = readValue(input);
    if (value.secretString === undefined && value.secretBinary === undefined) {
      throw invalidRequest('You must provide either SecretString or SecretBinary.');
    }
    const token = input.ClientRequestToken;
    const retried = token === undefined ? undefined : secret.versions.find((version) => version.versionId === token);
    if (retried) {
      if (!sameValue(retried, value))
        throw new SecretsManagerError(
          'ResourceExistsException',
          "You can't modify an existing version, you can only create a new version.",
        );
      return { ARN: secret.arn, Name: secret.name, VersionId: retried.versionId, VersionStages: [...retried.stages] };
    }
    const version = addVersion(secret, value, token, input.VersionStages ?? [CURRENT], this.now().getTime());
    await this.save(secret);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: [...version.stages] };
  }

  /** AccessDeniedException where the delivery lock refuses this caller `action` on the secret. */
  private async checkLock(request: AwsRequest, action: string, secret: LockedSecret): Promise<void> {
    const refusal = await this.options.deliveryLock?.refusal(request, action, secret);
    if (refusal !== undefined) throw new SecretsManagerError('AccessDeniedException', refusal);
  }

  private async getSecretValue(input: InputOf<'GetSecretValue'>, request: AwsRequest): Promise<object> {
    const secret = await this.existing(input.SecretId);
    await this.checkLock(request, 'secretsmanager:GetSecretValue', secret);
    const { VersionId: versionId, VersionStage: stage } = input;
    const version =
      versionId !== undefined
        ? secret.versions.find((candidate) => candidate.versionId === versionId)
        : versionWithStage(secret, stage ?? CURRENT);
    if (!version || (stage !== undefined && !version.stages.includes(stage))) {
      const what = versionId !== undefined ? `VersionId: ${versionId}` : `staging label: ${stage ?? CURRENT}`;
      throw new SecretsManagerError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for ${what}`);
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      ...(version.secretString !== undefined ? { SecretString: version.secretString } : {}),
      ...(version.secretBinary !== undefined ? { SecretBinary: version.secretBinary } : {}),
      VersionStages: [...version.stages],
      CreatedDate: seconds(version.createdMs),
    };
  }

  /**
   * Up to 20 secrets' current values in one call, named (`SecretIdList`) or found by `Filters`
   * (paged by `MaxResults`, `NextToken`). A secret that cannot be read is no failure of the call:
   * it is listed in `Errors` with the code GetSecretValue would have answered, as AWS does.
   */
  private async batchGetSecretValue(input: InputOf<'BatchGetSecretValue'>, request: AwsRequest): Promise<object> {
    const { SecretIdList: ids, Filters: filters } = input;
    if (ids !== undefined && filters !== undefined)
      throw invalidParameter("Either 'SecretIdList' or 'Filters' must be provided, but not both.");
    if (ids === undefined && filters === undefined) throw invalidParameter("Either 'SecretIdList' or 'Filters' must be provided.");
    if (input.MaxResults !== undefined && filters === undefined)
      throw invalidParameter("'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.");
    if (ids !== undefined) return this.valuesOf(ids, request);
    const found = (await this.listSecrets({ Filters: filters, MaxResults: input.MaxResults ?? BATCH_MAX, NextToken: input.NextToken })) as {
      SecretList: { Name: string }[];
      NextToken?: string;
    };
    // A listed secret created without a value has none to give: it is one of the errors.
    const read = await this.valuesOf(
      found.SecretList.map((secret) => secret.Name),
      request,
    );
    return { ...read, ...(found.NextToken !== undefined ? { NextToken: found.NextToken } : {}) };
  }

  /**
   * Each secret's current value as GetSecretValue answers it, or the error it would have answered (a delivery
   * the lock refuses this caller is listed with AccessDeniedException, as AWS lists a secret the caller may not read).
   */
  private async valuesOf(secretIds: readonly string[], request: AwsRequest): Promise<{ SecretValues: object[]; Errors: object[] }> {
    const values: object[] = [];
    const errors: object[] = [];
    for (const id of secretIds) {
      try {
        values.push(await this.getSecretValue({ SecretId: id }, request));
      } catch (error) {
        if (!(error instanceof SecretsManagerError)) throw error;
        errors.push({ SecretId: id, ErrorCode: error.code, Message: error.message });
      }
    }
    return { SecretValues: values, Errors: errors };
  }

  /** Refused on a delivery not locked yet as GetSecretValue is: the runtime's DescribeSecret comes from the same resource policy. */
  private async describeSecret(input: InputOf<'DescribeSecret'>, request: AwsRequest): Promise<object> {
    const secret = await this.existing(input.SecretId, { allowDeleted: true });
    await this.checkLock(request, 'secretsmanager:DescribeSecret', secret);
    return {
      ...this.summary(secret),
      VersionIdsToStages: versionsToStages(secret),
      ...(secret.rotationLambdaArn !== undefined ? { RotationLambdaARN: secret.rotationLambdaArn } : {}),
      ...(secret.rotationRules !== undefined ? { RotationRules: secret.rotationRules } : {}),
      ...(secret.lastRotatedMs !== undefined ? { LastRotatedDate: seconds(secret.lastRotatedMs) } : {}),
    };
  }

  /** The fields DescribeSecret and ListSecrets share. */
  private summary(secret: SecretRecord): object {
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.description !== undefined ? { Description: secret.description } : {}),
      ...(secret.kmsKeyId !== undefined ? { KmsKeyId: secret.kmsKeyId } : {}),
      ...(secret.rotationEnabled !== undefined ? { RotationEnabled: secret.rotationEnabled } : {}),
      LastChangedDate: seconds(secret.lastChangedMs),
      ...(secret.deletedMs !== undefined ? { DeletedDate: seconds(secret.deletedMs) } : {}),
      ...(secret.tags.length > 0 ? { Tags: secret.tags } : {}),
      CreatedDate: seconds(secret.createdMs),
    };
  }

  private async deleteSecret(input: InputOf<'DeleteSecret'>): Promise<object> {
    const force = input.ForceDeleteWithoutRecovery ?? false;
    const window = input.RecoveryWindowInDays;
    if (force && window !== undefined)
      throw invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
    if (window !== undefined && !(window >= 7 && window <= 30)) {
      throw invalidParameter('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
    }
    const secret = await this.existing(input.SecretId, { allowDeleted: true });
    const nowMs = this.now().getTime();
    if (force) {
      await this.purge(secret);
      return { ARN: secret.arn, Name: secret.name, DeletionDate: seconds(nowMs) };
    }
    if (secret.deletedMs !== undefined)
      throw invalidRequest("You tried to perform the operation on a secret that's currently marked deleted.");
    secret.deletedMs = nowMs;
    secret.deletionMs = nowMs + (window ?? 30) * DAY_MS;
    await this.save(secret);
    return { ARN: secret.arn, Name: secret.name, DeletionDate: seconds(secret.deletionMs) };
  }

  private async restoreSecret(input: InputOf<'RestoreSecret'>): Promise<object> {
    const secret = await this.existing(input.SecretId, { allowDeleted: true });
    if (secret.deletedMs !== undefined) {
      delete secret.deletedMs;
      delete secret.deletionMs;
      secret.lastChangedMs = this.now().getTime();
      await this.save(secret);
    }
    return { ARN: secret.arn, Name: secret.name };
  }

  private async listSecrets(input: InputOf<'ListSecrets'>): Promise<object> {
    const maxResults = input.MaxResults ?? 100;
    const filters = (input.Filters ?? []).map((filter) => ({ key: filter.Key, values: filter.Values }));
    const nowMs = this.now().getTime();
    const all: SecretRecord[] = [];
    for (const secret of await this.everySecret()) {
      if (secret.deletionMs === undefined || secret.deletionMs > nowMs) all.push(secret);
      // Past its recovery window: gone (`lookup` reads a cold one back to purge it).
      else if (this.secrets.get(secret.name) === secret) await this.purge(secret);
      else await this.lookup(secret.name);
    }
    const ordered = all
      .filter((secret) => input.IncludePlannedDeletion === true || secret.deletedMs === undefined)
      .filter((secret) => matchesFilters(secret, filters))
      .sort((a, b) => a.createdMs - b.createdMs || a.name.localeCompare(b.name));
    if (input.SortOrder === 'desc') ordered.reverse();
    const start = this.pageStart(input.NextToken, ordered.length);
    const page = ordered.slice(start, start + maxResults);
    const next = start + page.length;
    return {
      SecretList: page.map((secret) => ({ ...this.summary(secret), SecretVersionsToStages: versionsToStages(secret) })),
      ...(next < ordered.length ? { NextToken: Buffer.from(JSON.stringify({ offset: next })).toString('base64') } : {}),
    };
  }

  /**
   * The secrets in memory and, when some are cold, those only the table holds (read, not kept). A
   * secret deleted while the table is read may still be listed, as AWS's ListSecrets, eventually
   * consistent, may list it too.
   */
  private async everySecret(): Promise<SecretRecord[]> {
    const table = this.options.table;
    if (!table || this.cold.size === 0) return [...this.secrets.values()];
    const stored = await scanAll(table);
    const all = [...this.secrets.values()];
    for (const item of stored) {
      const name = String(item.name);
      if (this.secrets.has(name) || this.writes.has(name) || !this.cold.mayHave(name)) continue;
      all.push(parseSecretItem(item));
    }
    return all;
  }

  private pageStart(token: string | undefined, total: number): number {
    if (token === undefined) return 0;
    try {
      const { offset } = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown };
      if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0 && offset <= total) return offset;
    } catch {
      // Falls through to the error below, as a forged or stale token would.
    }
    throw new SecretsManagerError('InvalidNextTokenException', 'The NextToken value is invalid.');
  }

  private async putResourcePolicy(input: InputOf<'PutResourcePolicy'>): Promise<object> {
    const secret = await this.existing(input.SecretId);
    try {
      JSON.parse(input.ResourcePolicy);
    } catch {
      throw new SecretsManagerError('MalformedPolicyDocumentException', 'The resource policy is not valid JSON.');
    }
    secret.resourcePolicy = input.ResourcePolicy;
    await this.save(secret);
    return { ARN: secret.arn, Name: secret.name };
  }

  private async getResourcePolicy(input: InputOf<'GetResourcePolicy'>): Promise<object> {
    const secret = await this.existing(input.SecretId, { allowDeleted: true });
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.resourcePolicy !== undefined ? { ResourcePolicy: secret.resourcePolicy } : {}),
    };
  }

  private async deleteResourcePolicy(input: InputOf<'DeleteResourcePolicy'>): Promise<object> {
    const secret = await this.existing(input.SecretId);
    if (secret.resourcePolicy !== undefined) {
      delete secret.resourcePolicy;
      await this.save(secret);
    }
    return { ARN: secret.arn, Name: secret.name };
  }

  private async tagResource(input: InputOf<'TagResource'>): Promise<object> {
    const secret = await this.existing(input.SecretId);
    secret.tags = mergeTags(secret.tags, input.Tags);
    await this.save(secret);
    return {};
  }

  private async untagResource(input: InputOf<'UntagResource'>): Promise<object> {
    const secret = await this.existing(input.SecretId);
    secret.tags = secret.tags.filter((tag) => !input.TagKeys.includes(tag.Key));
    await this.save(secret);
    return {};
  }

  private async rotateSecret(input: InputOf<'RotateSecret'>): Promise<object> {
    const secret = await this.existing(input.SecretId);
    const hook = this.options.onRotate;
    if (!hook) throw invalidRequest('Rotation is not available locally: the local engine has no rotation hook registered.');
    const token = input.ClientRequestToken;
    const retried = token === undefined ? undefined : secret.versions.find((version) => version.versionId === token);
    if (retried) return { ARN: secret.arn, Name: secret.name, VersionId: retried.versionId };
    if (this.rotating.has(secret.arn)) throw invalidRequest("A previous rotation isn't complete. That rotation will be reattempted.");
    this.rotating.add(secret.arn);
    try {
      let secretString: string;
      try {
        secretString = await hook({ arn: secret.arn, name: secret.name });
      } catch {
        // The hook's error may quote the value it was minting: say only that it failed.
        throw invalidRequest('The local rotation hook failed; the secret was not rotated.');
      }
      if (this.secrets.get(secret.name) !== secret) throw notFound();
      if (secret.deletedMs !== undefined) throw markedForDeletion();
      const nowMs = this.now().getTime();
      const version = addVersion(secret, { secretString }, token, [CURRENT], nowMs);
      secret.rotationEnabled = true;
      secret.lastRotatedMs = nowMs;
      if (input.RotationLambdaARN !== undefined) secret.rotationLambdaArn = input.RotationLambdaARN;
      if (input.RotationRules !== undefined) secret.rotationRules = input.RotationRules;
      await this.save(secret);
      return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId };
    } finally {
      this.rotating.delete(secret.arn);
    }
  }
}

/** The names a SecretId may stand for: itself, or for an ARN, the name without and with its random suffix (`findSecret`). */
function namesFor(secretId: string): string[] {
  if (!secretId.startsWith('arn:')) return [secretId];
  const marker = secretId.indexOf(':secret:');
  if (marker < 0) return [];
  const rest = secretId.slice(marker + ':secret:'.length);
  return rest.length > 7 ? [rest.slice(0, -7), rest] : [rest];
}

/**
 * The secret as stored, kept within one DynamoDB item: beyond the limit the oldest unlabelled
 * versions go first, as AWS drops deprecated versions beyond 100. Labelled versions are never dropped.
 */
function fittedRecord(secret: SecretRecord): string {
  for (;;) {
    const record = JSON.stringify(secret);
    if (record.length <= MAX_RECORD_CHARS) return record;
    const oldestUnlabelled = secret.versions.findIndex((version) => version.stages.length === 0);
    if (oldestUnlabelled < 0) {
      throw new SecretsManagerError(
        'LimitExceededException',
        'The secret’s labelled versions exceed what the local Secrets Manager can keep.',
      );
    }
    secret.versions.splice(oldestUnlabelled, 1);
  }
}
