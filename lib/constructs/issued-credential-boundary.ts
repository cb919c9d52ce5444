// CDK construct: the permissions boundary of every issued credential (users under
// /taskbound/ and the per-agent roles). It is the union of what the scopes assigned to
// agents allow, so no credential can ever exceed the policy file, whatever a session policy
// says, and two denies no scope can lift: no role chaining, no agent session without a grant.
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { canaryStatement } from '../../lambdas/domain/canary';
import { CHAINED_SESSION_ACTIONS, secretArnPatterns } from '../../lambdas/domain/privilege';
import { PolicyError } from '../../lambdas/domain/errors';
import type { Policy, PolicyStatement } from '../../lambdas/domain/policy';
import { GRANT_SOURCE_IDENTITY_PATTERN } from '../naming';

/** IAM's size limit for a managed policy, counted without whitespace. */
export const MANAGED_POLICY_MAX_CHARS = 6144;

type BoundaryStatement = PolicyStatement;

/**
 * What an issued credential may never do: start another session (the domain's list), nor mint
 * session credentials from an issued user's key (`sts:GetSessionToken`), which would outlive the
 * key's deletion. One list for the hub's boundary and the spoke's agent roles.
 */
export const SESSION_MINTING_ACTIONS = [...CHAINED_SESSION_ACTIONS, 'sts:GetSessionToken'] as const;

/**
 * The two denies every issued credential carries, whatever the scopes say:
 * - a chained session answers to the chained role's policies, not to the revocation deny on
 *   the agent's role, so it would outlive its grant: no issued credential may assume a role
 *   or mint any other session (SESSION_MINTING_ACTIONS);
 * - the revocation deny finds a session by its `aws:SourceIdentity`; an agent-role session
 *   without a grant-shaped one (minted by anyone else allowed to assume the role) could never
 *   be revoked. A negated operator matches when the key is absent, so one condition covers both.
 *   Issued IAM users share this boundary and have no source identity: the deny names the
 *   agent roles (`aws:PrincipalArn` of a role session is its role's ARN), never users.
 */
export function boundaryDenies(agentRoleArnPattern: string): BoundaryStatement[] {
  return [
    { Sid: 'NoChainedSessions', Effect: 'Deny', Action: [...SESSION_MINTING_ACTIONS], Resource: '*' },
    {
      Sid: 'NoAgentSessionWithoutGrant',
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: {
        StringNotLike: { 'aws:SourceIdentity': GRANT_SOURCE_IDENTITY_PATTERN },
        ArnLike: { 'aws:PrincipalArn': agentRoleArnPattern },
      },
    },
  ];
}

/**
 * The boundary's statements: every Allow of every scope some agent may hold, read access to
 * each brokered secret of those scopes, `extra` (the session canary, which every session may
 * describe), and the fixed denies. A scope no agent names widens nothing.
 */
export function boundaryStatements(
  policy: Policy,
  agentRoleArnPattern: string,
  extra: readonly BoundaryStatement[] = [],
): BoundaryStatement[] {
  const assigned = new Set(Object.values(policy.agents).flatMap((agent) => agent.scopes));
  const statements: BoundaryStatement[] = [];
  const seen = new Set<string>();
  const add = (statement: BoundaryStatement) => {
    const key = JSON.stringify(statement);
    if (seen.has(key)) return;
    seen.add(key);
    statements.push(statement);
  };
  for (const [name, scope] of Object.entries(policy.scopes)) {
    if (!assigned.has(name)) continue;
    // Deny statements stay in the scope's own session or user policy: in a shared boundary
    // one scope's deny would wrongly narrow every other scope.
    for (const { Sid: _sid, ...statement } of scope.statements.filter((candidate) => candidate.Effect === 'Allow')) add(statement);
    if (scope.secrets.length > 0) {
      add({
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue'],
        Resource: scope.secrets.flatMap((secret) => secretArnPatterns(secret.arn)),
      });
    }
  }
  for (const statement of extra) add(statement);
  return [...statements, ...boundaryDenies(agentRoleArnPattern)];
}

/** Fails synth, naming the policy file, when the union cannot fit in one managed policy. */
export function assertBoundaryFits(policy: Policy, statements: readonly BoundaryStatement[]): void {
  const size = JSON.stringify({ Version: '2012-10-17', Statement: statements }).length;
  if (size > MANAGED_POLICY_MAX_CHARS) {
    throw new PolicyError(policy.source, [
      `scopes: the union of all scope statements is ${size} characters, over IAM's ${MANAGED_POLICY_MAX_CHARS} limit for the permissions boundary; merge statements or use wildcards in resource names`,
    ]);
  }
}

/** The managed policy attached as permissions boundary to issued users and per-agent roles. */
export class IssuedCredentialBoundary extends Construct {
  readonly policy: iam.ManagedPolicy;
  /** What the policy says, as written (cdk-nag's acknowledgements read its wildcards from here). */
  readonly statements: readonly BoundaryStatement[];

  constructor(
    scope: Construct,
    id: string,
    props: { readonly policy: Policy; readonly agentRoleArnPattern: string; readonly canarySecretArnPattern?: string },
  ) {
    super(scope, id);
    const canary = props.canarySecretArnPattern ? [canaryStatement(props.canarySecretArnPattern)] : [];
    const statements = boundaryStatements(props.policy, props.agentRoleArnPattern, canary);
    assertBoundaryFits(props.policy, statements);
    this.statements = statements;
    this.policy = new iam.ManagedPolicy(this, 'Boundary', {
      path: '/taskbound/',
      description: 'Taskbound: the most any issued credential may do (the union of the policy file scopes)',
      document: iam.PolicyDocument.fromJson({ Version: '2012-10-17', Statement: statements }),
    });
  }
}
