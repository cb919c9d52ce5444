// Policy lint: checks each scope of a validated policy against AWS's Service Authorization
// Reference. Runs where the policy is loaded with room for the SAR (local engine, `cdk synth`,
// `taskbound policy check`); the rules that need no SAR already ran in the schema
// (lambdas/domain/privilege.ts), so Lambdas refuse those too.
import { PolicyError } from '../domain/errors';
import { CHAINED_SESSION_ACTIONS, listOf } from '../domain/privilege';
import type { ActionClass, Policy, PolicyStatement } from '../domain/policy';
import { expandAction, type AccessLevel, type CatalogAction } from './action-catalog';

export interface LintFinding {
  readonly severity: 'error' | 'warning';
  /** Which rule found it (README "Scope lint" lists them). */
  readonly rule: LintRule;
  /** Where in the policy file, e.g. `['scopes', 'repo-read', 'statements', 0, 'Action', 1]`. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export type LintRule =
  | 'unknown-service'
  | 'unknown-action'
  | 'class-access-level'
  | 'permissions-management'
  | 'identity-takeover'
  | 'role-chaining-denied'
  | 'unassigned-scope';

/**
 * Writes the SAR does not call permissions management but that hand a credential someone
 * else's identity: every IAM and IAM Identity Center write (an access key or password for
 * another user, a new role, group membership), and running code under another role's
 * permissions. The boundary cannot stop these: what they produce is not bounded.
 */
const TAKEOVER_SERVICES = new Set(['iam', 'sso', 'identitystore', 'sso-directory']);
export const RUNS_AS_ANOTHER_ROLE = [
  'lambda:UpdateFunctionCode',
  'lambda:UpdateFunctionConfiguration',
  'lambda:CreateFunction',
  'ssm:SendCommand',
  'ssm:StartSession',
  'ssm:StartAutomationExecution',
  'ec2-instance-connect:SendSSHPublicKey',
  'ec2:RunInstances',
  'ecs:RunTask',
  'ecs:ExecuteCommand',
  'codebuild:StartBuild',
  'codebuild:UpdateProject',
  'glue:UpdateDevEndpoint',
  'cloudformation:CreateStack',
  'cloudformation:UpdateStack',
  'cloudformation:ExecuteChangeSet',
  'states:StartExecution',
  'datapipeline:ActivatePipeline',
  'sagemaker:CreateNotebookInstance',
].map((action) => action.toLowerCase());

/**
 * The SAR access levels each action class may hold. `deploy` and `transact` name business
 * impact, which the SAR cannot tell from `write`, so they are held to the same rule; choose
 * them to route approval. Permissions management is never in a class: it needs `privileged: true`.
 */
export const CLASS_ACCESS_LEVELS: Readonly<Record<ActionClass, readonly AccessLevel[]>> = {
  read: ['Read', 'List'],
  write: ['Read', 'List', 'Write', 'Tagging'],
  deploy: ['Read', 'List', 'Write', 'Tagging'],
  transact: ['Read', 'List', 'Write', 'Tagging'],
};

const EXAMPLES = 3;
const some = (actions: readonly CatalogAction[]) =>
  `${actions
    .slice(0, EXAMPLES)
    .map((action) => action.name)
    .join(', ')}${actions.length > EXAMPLES ? ` and ${actions.length - EXAMPLES} more` : ''}`;
const chaining = new Set(CHAINED_SESSION_ACTIONS.map((action) => action.toLowerCase()));

async function lintStatement(
  scope: Policy['scopes'][string],
  statement: PolicyStatement,
  at: readonly (string | number)[],
): Promise<LintFinding[]> {
  const findings: LintFinding[] = [];
  const field = statement.Action !== undefined ? 'Action' : 'NotAction';
  const value = statement.Action ?? statement.NotAction;
  const patterns = listOf(value);
  for (const [index, pattern] of patterns.entries()) {
    const path = [...at, field, ...(typeof value === 'string' ? [] : [index])];
    const finding = (severity: LintFinding['severity'], rule: LintRule, message: string) =>
      findings.push({ severity, rule, path, message });
    const expansion = await expandAction(pattern);
    if (expansion.kind === 'unknown-service') {
      finding(
        'error',
        'unknown-service',
        `"${pattern}": no AWS service has the prefix "${expansion.service}" in the Service Authorization Reference`,
      );
      continue;
    }
    if (expansion.kind === 'actions' && expansion.actions.length === 0) {
      finding('error', 'unknown-action', `"${pattern}" matches no action in the Service Authorization Reference`);
      continue;
    }
    // What the statement grants is only known for an Allow of named actions; a Deny narrows.
    if (statement.Effect !== 'Allow' || field === 'NotAction') continue;
    const allowed = CLASS_ACCESS_LEVELS[scope.action];
    if (expansion.kind === 'every-action') {
      finding(
        'error',
        'class-access-level',
        `"*" includes every access level; a ${scope.action} scope may hold only ${allowed.join(', ')}`,
      );
      continue;
    }
    const management = expansion.actions.filter((action) => action.accessLevels.includes('Permissions management'));
    if (management.length > 0 && !scope.privileged) {
      finding(
        'error',
        'permissions-management',
        `"${pattern}" allows permissions management (${some(management)}); a scope that grants privilege must say \`privileged: true\` (and then always needs manual approval)`,
      );
    }
    const takeover = expansion.actions.filter(
      (action) =>
        !action.accessLevels.includes('Permissions management') &&
        ((TAKEOVER_SERVICES.has(action.name.slice(0, action.name.indexOf(':')).toLowerCase()) &&
          action.accessLevels.some((level) => level !== 'Read' && level !== 'List')) ||
          RUNS_AS_ANOTHER_ROLE.includes(action.name.toLowerCase())),
    );
    if (takeover.length > 0 && !scope.privileged) {
      finding(
        'error',
        'identity-takeover',
        `"${pattern}" allows acting as another identity (${some(takeover)}); a scope that grants privilege must say \`privileged: true\` (and then always needs manual approval)`,
      );
    }
    const outside = expansion.actions.filter((action) =>
      action.accessLevels.some((level) => level !== 'Permissions management' && !allowed.includes(level)),
    );
    if (outside.length > 0 || (scope.action === 'read' && management.length > 0)) {
      const offending = outside.length > 0 ? outside : management;
      const levels = [...new Set(offending.flatMap((action) => action.accessLevels))].join(', ');
      finding(
        'error',
        'class-access-level',
        `"${pattern}" allows ${levels} actions (${some(offending)}); a ${scope.action} scope may hold only ${allowed.join(', ')}`,
      );
    }
    const chained = expansion.actions.filter((action) => chaining.has(action.name.toLowerCase()));
    if (chained.length > 0) {
      finding(
        'warning',
        'role-chaining-denied',
        `"${pattern}" includes ${some(chained)}, which the permissions boundary denies to every issued credential: a chained session would outlive revocation`,
      );
    }
  }
  return findings;
}

/** Every finding for the policy's scopes, errors and warnings, in file order. */
export async function lintPolicy(policy: Policy): Promise<LintFinding[]> {
  const assigned = new Set(Object.values(policy.agents).flatMap((agent) => agent.scopes));
  const findings: LintFinding[] = [];
  for (const [scopeName, scope] of Object.entries(policy.scopes)) {
    if (!assigned.has(scopeName)) {
      findings.push({
        severity: 'warning',
        rule: 'unassigned-scope',
        path: ['scopes', scopeName],
        message: 'no agent holds this scope: it is left out of the permissions boundary and can never be issued',
      });
    }
    for (const [index, statement] of scope.statements.entries()) {
      findings.push(...(await lintStatement(scope, statement, ['scopes', scopeName, 'statements', index])));
    }
  }
  return findings;
}

/** Lints, and throws PolicyError (file, path, problem) when any finding is an error; returns the warnings. */
export async function assertPolicyLints(policy: Policy): Promise<LintFinding[]> {
  const findings = await lintPolicy(policy);
  const errors = findings.filter((finding) => finding.severity === 'error');
  if (errors.length > 0)
    throw new PolicyError(
      policy.source,
      errors.map((error) => `${error.path.join('.')}: ${error.message} [${error.rule}]`),
    );
  return findings;
}
