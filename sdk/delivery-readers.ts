// SDK: reading a task's delivery in either mode the deployment chose (docs/scale.md §8):
// a Secrets Manager secret `taskbound/<agentId>/<taskId>` (GetSecretValue), or, when the
// runtime is given the delivery table, its agent's item there (GetItem) decrypted with KMS
// under the context that names agent, task and grant (Decrypt). Both yield the same payload.
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DecryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { deliveryPayloadSchema } from '../lambdas/domain/delivery';
import { DELIVERY_ITEM, deliveryEncryptionContext } from '../lambdas/domain/delivery-item';
import { deliverySecretName } from '../lambdas/domain/ids';
import { TaskboundError } from './errors';
import type { DeliveryReading, TaskRef } from './types';

/** A read's finding, and the delivery's own date when the service says it (Secrets Manager's version `CreatedDate`). */
export interface TimedReading {
  readonly reading: DeliveryReading;
  readonly deliveredAtMs?: number;
  /** The service refused this runtime the read (AccessDeniedException): read as `absent`, for the reasons below. */
  readonly refused?: Error;
}

export type DeliveryReader = (task: TaskRef) => Promise<TimedReading>;

const ABSENT: TimedReading = { reading: { status: 'absent' } };

/** Secrets Manager's answers for a secret that does not exist, or is being deleted. */
const ABSENT_ERRORS: ReadonlySet<string> = new Set(['ResourceNotFoundException', 'InvalidRequestException']);

/**
 * One GetSecretValue; absent, being deleted, or refused reads as absent. A runtime that holds no
 * `secretsmanager:GetSecretValue` of its own (the resource policy names it) is refused
 * AccessDeniedException until the delivery exists and is locked to it (docs/contract.md §5): with
 * nothing to allow it, IAM refuses before it looks for the secret, so on AWS that is from its first
 * read until the engine's `PutResourcePolicy`, however long the issue takes (locally, the delivery
 * lock refuses every key but the engine's in the moment between: delivery-lock.ts). A runtime that
 * may never read is told at the end of its wait (`WaitTimeoutError` names the refusal).
 */
export function secretsManagerReader(client: SecretsManagerClient): DeliveryReader {
  return async (task) => {
    try {
      return readingOfSecret(
        task,
        await client.send(new GetSecretValueCommand({ SecretId: deliverySecretName(task.agentId, task.taskId) })),
      );
    } catch (error) {
      return readingOfError(error);
    }
  };
}

/** A delivery secret's value as read (GetSecretValue, or one of BatchGetSecretValue's), with its version date. */
export function readingOfSecret(task: TaskRef, secret: { readonly SecretString?: string; readonly CreatedDate?: Date }): TimedReading {
  const reading = parseDelivery(task, secret.SecretString);
  return secret.CreatedDate instanceof Date ? { reading, deliveredAtMs: secret.CreatedDate.getTime() } : { reading };
}

/** Secrets Manager's refusal to read a delivery: absent or being deleted is absent, refused is not yet; anything else is thrown. */
export function readingOfError(error: unknown): TimedReading {
  if (!(error instanceof Error)) throw error;
  if (ABSENT_ERRORS.has(error.name)) return ABSENT;
  if (error.name === 'AccessDeniedException') return { ...ABSENT, refused: error };
  throw error;
}

/**
 * One strongly consistent GetItem of the agent's own partition, then one KMS Decrypt (none when
 * absent). The context is rebuilt from the item's key and grant id: KMS refuses it for any other
 * agent, task or grant, and an item whose grant id was altered fails to decrypt.
 */
export function dynamoDbKmsReader(dynamoDb: DynamoDBClient, kms: KMSClient, tableName: string): DeliveryReader {
  return async (task) => {
    const found = await dynamoDb.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { [DELIVERY_ITEM.partitionKey]: { S: task.agentId }, [DELIVERY_ITEM.sortKey]: { S: task.taskId } },
        ConsistentRead: true,
      }),
    );
    const item = found.Item;
    if (!item) return ABSENT;
    const grantId = item[DELIVERY_ITEM.grantId]?.S;
    const ciphertext = item[DELIVERY_ITEM.ciphertext]?.B;
    if (!grantId || !ciphertext) throw new TaskboundError(`the delivery item for ${task.agentId}/${task.taskId} is malformed`);
    const decrypted = await kms.send(
      new DecryptCommand({ CiphertextBlob: ciphertext, EncryptionContext: deliveryEncryptionContext(task.agentId, task.taskId, grantId) }),
    );
    const reading = parseDelivery(task, Buffer.from(decrypted.Plaintext ?? new Uint8Array()).toString('utf8'));
    if (reading.status !== 'absent' && reading.grantId !== grantId) {
      throw new TaskboundError(`the delivery item for ${task.agentId}/${task.taskId} names another grant than it was encrypted for`);
    }
    return { reading };
  };
}

/** Parses a delivery's JSON; issues name fields, never values (a malformed delivery may still hold a secret). */
function parseDelivery(task: TaskRef, text: string | undefined): DeliveryReading {
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    throw new TaskboundError(`the delivery for ${task.agentId}/${task.taskId} is not JSON`);
  }
  const parsed = deliveryPayloadSchema.safeParse(value);
  if (!parsed.success)
    throw new TaskboundError(
      `the delivery for ${task.agentId}/${task.taskId} is malformed at ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`,
    );
  return parsed.data;
}
