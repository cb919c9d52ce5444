// Adapter (DynamoDB): the single-table layout, shared by the store, the CDK table and
// the local engine's bootstrap so all three always agree.
//
// Items:
//   grant          pk GRANT#<grantId>   sk GRANT    (+ due index and agent index attributes)
//   expiry marker  pk GRANT#<grantId>   sk EXPIRY   ttl = the grant's expiry (TTL-delete stream backstop)
//   slack approval pk GRANT#<grantId>   sk SLACK#APPROVAL  (where its approval request was posted; 7-day ttl)
//   agent          pk AGENT#<agentId>   sk AGENT    (suspension)
//   standing copy  pk AGENT#<agentId>   sk STANDING#<n>  suspended, at: what a start checks (see STANDING_SHARDS)
//   slot           pk AGENT#<agentId>   sk SLOT#<n> holder = the live grant holding it (the concurrency cap)
//   deny lock      pk AGENT#<agentId>   sk DENY-LOCK#<account>  holder, leaseEndsMs: one revoker at a time on the agent's role (role-deny-lock.ts)
//   refused event  pk REJECTED#<day>    sk <at>#<eventId>
export const GRANT_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds. On grants: when the record may go (retention); on expiry markers: the expiry. */
  ttlAttribute: 'ttl',
} as const;

/** Grants whose credential should be dead or whose state is overdue; sparse, write-sharded. */
export const DUE_INDEX = { name: 'due', partitionKey: 'dueShard', sortKey: 'dueAt' } as const;
/**
 * The live grants of an agent (those that may hold a credential), newest first. Sparse:
 * `liveAgentId` is set only while a grant is live, so counting an agent's live grants on
 * every task start and revoking them all on suspension read only live grants, never history.
 */
export const AGENT_INDEX = { name: 'liveByAgent', partitionKey: 'liveAgentId', sortKey: 'createdAt' } as const;
/** Grant by issued access key id (for leak reports); sparse, keys only. */
export const CREDENTIAL_INDEX = { name: 'byCredential', partitionKey: 'credentialId' } as const;

/** Shards of the due index: spreads thousands of writes per second over many partitions. */
export const DUE_SHARDS = 16;

export const grantKey = (grantId: string) => ({ pk: `GRANT#${grantId}`, sk: 'GRANT' });
export const expiryMarkerKey = (grantId: string) => ({ pk: `GRANT#${grantId}`, sk: 'EXPIRY' });
export const agentKey = (agentId: string) => ({ pk: `AGENT#${agentId}`, sk: 'AGENT' });
/**
 * Copies of an agent's standing, written with it in one transaction. A start checks the copy its slot
 * falls on, not the agent item: DynamoDB cancels a transaction that meets another on any item, a
 * ConditionCheck's included, so with one item every concurrent start of an agent conflicted with the
 * others (0.9 retries per start with 100 runtimes of one agent). Sixteen copies cut that sixteenfold;
 * a suspension writes seventeen items instead of one.
 */
export const STANDING_SHARDS = 16;
export const standingCopyKey = (agentId: string, shard: number) => ({ pk: `AGENT#${agentId}`, sk: `STANDING#${shard}` });
/** One of an agent's `maxConcurrentGrants` slots: a live grant holds one, taken by a conditional put. */
export const slotKey = (agentId: string, slot: number) => ({ pk: `AGENT#${agentId}`, sk: `${SLOT_PREFIX}${slot}` });
export const SLOT_PREFIX = 'SLOT#';
export const roleDenyLockKey = (agentId: string, account: string) => ({ pk: `AGENT#${agentId}`, sk: `DENY-LOCK#${account}` });
