// Adapter (AWS DynamoDB): many writes packed into as few TransactWriteItems calls as DynamoDB's
// limits allow. A call takes at most 100 actions and 4 MB, and may not touch one item twice
// (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).

/** Actions in one TransactWriteItems call. */
export const MAX_TRANSACT_ACTIONS = 100;
/**
 * The 4 MB aggregate, with a margin: a write's size is estimated from its attributes' JSON, which
 * is near what DynamoDB counts (names and values) but not the same, so the estimate stays well under.
 */
export const MAX_TRANSACT_BYTES = 3_000_000;

/** One write as it would go into a transaction: how many actions, which items, and about how many bytes. */
export interface Packable {
  readonly actions: number;
  readonly items: readonly string[];
  readonly bytes: number;
}

/**
 * The writes in groups that each fit one call, first fit, in their order within each group. A write
 * that fits no call on its own (more than the limits) gets a group of its own: its call then fails
 * as it would alone.
 */
export function packTransactions<T extends Packable>(writes: readonly T[]): T[][] {
  const groups: { writes: T[]; actions: number; bytes: number; items: Set<string> }[] = [];
  for (const write of writes) {
    const fits = groups.find(
      (group) =>
        group.actions + write.actions <= MAX_TRANSACT_ACTIONS &&
        group.bytes + write.bytes <= MAX_TRANSACT_BYTES &&
        write.items.every((item) => !group.items.has(item)),
    );
    if (fits) {
      fits.writes.push(write);
      fits.actions += write.actions;
      fits.bytes += write.bytes;
      for (const item of write.items) fits.items.add(item);
    } else groups.push({ writes: [write], actions: write.actions, bytes: write.bytes, items: new Set(write.items) });
  }
  return groups.map((group) => group.writes);
}
