// CDK stack (member account): what one spoke account holds so the hub engine can issue, revoke,
// probe and reconcile there: the agent roles, the boundary of issued users, the session canary,
// the spoke engine role the hub assumes (which also reads this account's CloudTrail for use
// after revocation), and the read-only prover role the hub's prove-revocation assumes instead.
// Deploy with `cdk deploy` per account or export the template for a StackSet.
import { Aws, CfnOutput, RemovalPolicy, SecretValue, Stack, Tags, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { accountOf, ENGINE_SESSION_NAME_PATTERN, spokeRoleName } from '../../lambdas/domain/accounts';
import { canaryStatement } from '../../lambdas/domain/canary';
import { roleMaxSessionSeconds, type Policy, type PolicyStatement } from '../../lambdas/domain/policy';
import type { TaskboundConfig } from '../config';
import { assertBoundaryFits, boundaryStatements, SESSION_MINTING_ACTIONS } from '../constructs/issued-credential-boundary';
import * as can from '../constructs/engine-permissions';
import {
  agentRoleArnPattern,
  canarySecretArnPattern,
  canarySecretName,
  GRANT_SOURCE_IDENTITY_PATTERN,
  isProveRevocationRoleArn,
} from '../naming';

/** The policy as one spoke sees it: only the scopes whose credential comes from that account. */
export function policyForAccount(policy: Policy, account: string): Policy {
  const agents = Object.fromEntries(
    Object.entries(policy.agents)
      .map(
        ([agentId, agent]) =>
          [agentId, { ...agent, scopes: agent.scopes.filter((scopeName) => accountOf(policy, scopeName, agentId) === account) }] as const,
      )
      .filter(([, agent]) => agent.scopes.length > 0),
  );
  const used = new Set(Object.values(agents).flatMap((agent) => agent.scopes));
  const scopes = Object.fromEntries(Object.entries(policy.scopes).filter(([scopeName]) => used.has(scopeName)));
  return { ...policy, scopes, agents };
}

export interface SpokeStackProps extends StackProps {
  readonly config: TaskboundConfig;
  readonly policy: Policy;
  /** The spoke account this stack is for: its scopes and agents are chosen by it. */
  readonly spokeAccount: string;
  /** The hub engine's function roles (the hub stack's `EngineRoleArns` output): the only principals trusted. */
  readonly hubEngineRoleArns: readonly string[];
}

const HUB_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

/**
 * A spoke role's trust: exactly these hub roles, each only in a session named as the engine names its
 * own. No sts:SetSourceIdentity: a source identity set on this session would persist into every agent
 * session it starts (AWS never changes one once set), which then could not carry its grant id.
 */
function trustedBy(hubRoleArns: readonly string[]) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: [...hubRoleArns] },
        Action: 'sts:AssumeRole',
        Condition: { StringLike: { 'sts:RoleSessionName': ENGINE_SESSION_NAME_PATTERN } },
      },
    ],
  };
}

/** The spoke: agent roles, issued-user boundary, the engine role and the prover role, in one member account. */
export class SpokeStack extends Stack {
  readonly engineRole: iam.Role;
  /** Read only: what a proof of death reads here (prove-revocation assumes it, never the engine role). */
  readonly proverRole: iam.Role;
  readonly boundary: iam.ManagedPolicy;
  /** The boundary's statements: this account's scopes (their Allows also hold every agent role's). */
  readonly boundaryStatements: readonly PolicyStatement[];
  readonly agentRoles: Readonly<Record<string, iam.Role>>;
  /** The session canary of this account (the hub names it by the same name in every account). */
  readonly canary: secretsmanager.Secret;
  /** Describing the canary: in the boundary and every agent role, so each session may. */
  readonly canaryStatement: PolicyStatement;

  constructor(scope: Construct, id: string, props: SpokeStackProps) {
    super(scope, id, props);
    const { config } = props;
    for (const arn of props.hubEngineRoleArns) {
      if (!HUB_ROLE_ARN.test(arn))
        throw new Error(`hubEngineRoleArns: ${arn} is not an IAM role ARN (use the hub stack's EngineRoleArns output)`);
    }
    if (props.hubEngineRoleArns.length === 0)
      throw new Error('hubEngineRoleArns: name the hub engine function roles (the hub stack’s EngineRoleArns output)');
    const local = policyForAccount(props.policy, props.spokeAccount);

    // This account's sessions describe it to prove they still work, until a refusal proves the revocation took.
    this.canary = new secretsmanager.Secret(this, 'SessionCanary', {
      secretName: canarySecretName(config),
      description:
        'Taskbound spoke canary: every session issued here may DescribeSecret it; a refused call proves the session revoked. Holds nothing.',
      secretStringValue: SecretValue.unsafePlainText('canary'),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.canary).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'The canary holds no secret: only its metadata is ever read (DescribeSecret), so there is nothing to rotate.',
    });
    this.canaryStatement = canaryStatement(canarySecretArnPattern(this, config));

    const statements = boundaryStatements(local, agentRoleArnPattern(config), [this.canaryStatement]);
    assertBoundaryFits(local, statements);
    this.boundaryStatements = statements;
    this.boundary = new iam.ManagedPolicy(this, 'IssuedCredentialBoundary', {
      managedPolicyName: `${config.instanceName}-issued-credential-boundary`,
      path: '/taskbound/',
      description: 'Taskbound spoke: the most any credential issued in this account may do (the union of its scopes)',
      document: iam.PolicyDocument.fromJson({ Version: '2012-10-17', Statement: statements }),
    });

    this.engineRole = new iam.Role(this, 'SpokeEngineRole', {
      roleName: spokeRoleName(config.instanceName, 'engine'),
      description: 'Taskbound spoke: the hub engine issues and revokes here, only under the Taskbound paths',
      assumedBy: new iam.AccountRootPrincipal(),
    });
    // Exact role ARNs, not the hub account: only the engine's own functions, in sessions named for the engine;
    // not prove-revocation's, which revokes nothing (its hub role may not assume this one either).
    const revokers = props.hubEngineRoleArns.filter((arn) => !isProveRevocationRoleArn(config, arn));
    if (revokers.length === 0)
      throw new Error('hubEngineRoleArns: name the hub engine function roles that issue and revoke, not only prove-revocation’s');
    (this.engineRole.node.defaultChild as iam.CfnRole).assumeRolePolicyDocument = trustedBy(revokers);
    const ctx = { config, boundaryArn: this.boundary.managedPolicyArn } as can.PermissionContext;

    // Reading what a proof of death reads and nothing else: it could not empty the deny or revive a key.
    this.proverRole = new iam.Role(this, 'SpokeProverRole', {
      roleName: spokeRoleName(config.instanceName, 'prover'),
      description: 'Taskbound spoke: the hub proves revoked credentials dead here; reads only',
      assumedBy: new iam.AccountRootPrincipal(),
    });
    (this.proverRole.node.defaultChild as iam.CfnRole).assumeRolePolicyDocument = trustedBy(props.hubEngineRoleArns);
    for (const statement of can.proveCredentialsDead(ctx)) this.proverRole.addToPrincipalPolicy(statement);
    // Reading CloudTrail here: the calls a revoked credential of this account made after its revocation.
    const grants = [
      ...can.issueSessions(ctx),
      ...can.issueUsers(ctx),
      ...can.revokeUsers(),
      ...can.denyRevokedSessions(ctx),
      ...can.lookUpCredentialUse(),
    ];
    for (const statement of grants) {
      this.engineRole.addToPrincipalPolicy(statement);
    }

    const roles: Record<string, iam.Role> = {};
    for (const [agentId, agent] of Object.entries(local.agents)) {
      const sessionScopes = agent.scopes.filter((scopeName) => local.scopes[scopeName]?.credential === 'aws-sts-session');
      if (sessionScopes.length === 0) continue;
      roles[agentId] = this.agentRole(
        props,
        agentId,
        sessionScopes.flatMap((scopeName) => local.scopes[scopeName]!.statements),
      );
    }
    this.agentRoles = roles;

    new CfnOutput(this, 'SpokeEngineRoleArn', {
      value: this.engineRole.roleArn,
      description: 'The role the hub engine assumes in this account',
    });
    new CfnOutput(this, 'SpokeProverRoleArn', {
      value: this.proverRole.roleArn,
      description: 'The read-only role the hub engine proves revocations through in this account',
    });
    new CfnOutput(this, 'SpokeCanaryArn', { value: this.canary.secretArn, description: 'The session canary of this account' });
    new CfnOutput(this, 'SpokeBoundaryArn', {
      value: this.boundary.managedPolicyArn,
      description: 'Permissions boundary of every credential issued here',
    });
  }

  /** `<prefix><agentId>`: assumable by the spoke engine role only, as a grant, never chained onward. */
  private agentRole(props: SpokeStackProps, agentId: string, statements: readonly PolicyStatement[]): iam.Role {
    const { config } = props;
    const maxTtl = props.policy.agents[agentId]!.maxTtlSeconds;
    const role = new iam.Role(this, `AgentRole-${agentId}`, {
      roleName: `${config.agentRolePrefix}${agentId}`,
      description: `Taskbound agent ${agentId}: one session per grant, issued by the spoke engine role`,
      assumedBy: new iam.AccountRootPrincipal(),
      permissionsBoundary: this.boundary,
      // Managed, not inline: the role's whole inline budget (10,240 characters) stays for the revoked-sessions deny.
      managedPolicies: [
        new iam.ManagedPolicy(this, `AgentScopes-${agentId}`, {
          path: '/taskbound/',
          description: `Taskbound agent ${agentId}: its session scopes in this account (each session policy narrows it to the task)`,
          document: iam.PolicyDocument.fromJson({
            Version: '2012-10-17',
            Statement: [
              ...statements.map(({ Sid: _sid, ...statement }) => statement),
              this.canaryStatement,
              { Sid: 'NoRoleChaining', Effect: 'Deny', Action: [...SESSION_MINTING_ACTIONS], Resource: '*' },
            ],
          }),
        }),
      ],
    });
    Tags.of(role).add(can.MANAGED_ROLE_TAG.key, can.MANAGED_ROLE_TAG.value);
    (role.node.defaultChild as iam.CfnRole).maxSessionDuration = roleMaxSessionSeconds(maxTtl);
    (role.node.defaultChild as iam.CfnRole).assumeRolePolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/${spokeRoleName(config.instanceName, 'engine')}` },
          Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'],
          // The session must be a grant's: its source identity is the grant id, which then sticks to every call.
          Condition: { StringLike: { 'sts:SourceIdentity': GRANT_SOURCE_IDENTITY_PATTERN } },
        },
      ],
    };
    role.node.addDependency(this.engineRole);
    return role;
  }
}
