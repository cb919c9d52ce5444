// Adapter (DynamoDB + KMS): the `dynamodb-kms` delivery vault, past Secrets Manager's 50/s write
// quotas (docs/scale.md §8). The delivery JSON is encrypted with KMS `Encrypt` under an encryption
// context naming agent, task and grant, and put in the delivery table at (agentId, taskId): the
// runtime may read only its agent's partition (`dynamodb:LeadingKeys`) and decrypt only under its
// agent's context (`kms:EncryptionContext:taskbound:agent-id`). No secret, no per-task control plane.
import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { DeleteCommand, GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { deliveryPayloadSchema } from '../../domain/delivery';
import { DELIVERY_ITEM, deliveryEncryptionContext, deliveryItemKey } from '../../domain/delivery-item';
import { deliverySecretName } from '../../domain/ids';
import type { Clock, Delivery, DeliveryPayload, DeliveryVault } from '../../ports';
import { DeliveryVaultError } from './secrets-manager-delivery-vault';

/** A delivery with no expiry yet (pending, denied) is kept at most this long by TTL; the sweep deletes it sooner. */
const UNEXPIRING_TTL_MS = 24 * 3600_000;
/** TTL is a backstop behind revocation's delete: an item outlives its credential's expiry by this much. */
const TTL_MARGIN_MS = 3600_000;
const SCAN_PAGE_SIZE = 100;

export interface DynamoDbKmsDeliveryVaultOptions {
  readonly tableName: string;
  /** The stack's customer managed key (ARN): encrypts, and is the only key a read accepts. */
  readonly keyId: string;
  readonly clock: Clock;
}

/** Delivers through a DynamoDB item encrypted by KMS; the clients are injected (AWS, moto, or the local engine). */
export class DynamoDbKmsDeliveryVault implements DeliveryVault {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly kms: KMSClient,
    private readonly options: DynamoDbKmsDeliveryVaultOptions,
  ) {}

  /**
   * SDK calls: 2 (KMS Encrypt, DynamoDB PutItem), however often the status changes. The item is
   * replaced whole, so a retry after a crash anywhere completes the delivery.
   */
  async deliver(delivery: Delivery): Promise<void> {
    const key = keyOf(delivery.name);
    if (key.agentId !== delivery.agentId || key.taskId !== delivery.taskId) {
      throw new DeliveryVaultError(`delivery ${delivery.name} does not name agent ${delivery.agentId} and task ${delivery.taskId}`);
    }
    const encrypted = await this.kms.send(
      new EncryptCommand({
        KeyId: this.options.keyId,
        Plaintext: Buffer.from(JSON.stringify(delivery.payload), 'utf8'),
        EncryptionContext: deliveryEncryptionContext(delivery.agentId, delivery.taskId, delivery.grantId),
      }),
    );
    if (!encrypted.CiphertextBlob) throw new DeliveryVaultError(`KMS returned no ciphertext for delivery ${delivery.name}`);
    const ttlFrom = delivery.expiresAt ? Date.parse(delivery.expiresAt) : this.options.clock.now().getTime() + UNEXPIRING_TTL_MS;
    await this.documents.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: {
          [DELIVERY_ITEM.partitionKey]: delivery.agentId,
          [DELIVERY_ITEM.sortKey]: delivery.taskId,
          [DELIVERY_ITEM.grantId]: delivery.grantId,
          [DELIVERY_ITEM.ciphertext]: encrypted.CiphertextBlob,
          [DELIVERY_ITEM.ttl]: Math.ceil((ttlFrom + TTL_MARGIN_MS) / 1000),
        },
      }),
    );
  }

  /**
   * SDK calls: 2 (GetItem, strongly consistent; KMS Decrypt), 1 when absent. The context is
   * rebuilt from the item's key and grant id: an item whose attributes were changed fails to decrypt.
   */
  async read(name: string): Promise<DeliveryPayload | undefined> {
    const key = keyOf(name);
    const found = await this.documents.send(new GetCommand({ TableName: this.options.tableName, Key: itemKey(key), ConsistentRead: true }));
    const item = found.Item;
    if (!item) return undefined;
    const grantId = item[DELIVERY_ITEM.grantId];
    const ciphertext = item[DELIVERY_ITEM.ciphertext];
    if (typeof grantId !== 'string' || !(ciphertext instanceof Uint8Array))
      throw new DeliveryVaultError(`delivery item ${name} is malformed`);
    const decrypted = await this.kms.send(
      new DecryptCommand({
        KeyId: this.options.keyId,
        CiphertextBlob: ciphertext,
        EncryptionContext: deliveryEncryptionContext(key.agentId, key.taskId, grantId),
      }),
    );
    return parsePayload(name, grantId, decrypted.Plaintext);
  }

  /** SDK calls: 1 (DeleteItem; absent already counts as done). */
  async destroy(name: string): Promise<void> {
    await this.documents.send(new DeleteCommand({ TableName: this.options.tableName, Key: itemKey(keyOf(name)) }));
  }

  /** SDK calls: 1 Scan page per 100 items, keys and grant ids only (never the ciphertext). */
  async *listDeliveries(): AsyncIterable<{ readonly name: string; readonly grantId?: string }> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new ScanCommand({
          TableName: this.options.tableName,
          ProjectionExpression: '#agent, #task, #grant',
          ExpressionAttributeNames: {
            '#agent': DELIVERY_ITEM.partitionKey,
            '#task': DELIVERY_ITEM.sortKey,
            '#grant': DELIVERY_ITEM.grantId,
          },
          Limit: SCAN_PAGE_SIZE,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const agentId = item[DELIVERY_ITEM.partitionKey] as unknown;
        const taskId = item[DELIVERY_ITEM.sortKey] as unknown;
        const grantId = item[DELIVERY_ITEM.grantId] as unknown;
        if (typeof agentId !== 'string' || typeof taskId !== 'string') continue;
        yield { name: deliverySecretName(agentId, taskId), ...(typeof grantId === 'string' ? { grantId } : {}) };
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
}

function keyOf(name: string): { readonly agentId: string; readonly taskId: string } {
  const key = deliveryItemKey(name);
  if (!key) throw new DeliveryVaultError(`delivery ${name} is not taskbound/<agentId>/<taskId>`);
  return key;
}

const itemKey = (key: { readonly agentId: string; readonly taskId: string }) => ({
  [DELIVERY_ITEM.partitionKey]: key.agentId,
  [DELIVERY_ITEM.sortKey]: key.taskId,
});

/** Parses a decrypted delivery; errors name the item, never its text (it may hold a credential). */
function parsePayload(name: string, grantId: string, plaintext: Uint8Array | undefined): DeliveryPayload {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(plaintext ?? new Uint8Array()).toString('utf8'));
  } catch {
    throw new DeliveryVaultError(`delivery item ${name} does not hold JSON`);
  }
  const parsed = deliveryPayloadSchema.safeParse(value);
  if (!parsed.success || parsed.data.grantId !== grantId)
    throw new DeliveryVaultError(`delivery item ${name} does not hold a delivery payload of grant ${grantId}`);
  return parsed.data;
}
