// Domain: what each scope a grant holds WAS when the grant was decided, kept as one short digest per
// statement, and the rule that judges it against the policy in force (revoke-unentitled). An issued
// STS session or access key cannot be narrowed in place, so a scope narrowed under the same name
// must revoke it; a scope only widened must not. The rule is decidable and fails closed.
import { createHash } from 'node:crypto';
import type { PolicyStatement, Scope } from './policy';

/**
 * Per held scope, the digests of the statements it had when the grant was decided: each is the
 * statement's effect (`A` Allow, `D` Deny) and 96 bits of the SHA-256 of its canonical form.
 * About 17 bytes a statement: the grant item is written several times per lifecycle.
 */
export type ScopeDigests = Readonly<Record<string, readonly string[]>>;

const LISTS = ['Action', 'NotAction', 'Resource', 'NotResource'] as const;

/** JSON with every object's keys sorted: key order never changes what IAM reads. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, inner]) => inner !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * A statement's digest. Only what IAM cannot tell apart is folded together: the `Sid` (a label),
 * key order, and a single string against a list of it (in any order, repeats once). Anything else
 * that differs, even a change IAM would read the same way (an action's case), digests differently:
 * the statement then counts as withdrawn, which revokes rather than keeps.
 */
export function statementDigest(statement: PolicyStatement): string {
  const { Sid: _label, ...meaning } = statement;
  const lists = Object.fromEntries(
    LISTS.flatMap((field) => {
      const value = meaning[field];
      return value === undefined ? [] : [[field, [...new Set(typeof value === 'string' ? [value] : value)].sort()]];
    }),
  );
  const hash = createHash('sha256').update(canonical({ ...meaning, ...lists })).digest('base64url');
  return `${statement.Effect === 'Deny' ? 'D' : 'A'}${hash.slice(0, 16)}`;
}

// A policy's scope definitions live as long as the policy: each is digested once, not per request judged.
const digested = new WeakMap<Scope, readonly string[]>();

/** The digests of a scope's statements, once each. */
export function scopeStatementDigests(scope: Scope): readonly string[] {
  let digests = digested.get(scope);
  if (!digests) {
    digests = [...new Set(scope.statements.map(statementDigest))];
    digested.set(scope, digests);
  }
  return digests;
}

/**
 * Why the statements `today` gives the held scopes are not provably as wide as those `issued`, or
 * undefined when they are. Wider means: every Allow the grant was issued is still there verbatim
 * (in any held scope), and no Deny it was not issued was added. Removing a Deny and adding an Allow
 * only widen (IAM allows a request when some Allow matches and no Deny does); any other change, a
 * condition added, a resource or an action edited, reads as an Allow withdrawn.
 */
export function narrowedStatements(issued: ScopeDigests, today: ScopeDigests): string | undefined {
  const before = new Set(Object.values(issued).flat());
  const after = new Set(Object.values(today).flat());
  for (const [scope, digests] of Object.entries(issued)) {
    const withdrawn = digests.filter((digest) => digest.startsWith('A') && !after.has(digest)).length;
    if (withdrawn > 0) {
      return `scope "${scope}" no longer has ${withdrawn} of the Allow statements the grant was issued (removed, or changed: an action, resource or condition)`;
    }
  }
  for (const [scope, digests] of Object.entries(today)) {
    const added = digests.filter((digest) => digest.startsWith('D') && !before.has(digest)).length;
    if (added > 0) return `scope "${scope}" has ${added} Deny statement(s) the grant was not issued`;
  }
  return undefined;
}
