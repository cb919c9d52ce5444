// Local engine: a stateful Secrets Manager on the JSON protocol (`secretsmanager.*`), where the
// engine's delivery vault writes credentials and agent runtimes read them. Durable through a
// journal in the data directory. Resource policies are stored, not enforced: locally there are
// no IAM principals; only the credentials the engine issued are judged (a revoked session is
// denied). Secret values never reach a log, an error or an event.
import { join } from 'node:path';
import { openJournal, type Journal } from '../journal';
import type { RequestGate } from './issued-credential-gate';
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
  type Tag,
} from './secret-records';

/**
 * Rotation locally: there is no rotation Lambda to invoke, so RotateSecret answers
 * InvalidRequestException unless a hook is registered. The hook returns the new SecretString,
 * which becomes the AWSCURRENT version at once (the old one becomes AWSPREVIOUS).
 */
export type RotationHook = (secret: { readonly arn: string; readonly name: string }) => Promise<string> | string;

export interface SecretsManagerServiceOptions {
  /** Journal directory (`<dataDir>/secrets-manager.jsonl`); in memory when absent. */
  readonly dataDir?: string;
  readonly region?: string;
  readonly now?: () => Date;
  readonly onRotate?: RotationHook;
  /** Stands in for IAM: may refuse a request before it runs (issued-credential-gate.ts). */
  readonly gate?: RequestGate;
}

export interface SecretsManagerService extends AwsService {
  close(): Promise<void>;
}

type JournalRecord = { readonly put: SecretRecord } | { readonly purge: { readonly name: string; readonly arn: string } };
type Input = Record<string, unknown>;
type Operation = (input: Input) => Promise<object>;

const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const DAY_MS = 86_400_000;
const COMPACT_AFTER_RECORDS = 1000;

const seconds = (ms: number) => ms / 1000;

function invalidParameter(message: string): SecretsManagerError {
  return new SecretsManagerError('InvalidParameterException', message);
}

function invalidRequest(message: string): SecretsManagerError {
  return new SecretsManagerError('InvalidRequestException', message);
}

function optional<T>(input: Input, key: string, type: 'string' | 'number' | 'boolean' | 'object'): T | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== type) throw invalidParameter(`${key} has the wrong type.`);
  return value as T;
}

function required<T>(input: Input, key: string, type: 'string' | 'object'): T {
  const value = optional<T>(input, key, type);
  if (value === undefined) {
    const member = key.charAt(0).toLowerCase() + key.slice(1);
    throw new SecretsManagerError('ValidationException', `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

function readValue(input: Input): SecretValue {
  const secretString = optional<string>(input, 'SecretString', 'string');
  const secretBinary = optional<string>(input, 'SecretBinary', 'string');
  if (secretString !== undefined && secretBinary !== undefined) {
    throw invalidParameter("You can't specify both a binary secret value and a string secret value in the same secret.");
  }
  return { ...(secretString !== undefined ? { secretString } : {}), ...(secretBinary !== undefined ? { secretBinary } : {}) };
}

function readTags(input: Input, key: string): Tag[] {
  const tags = input[key] ?? [];
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag?.Key === 'string' && typeof tag?.Value === 'string')) {
    throw invalidParameter(`${key} must be a list of {Key, Value} strings.`);
  }
  return tags as Tag[];
}

/** Opens the journal, replays it, and returns the service. */
export async function createSecretsManagerService(options: SecretsManagerServiceOptions = {}): Promise<SecretsManagerService> {
  const file = options.dataDir === undefined ? undefined : join(options.dataDir, 'secrets-manager.jsonl');
  const { journal, records } = await openJournal<JournalRecord>(file);
  const secrets = new Map<string, SecretRecord>();
  for (const record of records) {
    if ('put' in record) secrets.set(record.put.name, record.put);
    else if (secrets.get(record.purge.name)?.arn === record.purge.arn) secrets.delete(record.purge.name);
  }
  const service = new LocalSecretsManager(journal, secrets, options);
  await service.compactIfWorthIt();
  return service;
}

class LocalSecretsManager implements SecretsManagerService {
  readonly name = 'secretsmanager';
  private readonly region: string;
  private readonly now: () => Date;
  private readonly rotating = new Set<string>();
  private compacting = false;
  private readonly operations: Readonly<Record<string, Operation>>;

  constructor(
    private readonly journal: Journal<JournalRecord>,
    private readonly secrets: Map<string, SecretRecord>,
    private readonly options: SecretsManagerServiceOptions,
  ) {
    this.region = options.region ?? 'us-east-1';
    this.now = options.now ?? (() => new Date());
    this.operations = {
      CreateSecret: (input) => this.createSecret(input),
      PutSecretValue: (input) => this.putSecretValue(input),
      GetSecretValue: (input) => this.getSecretValue(input),
      DescribeSecret: (input) => this.describeSecret(input),
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

  async handle(request: AwsRequest): Promise<AwsResponse> {
    const operation = this.operations[(request.target ?? '').slice('secretsmanager.'.length)];
    if (!operation) return jsonError(400, 'UnknownOperationException', `The local Secrets Manager does not implement ${request.target}.`);
    const refusal = await this.options.gate?.(request);
    if (refusal) return refusal;
    let input: unknown;
    try {
      input = JSON.parse(request.body.toString('utf8') || '{}');
    } catch {
      return jsonError(400, 'SerializationException', 'The request body is not valid JSON.');
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return jsonError(400, 'SerializationException', 'The request body must be a JSON object.');
    }
    try {
      return jsonOk(await operation(input as Input));
    } catch (error) {
      if (error instanceof SecretsManagerError) return jsonError(400, error.code, error.message);
      throw error;
    }
  }

  close(): Promise<void> {
    return this.journal.close();
  }

  async compactIfWorthIt(): Promise<void> {
    if (this.compacting || this.journal.recordCount < COMPACT_AFTER_RECORDS || this.journal.recordCount < 4 * this.secrets.size) return;
    this.compacting = true;
    try {
      await this.journal.compact([...this.secrets.values()].map((secret) => ({ put: secret })));
    } finally {
      this.compacting = false;
    }
  }

  private async save(secret: SecretRecord): Promise<void> {
    await this.journal.append({ put: secret });
    await this.compactIfWorthIt();
  }

  private async purge(secret: SecretRecord): Promise<void> {
    this.secrets.delete(secret.name);
    await this.journal.append({ purge: { name: secret.name, arn: secret.arn } });
    await this.compactIfWorthIt();
  }

  /** The secret, purged first if its recovery window has ended. */
  private async lookup(secretId: string): Promise<SecretRecord | undefined> {
    const secret = findSecret(this.secrets, secretId);
    if (secret?.deletionMs !== undefined && secret.deletionMs <= this.now().getTime()) {
      await this.purge(secret);
      return undefined;
    }
    return secret;
  }

  private async existing(input: Input, options: { readonly allowDeleted?: boolean } = {}): Promise<SecretRecord> {
    const secret = await this.lookup(required<string>(input, 'SecretId', 'string'));
    if (!secret) throw notFound();
    if (secret.deletedMs !== undefined && !options.allowDeleted) throw markedForDeletion();
    return secret;
  }

  private async createSecret(input: Input): Promise<object> {
    const name = required<string>(input, 'Name', 'string');
    if (!NAME_PATTERN.test(name)) {
      throw invalidParameter('Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
    }
    const value = readValue(input);
    const token = optional<string>(input, 'ClientRequestToken', 'string');
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
      tags: readTags(input, 'Tags'),
      versions: [],
      createdMs: nowMs,
      lastChangedMs: nowMs,
    };
    const description = optional<string>(input, 'Description', 'string');
    const kmsKeyId = optional<string>(input, 'KmsKeyId', 'string');
    if (description !== undefined) secret.description = description;
    if (kmsKeyId !== undefined) secret.kmsKeyId = kmsKeyId;
    const hasValue = value.secretString !== undefined || value.secretBinary !== undefined;
    const version = hasValue ? addVersion(secret, value, token, [CURRENT], nowMs) : undefined;
    this.secrets.set(name, secret);
    await this.save(secret);
    return { ARN: secret.arn, Name: secret.name, ...(version ? { VersionId: version.versionId } : {}) };
  }

  private async putSecretValue(input: Input): Promise<object> {
    const secret = await this.existing(input);
    const value = readValue(input);
    if (value.secretString === undefined && value.secretBinary === undefined) {
      throw invalidRequest('You must provide either SecretString or SecretBinary.');
    }
    const token = optional<string>(input, 'ClientRequestToken', 'string');
    const retried = token === undefined ? undefined : secret.versions.find((version) => version.versionId === token);
    if (retried) {
      if (!sameValue(retried, value)) throw new SecretsManagerError('ResourceExistsException', "You can't modify an existing version, you can only create a new version.");
      return { ARN: secret.arn, Name: secret.name, VersionId: retried.versionId, VersionStages: [...retried.stages] };
    }
    const stages = input.VersionStages ?? [CURRENT];
    if (!Array.isArray(stages) || stages.length === 0 || !stages.every((stage) => typeof stage === 'string')) {
      throw invalidParameter('VersionStages must be a non-empty list of strings.');
    }
    const version = addVersion(secret, value, token, stages, this.now().getTime());
    await this.save(secret);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: [...version.stages] };
  }

  private async getSecretValue(input: Input): Promise<object> {
    const secret = await this.existing(input);
    const versionId = optional<string>(input, 'VersionId', 'string');
    const stage = optional<string>(input, 'VersionStage', 'string');
    const version = versionId !== undefined ? secret.versions.find((candidate) => candidate.versionId === versionId) : versionWithStage(secret, stage ?? CURRENT);
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

  private async describeSecret(input: Input): Promise<object> {
    const secret = await this.existing(input, { allowDeleted: true });
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

  private async deleteSecret(input: Input): Promise<object> {
    const force = optional<boolean>(input, 'ForceDeleteWithoutRecovery', 'boolean') ?? false;
    const window = optional<number>(input, 'RecoveryWindowInDays', 'number');
    if (force && window !== undefined) throw invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
    if (window !== undefined && !(Number.isInteger(window) && window >= 7 && window <= 30)) {
      throw invalidParameter('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
    }
    const secret = await this.existing(input, { allowDeleted: true });
    const nowMs = this.now().getTime();
    if (force) {
      await this.purge(secret);
      return { ARN: secret.arn, Name: secret.name, DeletionDate: seconds(nowMs) };
    }
    if (secret.deletedMs !== undefined) throw invalidRequest("You tried to perform the operation on a secret that's currently marked deleted.");
    secret.deletedMs = nowMs;
    secret.deletionMs = nowMs + (window ?? 30) * DAY_MS;
    await this.save(secret);
    return { ARN: secret.arn, Name: secret.name, DeletionDate: seconds(secret.deletionMs) };
  }

  private async restoreSecret(input: Input): Promise<object> {
    const secret = await this.existing(input, { allowDeleted: true });
    if (secret.deletedMs !== undefined) {
      delete secret.deletedMs;
      delete secret.deletionMs;
      secret.lastChangedMs = this.now().getTime();
      await this.save(secret);
    }
    return { ARN: secret.arn, Name: secret.name };
  }

  private async listSecrets(input: Input): Promise<object> {
    const maxResults = optional<number>(input, 'MaxResults', 'number') ?? 100;
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100) throw invalidParameter('MaxResults must be between 1 and 100.');
    const includeDeleted = optional<boolean>(input, 'IncludePlannedDeletion', 'boolean') ?? false;
    const filters = ((input.Filters as Array<{ Key?: string; Values?: string[] }> | undefined) ?? []).map((filter) => ({
      key: filter.Key ?? '',
      values: filter.Values ?? [],
    }));
    const nowMs = this.now().getTime();
    for (const secret of [...this.secrets.values()]) {
      if (secret.deletionMs !== undefined && secret.deletionMs <= nowMs) await this.purge(secret);
    }
    const descending = input.SortOrder === 'desc';
    const ordered = [...this.secrets.values()]
      .filter((secret) => includeDeleted || secret.deletedMs === undefined)
      .filter((secret) => matchesFilters(secret, filters))
      .sort((a, b) => a.createdMs - b.createdMs || a.name.localeCompare(b.name));
    if (descending) ordered.reverse();
    const start = this.pageStart(optional<string>(input, 'NextToken', 'string'), ordered.length);
    const page = ordered.slice(start, start + maxResults);
    const next = start + page.length;
    return {
      SecretList: page.map((secret) => ({ ...this.summary(secret), SecretVersionsToStages: versionsToStages(secret) })),
      ...(next < ordered.length ? { NextToken: Buffer.from(JSON.stringify({ offset: next })).toString('base64') } : {}),
    };
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

  private async putResourcePolicy(input: Input): Promise<object> {
    const secret = await this.existing(input);
    const policy = required<string>(input, 'ResourcePolicy', 'string');
    try {
      JSON.parse(policy);
    } catch {
      throw new SecretsManagerError('MalformedPolicyDocumentException', 'The resource policy is not valid JSON.');
    }
    secret.resourcePolicy = policy;
    await this.save(secret);
    return { ARN: secret.arn, Name: secret.name };
  }

  private async getResourcePolicy(input: Input): Promise<object> {
    const secret = await this.existing(input, { allowDeleted: true });
    return { ARN: secret.arn, Name: secret.name, ...(secret.resourcePolicy !== undefined ? { ResourcePolicy: secret.resourcePolicy } : {}) };
  }

  private async deleteResourcePolicy(input: Input): Promise<object> {
    const secret = await this.existing(input);
    if (secret.resourcePolicy !== undefined) {
      delete secret.resourcePolicy;
      await this.save(secret);
    }
    return { ARN: secret.arn, Name: secret.name };
  }

  private async tagResource(input: Input): Promise<object> {
    const secret = await this.existing(input);
    secret.tags = mergeTags(secret.tags, readTags(input, 'Tags'));
    await this.save(secret);
    return {};
  }

  private async untagResource(input: Input): Promise<object> {
    const secret = await this.existing(input);
    const keys = input.TagKeys;
    if (!Array.isArray(keys)) throw invalidParameter('TagKeys must be a list of strings.');
    secret.tags = secret.tags.filter((tag) => !keys.includes(tag.Key));
    await this.save(secret);
    return {};
  }

  private async rotateSecret(input: Input): Promise<object> {
    const secret = await this.existing(input);
    const hook = this.options.onRotate;
    if (!hook) throw invalidRequest('Rotation is not available locally: the local engine has no rotation hook registered.');
    const token = optional<string>(input, 'ClientRequestToken', 'string');
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
      const lambdaArn = optional<string>(input, 'RotationLambdaARN', 'string');
      const rules = optional<Record<string, unknown>>(input, 'RotationRules', 'object');
      if (lambdaArn !== undefined) secret.rotationLambdaArn = lambdaArn;
      if (rules !== undefined) secret.rotationRules = rules;
      await this.save(secret);
      return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId };
    } finally {
      this.rotating.delete(secret.arn);
    }
  }
}
