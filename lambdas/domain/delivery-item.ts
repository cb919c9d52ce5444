// Domain: the `dynamodb-kms` delivery mode's item. The engine encrypts the delivery JSON with KMS
// under an encryption context naming agent, task and grant, and writes it to the delivery table
// keyed by agent (partition: what `dynamodb:LeadingKeys` confines a runtime to) and task.
// The engine adapter and the runtime SDK both read it through these names, so they cannot drift.

/** How a deployment delivers: Secrets Manager (the default) or a KMS-encrypted DynamoDB item. */
export const DELIVERY_MODES = ['secrets-manager', 'dynamodb-kms'] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

/** Attribute names of a delivery item. `agentId`/`taskId` are the key; `expiresAtEpoch` is the table's TTL. */
export const DELIVERY_ITEM = {
  partitionKey: 'agentId',
  sortKey: 'taskId',
  grantId: 'grantId',
  ciphertext: 'ciphertext',
  ttl: 'expiresAtEpoch',
} as const;

/** Keys of the encryption context: the key policy conditions a runtime's `kms:Decrypt` on the agent's. */
export const DELIVERY_CONTEXT_KEYS = {
  agentId: 'taskbound:agent-id',
  taskId: 'taskbound:task-id',
  grantId: 'taskbound:grant-id',
} as const;

/** The encryption context of one delivery: decryption fails unless the reader names the same three. */
export function deliveryEncryptionContext(agentId: string, taskId: string, grantId: string): Record<string, string> {
  return { [DELIVERY_CONTEXT_KEYS.agentId]: agentId, [DELIVERY_CONTEXT_KEYS.taskId]: taskId, [DELIVERY_CONTEXT_KEYS.grantId]: grantId };
}

/**
 * The delivery's name (`deliverySecretName`, kept on the grant) as the item's key, or undefined.
 * The name writes a task id's `:` as `@` (Secrets Manager names may not hold `:`; task ids never
 * hold `@`), so the item, keyed by the task id itself, turns it back.
 */
export function deliveryItemKey(name: string): { readonly agentId: string; readonly taskId: string } | undefined {
  const match = /^taskbound\/([^/]+)\/([^/]+)$/.exec(name);
  return match ? { agentId: match[1]!, taskId: match[2]!.replaceAll('@', ':') } : undefined;
}
