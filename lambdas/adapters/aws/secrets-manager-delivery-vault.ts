// Adapter (AWS Secrets Manager): the delivery vault of docs/contract.md §5. Each task's status and
// credential sit in `taskbound/<agentId>/<taskId>`, readable by the agent's runtime alone.
// Works against AWS and the local engine's Secrets Manager alike: documented behaviour only.
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  TagResourceCommand,
  type SecretsManagerClient,
  type Tag,
} from '@aws-sdk/client-secrets-manager';
import { TaskboundError } from '../../domain/errors';
import { DELIVERY_SECRET_PREFIX } from '../../domain/ids';
import type { Delivery, DoneAheadOfDelivery, DeliveryAddress, DeliveryPayload, DeliveryVault } from '../../ports';
import { notYet, retry, settled, type Backoff } from '../retry';
import type { Sleep } from '../sleep';

/** Tags on every delivery secret: orphan reconciliation reads the grant id back from them. */
export const DELIVERY_TAGS = {
  grantId: 'taskbound:grant-id',
  agentId: 'taskbound:agent-id',
  taskId: 'taskbound:task-id',
  expiresAt: 'taskbound:expires-at',
} as const;

/** What the runtime may do with its delivery secret: read it, nothing else. */
const READ_ACTIONS = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];
/**
 * What would change the value, who may read it, where copies live or what its tags claim
 * (orphan reconciliation trusts the grant-id tag): only the engine may. Someone who created
 * the secret first still cannot copy it to a region, retag it or delete it.
 */
const CHANGE_ACTIONS = [
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecret',
  'secretsmanager:UpdateSecretVersionStage',
  'secretsmanager:PutResourcePolicy',
  'secretsmanager:DeleteResourcePolicy',
  'secretsmanager:RestoreSecret',
  'secretsmanager:DeleteSecret',
  'secretsmanager:RotateSecret',
  'secretsmanager:CancelRotateSecret',
  'secretsmanager:ReplicateSecretToRegions',
  'secretsmanager:RemoveRegionsFromReplication',
  'secretsmanager:StopReplicationToReplica',
  'secretsmanager:TagResource',
  'secretsmanager:UntagResource',
];
const LIST_PAGE_SIZE = 100;
/** BatchGetSecretValue takes at most 20 secret ids per call. */
export const BATCH_READ_SIZE = 20;
/** How AWS words an operation refused because the secret is scheduled for deletion. */
const MARKED_FOR_DELETION = /marked for deletion|scheduled for deletion|marked deleted/i;
const PAYLOAD_STATUSES: ReadonlySet<string> = new Set(['pending_approval', 'issued', 'denied']);
/**
 * CreateSecret on a name still scheduled for deletion is tried again with backoff. A forced
 * delete finishes in the background "after a short delay", and AWS asks callers that create
 * the same name again to "use appropriate back off and retry logic" (DeleteSecret,
 * ForceDeleteWithoutRecovery). Six attempts, at most about 8 s of waiting; a name an operator
 * scheduled for deletion with a recovery window stays refused, and the delivery fails.
 */
export const CREATE_AFTER_DELETE_BACKOFF: Backoff = { attempts: 6, baseDelayMs: 250, maxDelayMs: 4000 };

export interface SecretsManagerDeliveryVaultOptions {
  /** The stack's KMS key (ARN); Secrets Manager's AWS managed key when absent. */
  readonly kmsKeyArn?: string;
  /**
   * The key's policy lets only each agent's runtime (its own agents' secrets) and the engine
   * decrypt a delivery, and delegates no decryption to IAM (the stack's DeliveryKey; docs/deploy.md):
   * a value in a secret with no resource policy yet is then still readable by nobody else, so a
   * new delivery is created with its value and locked right after, one call fewer than creating
   * it empty and locked ahead. Without such a key (Secrets Manager's AWS managed key lets anyone
   * IAM allows decrypt) the vault prepares: created empty, locked, then the value.
   */
  readonly keyPolicyLocksValue?: boolean;
  /**
   * The engine's own principals (role ARNs, `*` wildcards allowed, as `aws:PrincipalArn`
   * sees them): besides the runtime, the only principals the resource policy lets read a
   * delivery, and the only ones that may change it.
   */
  readonly enginePrincipalArns: readonly string[];
  /** Waits between CreateSecret attempts on a name still being deleted (tests pass a fake). */
  readonly sleep?: Sleep;
}

/** A delivery secret that cannot be written or read as the contract requires. Never carries its value. */
export class DeliveryVaultError extends TaskboundError {}

/** The resource policy of a delivery: `readerArn` reads; nobody else but the engine reads or changes it. */
export function deliveryResourcePolicy(readerArn: string, enginePrincipalArns: readonly string[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'RuntimeReadsItsDelivery', Effect: 'Allow', Principal: { AWS: readerArn }, Action: READ_ACTIONS, Resource: '*' },
      {
        Sid: 'NobodyElseReads',
        Effect: 'Deny',
        Principal: '*',
        Action: READ_ACTIONS,
        Resource: '*',
        Condition: { ArnNotLike: { 'aws:PrincipalArn': [readerArn, ...enginePrincipalArns] } },
      },
      {
        Sid: 'OnlyTheEngineChangesIt',
        Effect: 'Deny',
        Principal: '*',
        Action: CHANGE_ACTIONS,
        Resource: '*',
        Condition: { ArnNotLike: { 'aws:PrincipalArn': [...enginePrincipalArns] } },
      },
    ],
  });
}

function tagsOf(delivery: DeliveryAddress): Tag[] {
  return [
    { Key: DELIVERY_TAGS.grantId, Value: delivery.grantId },
    { Key: DELIVERY_TAGS.agentId, Value: delivery.agentId },
    { Key: DELIVERY_TAGS.taskId, Value: delivery.taskId },
    ...(delivery.expiresAt ? [{ Key: DELIVERY_TAGS.expiresAt, Value: delivery.expiresAt }] : []),
  ];
}

function isPayload(value: unknown): value is DeliveryPayload {
  if (typeof value !== 'object' || value === null) return false;
  const { status, grantId, scopes } = value as Record<string, unknown>;
  return (
    typeof status === 'string' &&
    PAYLOAD_STATUSES.has(status) &&
    typeof grantId === 'string' &&
    Array.isArray(scopes) &&
    scopes.every((scope) => typeof scope === 'string')
  );
}

/** Parses a delivery; a parse error would quote the secret's text, so only the name is reported. */
function parsePayload(name: string, text: string | undefined): DeliveryPayload {
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    throw new DeliveryVaultError(`delivery secret ${name} does not hold JSON`);
  }
  if (!isPayload(value)) throw new DeliveryVaultError(`delivery secret ${name} does not hold a delivery payload`);
  return value;
}

function assertDeliveryName(name: string): void {
  if (!name.startsWith(DELIVERY_SECRET_PREFIX))
    throw new DeliveryVaultError(`delivery secret ${name} is not under ${DELIVERY_SECRET_PREFIX}`);
}

const markedForDeletion = (error: unknown) => error instanceof InvalidRequestException && MARKED_FOR_DELETION.test(error.message);

/** Delivers through Secrets Manager; the client is injected (AWS, or the local engine's endpoint). */
export class SecretsManagerDeliveryVault implements DeliveryVault {
  /**
   * Creates the secret empty and locks it to the runtime; the value comes later (`deliver` with
   * `prepared`), so a credential never sits in a secret without its resource policy, not even
   * between two calls. The engine calls this while the credential is being issued.
   * SDK calls: 2 for a new secret (CreateSecret, PutResourcePolicy); 3 when it exists, e.g. a
   * pending request that got approved or a duplicate `Task Started` (+ TagResource: the expiry
   * is known only once the credential is about to be issued). An empty secret reads as absent.
   * Absent when `keyPolicyLocksValue`: there is nothing to gain by preparing.
   */
  readonly prepare?: (address: DeliveryAddress) => Promise<void>;
  /**
   * CreateSecret with the value, under the key, with no resource policy yet (1 SDK call); `deliver`
   * with `staged` then locks it. False, writing nothing, when the secret exists. Present only when
   * `keyPolicyLocksValue`: the key is what keeps anyone else from reading it meanwhile.
   */
  readonly stage?: (delivery: Delivery) => Promise<boolean>;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly options: SecretsManagerDeliveryVaultOptions,
  ) {
    if (options.enginePrincipalArns.length === 0) throw new RangeError('enginePrincipalArns needs at least the engine role');
    if (options.keyPolicyLocksValue === true && options.kmsKeyArn === undefined)
      throw new RangeError('keyPolicyLocksValue needs the kmsKeyArn whose policy locks the value');
    if (options.keyPolicyLocksValue === true) {
      this.stage = (delivery) => {
        assertDeliveryName(delivery.name);
        return this.createSecret(delivery, JSON.stringify(delivery.payload));
      };
    } else {
      this.prepare = (address) => this.createLocked(address);
    }
  }

  /**
   * Writes the delivery. SDK calls: 1 when `staged` (PutResourcePolicy: the value is in) or
   * `prepared` (PutSecretValue: the lock is on). Otherwise a new secret is created and locked: with
   * the key's lock (`keyPolicyLocksValue`) created with its value, 2 calls (CreateSecret,
   * PutResourcePolicy), else created empty, locked, then written, 3. One that exists already (a
   * pending request approved, a duplicate `Task Started`, a retry after a crash) is re-tagged and
   * locked before its value is written: 4, or 3 when `existing` (`stage` found it: not tried again).
   * Every step is idempotent, so a retry after a crash anywhere completes the delivery.
   */
  async deliver(delivery: Delivery, ahead?: DoneAheadOfDelivery): Promise<void> {
    assertDeliveryName(delivery.name);
    if (ahead === 'staged') return this.lock(delivery);
    const value = JSON.stringify(delivery.payload);
    if (ahead !== 'prepared') {
      const withValue = this.options.keyPolicyLocksValue === true;
      const created = ahead !== 'existing' && (await this.createSecret(delivery, withValue ? value : undefined));
      if (!created) await this.retag(delivery);
      await this.lock(delivery);
      if (created && withValue) return;
    }
    await this.client.send(new PutSecretValueCommand({ SecretId: delivery.name, SecretString: value }));
  }

  /** Created empty, or re-tagged where it exists; then locked to its reader. */
  private async createLocked(address: DeliveryAddress): Promise<void> {
    assertDeliveryName(address.name);
    if (!(await this.createSecret(address))) await this.retag(address);
    await this.lock(address);
  }

  /** An existing secret's tags are made this delivery's (the expiry is known only once the credential is about to be issued). */
  private async retag(address: DeliveryAddress): Promise<void> {
    await this.client.send(new TagResourceCommand({ SecretId: address.name, Tags: tagsOf(address) }));
  }

  /** The resource policy: the runtime reads, nobody else but the engine reads or changes the secret. */
  private async lock(address: DeliveryAddress): Promise<void> {
    await this.client.send(
      new PutResourcePolicyCommand({
        SecretId: address.name,
        ResourcePolicy: deliveryResourcePolicy(address.readerArn, this.options.enginePrincipalArns),
        BlockPublicPolicy: true,
      }),
    );
  }

  /** SDK calls: 1. Absent, empty or scheduled for deletion reads as undefined. */
  async read(name: string): Promise<DeliveryPayload | undefined> {
    try {
      const secret = await this.client.send(new GetSecretValueCommand({ SecretId: name }));
      return parsePayload(name, secret.SecretString);
    } catch (error) {
      if (error instanceof ResourceNotFoundException || markedForDeletion(error)) return undefined;
      throw error;
    }
  }

  /**
   * SDK calls: 1 per 20 names (BatchGetSecretValue; the engine role needs GetSecretValue on each
   * secret too). A secret absent or scheduled for deletion reads as undefined, as `read` has it;
   * one refused for any other reason (AccessDenied, a decryption failure) or not holding a delivery is left out of the
   * answer, for the caller to read on its own and see the error.
   */
  async readMany(names: readonly string[]): Promise<ReadonlyMap<string, DeliveryPayload | undefined>> {
    const answered = new Map<string, DeliveryPayload | undefined>();
    for (let start = 0; start < names.length; start += BATCH_READ_SIZE) {
      const chunk = names.slice(start, start + BATCH_READ_SIZE);
      const batch = await this.client.send(new BatchGetSecretValueCommand({ SecretIdList: chunk }));
      for (const secret of batch.SecretValues ?? []) {
        if (secret.Name === undefined || !chunk.includes(secret.Name)) continue;
        try {
          answered.set(secret.Name, parsePayload(secret.Name, secret.SecretString));
        } catch (error) {
          // Not a delivery: left out, so the caller's own read reports it.
          if (!(error instanceof DeliveryVaultError)) throw error;
        }
      }
      for (const error of batch.Errors ?? []) {
        const absent =
          error.ErrorCode === 'ResourceNotFoundException' ||
          (error.ErrorCode === 'InvalidRequestException' && MARKED_FOR_DELETION.test(error.Message ?? ''));
        if (absent && error.SecretId !== undefined && chunk.includes(error.SecretId)) answered.set(error.SecretId, undefined);
      }
    }
    return answered;
  }

  /**
   * SDK calls: 1. AWS documents that a forced delete of a secret already deleted or absent
   * does not fail with ResourceNotFoundException, and a forced delete of a secret scheduled
   * for deletion deletes it now. Should an endpoint refuse the latter as "marked deleted"
   * instead, the secret is restored and deleted at once (3 calls): waiting out a recovery
   * window would leave a readable credential behind for days.
   */
  async destroy(name: string): Promise<void> {
    try {
      await this.forceDelete(name);
    } catch (error) {
      if (!markedForDeletion(error)) throw error;
      try {
        await this.client.send(new RestoreSecretCommand({ SecretId: name }));
      } catch (restoreError) {
        if (restoreError instanceof ResourceNotFoundException) return;
        throw restoreError;
      }
      await this.forceDelete(name);
    }
  }

  /**
   * SDK calls: 1 per 100 secrets. The `name` filter is a case-insensitive prefix match, so
   * names are checked again here; secrets scheduled for deletion are not listed (they are dead).
   */
  async *listDeliveries(): AsyncIterable<{ readonly name: string; readonly grantId?: string }> {
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListSecretsCommand({
          Filters: [{ Key: 'name', Values: [DELIVERY_SECRET_PREFIX] }],
          MaxResults: LIST_PAGE_SIZE,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      for (const secret of page.SecretList ?? []) {
        if (!secret.Name?.startsWith(DELIVERY_SECRET_PREFIX)) continue;
        const grantId = secret.Tags?.find((tag) => tag.Key === DELIVERY_TAGS.grantId)?.Value;
        yield { name: secret.Name, ...(grantId ? { grantId } : {}) };
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }

  /**
   * CreateSecret (with `value`, or empty), backing off while the name is still scheduled for
   * deletion (see CREATE_AFTER_DELETE_BACKOFF). False when the secret exists already: it is left
   * as it was, and no value was written.
   */
  private async createSecret(delivery: DeliveryAddress, value?: string): Promise<boolean> {
    const command = new CreateSecretCommand({
      Name: delivery.name,
      Description: `Taskbound delivery of grant ${delivery.grantId}`,
      ...(this.options.kmsKeyArn ? { KmsKeyId: this.options.kmsKeyArn } : {}),
      ...(value !== undefined ? { SecretString: value } : {}),
      Tags: tagsOf(delivery),
    });
    const created = await retry(
      CREATE_AFTER_DELETE_BACKOFF,
      async () => {
        try {
          await this.client.send(command);
          return settled(true);
        } catch (error) {
          if (error instanceof ResourceExistsException) return settled(false);
          if (!markedForDeletion(error)) throw error;
          return notYet(error);
        }
      },
      this.options.sleep ? { sleep: this.options.sleep } : {},
    );
    if (!created.settled) {
      throw new DeliveryVaultError(
        `delivery secret ${delivery.name} is scheduled for deletion; it cannot be delivered to until it is gone`,
        { cause: created.last },
      );
    }
    return created.value;
  }

  private async forceDelete(name: string): Promise<void> {
    try {
      await this.client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return;
      throw error;
    }
  }
}
