// Local engine, emulated AWS: the records behind the local Secrets Manager (secrets, versions, staging
// labels) and the rules AWS applies to them, kept apart from the wire protocol.
import { randomBytes, randomUUID } from 'node:crypto';
import { LOCAL_ACCOUNT_ID } from '../../constants';

export const CURRENT = 'AWSCURRENT';
export const PREVIOUS = 'AWSPREVIOUS';
/** AWS keeps about 100 versions; beyond that, unlabelled (deprecated) versions go first. */
const MAX_VERSIONS = 100;

export interface Tag {
  readonly Key: string;
  readonly Value: string;
}

/** A secret value: a string or base64-encoded bytes, exactly one of the two. */
export interface SecretValue {
  readonly secretString?: string;
  readonly secretBinary?: string;
}

export interface SecretVersion extends SecretValue {
  readonly versionId: string;
  stages: string[];
  readonly createdMs: number;
}

export interface SecretRecord {
  readonly arn: string;
  readonly name: string;
  description?: string;
  kmsKeyId?: string;
  tags: Tag[];
  /** Oldest first. */
  versions: SecretVersion[];
  readonly createdMs: number;
  lastChangedMs: number;
  /** When DeleteSecret scheduled the deletion. */
  deletedMs?: number;
  /** When the recovery window ends and the secret is gone for good. */
  deletionMs?: number;
  resourcePolicy?: string;
  rotationEnabled?: boolean;
  rotationLambdaArn?: string;
  rotationRules?: Record<string, unknown>;
  lastRotatedMs?: number;
}

/** An AWS error as the JSON protocol reports it. */
export class SecretsManagerError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = () => new SecretsManagerError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
export const markedForDeletion = () =>
  new SecretsManagerError('InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.");

const ARN_SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `arn:aws:secretsmanager:<region>:000000000000:secret:<name>-<6 random characters>`, as AWS mints them. */
export function newSecretArn(region: string, name: string): string {
  const suffix = [...randomBytes(6)].map((byte) => ARN_SUFFIX_ALPHABET[byte % ARN_SUFFIX_ALPHABET.length]).join('');
  return `arn:aws:secretsmanager:${region}:${LOCAL_ACCOUNT_ID}:secret:${name}-${suffix}`;
}

/** An ARN with its account left out: every account a policy names is emulated by the one local service. */
const anyAccount = (arn: string) => arn.replace(/^(arn:[^:]+:secretsmanager:[^:]*:)[^:]*(:secret:)/, '$1$2');

/**
 * Finds a secret by name, full ARN, or partial ARN (without the random suffix). A partial ARN may name
 * any account (the policy's brokered secrets are named by their accounts' ARNs, and minted locally in
 * 000000000000); a full ARN carries the local random suffix, so it can only be one the service minted.
 */
export function findSecret(byName: ReadonlyMap<string, SecretRecord>, secretId: string): SecretRecord | undefined {
  if (!secretId.startsWith('arn:')) return byName.get(secretId);
  const marker = secretId.indexOf(':secret:');
  if (marker < 0) return undefined;
  const rest = secretId.slice(marker + ':secret:'.length);
  const full = byName.get(rest.slice(0, -7));
  if (full?.arn === secretId) return full;
  const partial = byName.get(rest);
  return partial && anyAccount(partial.arn).startsWith(`${anyAccount(secretId)}-`) ? partial : undefined;
}

export function sameValue(a: SecretValue, b: SecretValue): boolean {
  return a.secretString === b.secretString && a.secretBinary === b.secretBinary;
}

export function versionWithStage(secret: SecretRecord, stage: string): SecretVersion | undefined {
  return secret.versions.find((version) => version.stages.includes(stage));
}

/**
 * Adds a version and moves `stages` onto it. Moving AWSCURRENT also moves AWSPREVIOUS onto
 * the version that was current, as Secrets Manager does.
 */
export function addVersion(
  secret: SecretRecord,
  value: SecretValue,
  versionId: string | undefined,
  stages: readonly string[],
  nowMs: number,
): SecretVersion {
  const wasCurrent = stages.includes(CURRENT) ? versionWithStage(secret, CURRENT) : undefined;
  for (const version of secret.versions) version.stages = version.stages.filter((stage) => !stages.includes(stage));
  if (wasCurrent) {
    for (const version of secret.versions) version.stages = version.stages.filter((stage) => stage !== PREVIOUS);
    wasCurrent.stages.push(PREVIOUS);
  }
  const version: SecretVersion = { versionId: versionId ?? randomUUID(), stages: [...stages], createdMs: nowMs, ...value };
  secret.versions.push(version);
  pruneVersions(secret);
  secret.lastChangedMs = nowMs;
  return version;
}

function pruneVersions(secret: SecretRecord): void {
  while (secret.versions.length > MAX_VERSIONS) {
    const oldestUnlabelled = secret.versions.findIndex((version) => version.stages.length === 0);
    if (oldestUnlabelled < 0) return;
    secret.versions.splice(oldestUnlabelled, 1);
  }
}

export function versionsToStages(secret: SecretRecord): Record<string, string[]> {
  return Object.fromEntries(
    secret.versions.filter((version) => version.stages.length > 0).map((version) => [version.versionId, [...version.stages]]),
  );
}

export function mergeTags(current: readonly Tag[], added: readonly Tag[]): Tag[] {
  const byKey = new Map(current.map((tag) => [tag.Key, tag]));
  for (const tag of added) byKey.set(tag.Key, { Key: tag.Key, Value: tag.Value });
  return [...byKey.values()];
}

/** ListSecrets filters: prefix matches, `!` negates; values of one key OR, keys AND. */
export function matchesFilters(
  secret: SecretRecord,
  filters: ReadonlyArray<{ readonly key: string; readonly values: readonly string[] }>,
): boolean {
  return filters.every(({ key, values }) =>
    values.some((raw) => {
      const negated = raw.startsWith('!');
      const value = negated ? raw.slice(1) : raw;
      return filterHit(secret, key, value) !== negated;
    }),
  );
}

function filterHit(secret: SecretRecord, key: string, value: string): boolean {
  const lower = value.toLowerCase();
  switch (key) {
    case 'name':
      return secret.name.startsWith(value);
    case 'description':
      return (secret.description ?? '').toLowerCase().startsWith(lower);
    case 'tag-key':
      return secret.tags.some((tag) => tag.Key.startsWith(value));
    case 'tag-value':
      return secret.tags.some((tag) => tag.Value.startsWith(value));
    case 'all': {
      const words = lower.split(/\s+/).filter(Boolean);
      const fields = [secret.name, secret.description ?? '', ...secret.tags.flatMap((tag) => [tag.Key, tag.Value])].map((field) =>
        field.toLowerCase(),
      );
      return words.every((word) => fields.some((field) => field.startsWith(word)));
    }
    default:
      // primary-region and owning-service: nothing is replicated or service-owned locally.
      return false;
  }
}
