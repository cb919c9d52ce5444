// CDK construct: the permissions boundary of every issued credential (users under
// /taskbound/ and the per-agent roles). It is the union of what the policy file's scopes
// allow, so no credential can ever exceed the policy file, whatever a session policy says.
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { PolicyError } from '../../lambdas/domain/errors';
import type { Policy, PolicyStatement } from '../../lambdas/domain/policy';

/** IAM's size limit for a managed policy, counted without whitespace. */
export const MANAGED_POLICY_MAX_CHARS = 6144;

type BoundaryStatement = Omit<PolicyStatement, 'Sid'>;

/**
 * The boundary's statements: every Allow of every scope, plus read access to each brokered
 * secret, plus `extra` (the session canary, which every session may describe).
 */
export function boundaryStatements(policy: Policy, extra: readonly BoundaryStatement[] = []): BoundaryStatement[] {
  const statements: BoundaryStatement[] = [];
  const seen = new Set<string>();
  const add = (statement: BoundaryStatement) => {
    const key = JSON.stringify(statement);
    if (seen.has(key)) return;
    seen.add(key);
    statements.push(statement);
  };
  for (const scope of Object.values(policy.scopes)) {
    // Deny statements stay in the scope's own session or user policy: in a shared boundary
    // one scope's deny would wrongly narrow every other scope.
    for (const { Sid: _sid, ...statement } of scope.statements.filter((candidate) => candidate.Effect === 'Allow')) add(statement);
    if (scope.secrets.length > 0) {
      add({ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: scope.secrets.map((secret) => secret.arn) });
    }
  }
  for (const statement of extra) add(statement);
  return statements.length > 0 ? statements : [{ Effect: 'Deny', Action: '*', Resource: '*' }];
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

  constructor(scope: Construct, id: string, props: { readonly policy: Policy; readonly canarySecretArnPattern?: string }) {
    super(scope, id);
    const canary = props.canarySecretArnPattern
      ? [{ Effect: 'Allow' as const, Action: ['secretsmanager:DescribeSecret'], Resource: props.canarySecretArnPattern }]
      : [];
    const statements = boundaryStatements(props.policy, canary);
    assertBoundaryFits(props.policy, statements);
    this.policy = new iam.ManagedPolicy(this, 'Boundary', {
      path: '/taskbound/',
      description: 'Taskbound: the most any issued credential may do (the union of the policy file scopes)',
      document: iam.PolicyDocument.fromJson({ Version: '2012-10-17', Statement: statements }),
    });
  }
}
