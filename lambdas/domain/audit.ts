// Domain: the per-grant audit chain. Each entry's hash covers the previous entry's hash,
// so editing, dropping or reordering any entry breaks every hash after it.
import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntry {
  readonly seq: number;
  readonly at: string;
  /** Who caused it: a principal, an approver, or `taskbound` for the engine itself. */
  readonly actor: string;
  /** What happened, e.g. `requested`, `approved`, `issued`, `revoked`, `refused`. */
  readonly action: string;
  readonly from?: string;
  readonly to?: string;
  readonly reason?: string;
  readonly policyVersion: string;
  /** Extra facts worth keeping (scopes, credential id, systems touched). Never secrets. */
  readonly detail?: Readonly<Record<string, unknown>>;
  readonly prevHash: string;
  readonly hash: string;
}

export type AuditFacts = Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>;

/** JSON with object keys sorted, so the same facts always hash the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function hashEntry(grantId: string, entry: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256')
    .update(canonicalJson({ grantId, ...entry }))
    .digest('hex');
}

/** The next entry of a chain whose last entry is `previous` (or none). */
export function nextAuditEntry(grantId: string, previous: AuditEntry | undefined, facts: AuditFacts): AuditEntry {
  const unsigned = { ...facts, seq: previous ? previous.seq + 1 : 0, prevHash: previous?.hash ?? GENESIS_HASH };
  return { ...unsigned, hash: hashEntry(grantId, unsigned) };
}

export type ChainVerdict = { readonly ok: true } | { readonly ok: false; readonly brokenAt: number; readonly why: string };

/** Recomputes every hash of a grant's chain. */
export function verifyChain(grantId: string, chain: readonly AuditEntry[]): ChainVerdict {
  let prevHash = GENESIS_HASH;
  for (const [index, entry] of chain.entries()) {
    // The chain is read from a store anyone with write access can edit: check its shape before its hashes.
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      return { ok: false, brokenAt: index, why: `entry ${index} is not an audit entry` };
    if (entry.seq !== index) {
      const movedLater = chain.slice(index + 1).some((later) => (later as AuditEntry | null)?.seq === index);
      const what = movedLater || !(entry.seq > index) ? 'entries were reordered or copied' : `entry ${index} was deleted`;
      return { ok: false, brokenAt: index, why: `entry ${index} has seq ${String(entry.seq)}: ${what}` };
    }
    if (entry.prevHash !== prevHash) return { ok: false, brokenAt: index, why: `entry ${index} does not link to entry ${index - 1}` };
    const { hash, ...unsigned } = entry;
    if (hashEntry(grantId, unsigned) !== hash) return { ok: false, brokenAt: index, why: `entry ${index} was altered` };
    prevHash = hash;
  }
  return { ok: true };
}
