// Domain: what each scope a grant holds WAS when the grant was decided, kept as short digests of its
// statements, and the rule that judges it against the policy in force (revoke-unentitled). An issued
// STS session or access key cannot be narrowed in place, so a scope narrowed under the same name
// must revoke it; a scope only widened must not. The rule is decidable and fails closed.
import { createHash } from 'node:crypto';
import type { PolicyStatement, Scope } from './policy';

/**
 * Per held scope, the digests of the statements it had when the grant was decided: each is an
 * effect (`A` Allow, `D` Deny) and 66 bits of the SHA-256 of one atom of a statement (below).
 * 12 bytes an atom: the grant item is written several times per lifecycle.
 */
export type ScopeDigests = Readonly<Record<string, readonly string[]>>;

/**
 * A statement splits into at most this many atoms; a larger one is digested whole (then any edit
 * to it, even one adding an action, reads as a withdrawal: a bound on the grant item's size).
 */
const MAX_ATOMS = 8;

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

/** A list field as a set: a string is a list of one, order and repeats do not matter; IAM reads action names case-blind. */
function asSet(value: string | readonly string[], actions: boolean): string[] {
  const list = typeof value === 'string' ? [value] : value;
  return [...new Set(list.map((one) => (actions ? one.toLowerCase() : one)))].sort();
}

/**
 * A statement's digests. A statement matches a request when one of its actions and one of its
 * resources match and its condition holds, so it means the same as the statements of one action
 * and one resource each (its atoms; a NotAction or NotResource list stays whole, as does the
 * condition). Two statements that share atoms share digests: an action added to a statement keeps
 * every atom it had. Only what IAM cannot tell apart is folded together (the `Sid`, key order, a
 * string against a list of it, action names' case); anything else that differs, even what IAM
 * would read the same way, digests differently, and then counts as withdrawn: revoke, not keep.
 */
export function statementDigests(statement: PolicyStatement): string[] {
  const { Sid: _label, Effect, Action, NotAction, Resource, NotResource, Condition } = statement;
  const actions = Action === undefined ? [undefined] : asSet(Action, true);
  const resources = Resource === undefined ? [undefined] : asSet(Resource, false);
  const fixed = {
    Effect,
    ...(NotAction !== undefined ? { NotAction: asSet(NotAction, true) } : {}),
    ...(NotResource !== undefined ? { NotResource: asSet(NotResource, false) } : {}),
    ...(Condition !== undefined ? { Condition } : {}),
  };
  const atoms =
    actions.length * resources.length > MAX_ATOMS
      ? [{ ...fixed, Action: Action && asSet(Action, true), Resource: Resource && asSet(Resource, false) }]
      : actions.flatMap((action) => resources.map((resource) => ({ ...fixed, Action: action, Resource: resource })));
  const prefix = Effect === 'Deny' ? 'D' : 'A';
  return atoms.map((atom) => `${prefix}${createHash('sha256').update(canonical(atom)).digest('base64url').slice(0, 11)}`);
}

// A policy's scope definitions live as long as the policy: each is digested once, not per request judged.
const digested = new WeakMap<Scope, readonly string[]>();

/** The digests of a scope's statements, once each. */
export function scopeStatementDigests(scope: Scope): readonly string[] {
  let digests = digested.get(scope);
  if (!digests) {
    digests = [...new Set(scope.statements.flatMap(statementDigests))];
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
      return `scope "${scope}" no longer allows ${withdrawn} of the action-resource pairs the grant was issued (removed, or changed: an action, resource or condition)`;
    }
  }
  for (const [scope, digests] of Object.entries(today)) {
    const added = digests.filter((digest) => digest.startsWith('D') && !before.has(digest)).length;
    if (added > 0) return `scope "${scope}" has ${added} Deny statement(s) the grant was not issued`;
  }
  return undefined;
}
