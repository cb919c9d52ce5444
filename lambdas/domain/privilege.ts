// Domain: which scope statements grant privilege, decided from the statement alone (no
// Service Authorization Reference needed), so every Lambda refuses them at policy load too.
// The SAR-based lint (lambdas/policy-lint) adds the access-level checks on top. Also: how a
// brokered secret's ARN is written into every policy that grants it.

/** Actions that hand out identities or let a credential outlive its revocation. */
export const PRIVILEGED_ACTIONS = [
  'iam:PassRole',
  'sts:AssumeRole',
  'sts:AssumeRoleWithSAML',
  'sts:AssumeRoleWithWebIdentity',
  'sts:AssumeRoot',
] as const;

/**
 * Every action that turns a credential into another session: a role's (which answers to that
 * role's policies, not to the revocation deny), or a federated user's (whose token has its own
 * lifetime). The permissions boundary denies them to every issued credential; the scope lint
 * warns of them.
 */
export const CHAINED_SESSION_ACTIONS = [
  'sts:AssumeRole',
  'sts:AssumeRoleWithSAML',
  'sts:AssumeRoleWithWebIdentity',
  'sts:AssumeRoot',
  'sts:GetFederationToken',
] as const;

/** The statement fields this module reads. */
export interface StatementShape {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[] | undefined;
  readonly NotAction?: string | readonly string[] | undefined;
  readonly NotResource?: string | readonly string[] | undefined;
}

export const listOf = (value: string | readonly string[] | undefined): readonly string[] =>
  value === undefined ? [] : typeof value === 'string' ? [value] : value;

/** IAM's wildcards (`*` any run, `?` one character) as a whole-string pattern; resources match case-sensitively. */
export function wildcardPattern(pattern: string, flags = ''): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, flags);
}

/** IAM's action wildcards, case-insensitive like IAM. */
export function actionPattern(pattern: string): RegExp {
  return wildcardPattern(pattern, 'i');
}

/**
 * Why a statement needs `privileged: true`, one reason per offending field, or none.
 * An Allow of `*`, of every IAM action (`iam:*` or any wildcard over `iam:`), or of an action
 * in PRIVILEGED_ACTIONS; and `NotAction`/`NotResource` in any statement (they grant or deny
 * everything they do not name, including actions AWS adds later).
 */
export function privilegeReasons(
  statement: StatementShape,
): { readonly field: 'Action' | 'NotAction' | 'NotResource'; readonly index?: number; readonly reason: string }[] {
  const reasons: { field: 'Action' | 'NotAction' | 'NotResource'; index?: number; reason: string }[] = [];
  if (statement.NotAction !== undefined) reasons.push({ field: 'NotAction', reason: 'NotAction matches every action it does not name' });
  if (statement.NotResource !== undefined)
    reasons.push({ field: 'NotResource', reason: 'NotResource matches every resource it does not name' });
  if (statement.Effect !== 'Allow') return reasons;
  for (const [index, action] of listOf(statement.Action).entries()) {
    const matcher = actionPattern(action);
    const reached = PRIVILEGED_ACTIONS.filter((name) => matcher.test(name));
    if (action === '*') reasons.push({ field: 'Action', index, reason: '"*" allows every action of every service' });
    else if (/^iam:/i.test(action) && action.includes('*'))
      reasons.push({ field: 'Action', index, reason: `"${action}" allows IAM actions that manage permissions` });
    else if (reached.length > 0)
      reasons.push({ field: 'Action', index, reason: `"${action}" allows ${reached.join(', ')}, which hand out other identities` });
  }
  return reasons;
}

/**
 * A secret's ARN ends in a random `-XXXXXX` that the policy file may leave out: both forms
 * are written wherever a brokered secret is granted, so the ARN as written and the real
 * secret's full ARN both match (AWS's documented `-??????` pattern), and nothing longer does.
 */
export function secretArnPatterns(arn: string): string[] {
  return [arn, `${arn}-??????`];
}
