// Local engine, emulated AWS: what a credential the engine issued may do, judged as IAM judges the
// policy the credential carries on AWS (its session policy, or its IAM user's inline policy),
// so a runtime rehearses locally the AccessDenied it would get on AWS. Used by the gate in front of
// the local Secrets Manager (issued-credential-gate.ts).
import { actionPattern, listOf, wildcardPattern } from '../../domain/privilege';
import type { PolicyStatement } from '../../domain/policy';

export type LocalDecision = 'allowed' | 'explicit-deny' | 'implicit-deny';

/**
 * A resource pattern as IAM matches it (`*` any run, `?` one character, case-sensitive), except
 * that the account field matches any account: locally there is one account (000000000000), and a
 * policy file names the real ones.
 */
function resourcePattern(pattern: string): RegExp {
  const fields = pattern.split(':');
  const anyAccount = fields.length >= 6 && fields[0] === 'arn' ? [...fields.slice(0, 4), '*', ...fields.slice(5)].join(':') : pattern;
  return wildcardPattern(anyAccount);
}

function matches(statement: PolicyStatement, action: string, resource: string): boolean {
  const actionHit =
    statement.Action !== undefined
      ? listOf(statement.Action).some((pattern) => actionPattern(pattern).test(action))
      : !listOf(statement.NotAction).some((pattern) => actionPattern(pattern).test(action));
  if (!actionHit) return false;
  return statement.Resource !== undefined
    ? listOf(statement.Resource).some((pattern) => resourcePattern(pattern).test(resource))
    : !listOf(statement.NotResource).some((pattern) => resourcePattern(pattern).test(resource));
}

/**
 * IAM's order: an explicit deny wins, then an allow, else the implicit deny. Conditions are not
 * evaluated locally: an Allow with a Condition allows nothing here, a Deny with one denies (the
 * stricter reading of each, so nothing passes locally that AWS could refuse for a condition).
 */
export function evaluateLocally(statements: readonly PolicyStatement[], action: string, resource: string): LocalDecision {
  const applying = statements.filter((statement) => matches(statement, action, resource));
  if (applying.some((statement) => statement.Effect === 'Deny')) return 'explicit-deny';
  return applying.some((statement) => statement.Effect === 'Allow' && statement.Condition === undefined) ? 'allowed' : 'implicit-deny';
}
