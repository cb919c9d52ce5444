// Domain: identifiers. A grant's id is derived from (agentId, taskId), so a duplicated or
// reordered event always lands on the same grant record and can never issue twice.
import { createHash } from 'node:crypto';

export const TASK_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const AGENT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const GRANT_ID_PATTERN = /^g-[a-z2-7]{26}$/;
/** A scope's name in the policy, so an event naming any other is refused before the policy is read. */
export const SCOPE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Uint8Array, length: number): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** The grant id of an agent's task: stable, opaque, 130 bits of a SHA-256. */
export function grantIdFor(agentId: string, taskId: string): string {
  const digest = createHash('sha256').update(`taskbound-grant\0${agentId}\0${taskId}`).digest();
  return `g-${base32(digest, 26)}`;
}

/** Every delivery secret's name starts with this (docs/contract.md §5). */
export const DELIVERY_SECRET_PREFIX = 'taskbound/';

/**
 * Where a task's credential is delivered: `taskbound/<agentId>/<taskId>`. A task id may hold `:`
 * (`jira:OPS-12`), which Secrets Manager names may not (letters, digits and `/_+=.@-` only), so
 * each `:` becomes `@`, a character task ids never hold: two task ids never share a secret.
 */
export function deliverySecretName(agentId: string, taskId: string): string {
  return `${DELIVERY_SECRET_PREFIX}${agentId}/${taskId.replaceAll(':', '@')}`;
}

/** Stable shard of a grant for write-sharded indexes. */
export function shardOf(grantId: string, shards: number): number {
  const digest = createHash('sha256').update(grantId).digest();
  return digest.readUInt32BE(0) % shards;
}
