// Policy tier: the escalation attempts every engine role must fail, as data. Each names what
// an attacker holding the role's credentials would try, on which resource, with what context.
import { ACCOUNT, REGION } from './cfn';

export interface Attempt {
  readonly name: string;
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
  /** Roles for which this is their job, not an escalation (asserted allowed elsewhere). */
  readonly except?: readonly string[];
}

export interface AttemptTargets {
  readonly boundaryArn: string;
  readonly keyArn: string;
  readonly slackSecretArn: string;
  readonly tableArn: string;
  readonly ownRoleArn: string;
  readonly schedulerRoleArn: string;
}

const iam = (path: string) => `arn:aws:iam::${ACCOUNT}:${path}`;
const secret = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}`;
const AGENT_ROLE = iam('role/taskbound-agent-release-bot');
const ADMIN_ROLE = iam('role/admin');
const GRANT = `g-${'a'.repeat(26)}`;
const MANAGED = { 'aws:ResourceTag/taskbound:managed': 'true' };

/** Every attempt, for one role; the list the tests iterate and print. */
export function escalationAttempts(targets: AttemptTargets): Attempt[] {
  const otherBoundary = iam('policy/AdministratorAccess');
  return [
    { name: 'new version of the issued-credential boundary', action: 'iam:CreatePolicyVersion', resource: targets.boundaryArn },
    { name: 'new version of any managed policy', action: 'iam:CreatePolicyVersion', resource: iam('policy/team-policy') },
    { name: 'make an old boundary version the default', action: 'iam:SetDefaultPolicyVersion', resource: targets.boundaryArn },
    { name: 'create a managed policy', action: 'iam:CreatePolicy', resource: iam('policy/escalate') },
    {
      name: 'attach AdministratorAccess to its own role',
      action: 'iam:AttachRolePolicy',
      resource: targets.ownRoleArn,
      context: { 'iam:PolicyARN': otherBoundary },
    },
    {
      name: 'attach AdministratorAccess to an agent role',
      action: 'iam:AttachRolePolicy',
      resource: AGENT_ROLE,
      context: { 'iam:PolicyARN': otherBoundary },
    },
    { name: 'inline policy on its own role', action: 'iam:PutRolePolicy', resource: targets.ownRoleArn },
    {
      name: 'inline policy on a non-agent role, even one carrying the boundary',
      action: 'iam:PutRolePolicy',
      resource: ADMIN_ROLE,
      context: { 'iam:PermissionsBoundary': targets.boundaryArn },
    },
    { name: 'inline policy on an agent role without the boundary', action: 'iam:PutRolePolicy', resource: AGENT_ROLE },
    {
      name: 'inline policy on an agent role with another boundary',
      action: 'iam:PutRolePolicy',
      resource: AGENT_ROLE,
      context: { 'iam:PermissionsBoundary': otherBoundary },
    },
    { name: 'create a user without a boundary', action: 'iam:CreateUser', resource: iam('user/taskbound/taskbound-x') },
    {
      name: 'create a user with another boundary',
      action: 'iam:CreateUser',
      resource: iam('user/taskbound/taskbound-x'),
      context: { 'iam:PermissionsBoundary': otherBoundary },
    },
    {
      name: 'create a user outside /taskbound/',
      action: 'iam:CreateUser',
      resource: iam('user/admin2'),
      context: { 'iam:PermissionsBoundary': targets.boundaryArn },
    },
    {
      name: 'inline policy on a user outside /taskbound/',
      action: 'iam:PutUserPolicy',
      resource: iam('user/alice'),
      context: { 'iam:PermissionsBoundary': targets.boundaryArn },
    },
    {
      name: 'inline policy on a /taskbound/ user without the boundary',
      action: 'iam:PutUserPolicy',
      resource: iam('user/taskbound/taskbound-x'),
    },
    {
      name: 'attach a managed policy to a /taskbound/ user',
      action: 'iam:AttachUserPolicy',
      resource: iam('user/taskbound/taskbound-x'),
      context: { 'iam:PolicyARN': otherBoundary },
    },
    { name: 'access key for a user outside /taskbound/', action: 'iam:CreateAccessKey', resource: iam('user/alice') },
    { name: 'console password for a /taskbound/ user', action: 'iam:CreateLoginProfile', resource: iam('user/taskbound/taskbound-x') },
    { name: 'add a /taskbound/ user to a group', action: 'iam:AddUserToGroup', resource: iam('group/admins') },
    {
      name: 'remove the boundary from a /taskbound/ user',
      action: 'iam:DeleteUserPermissionsBoundary',
      resource: iam('user/taskbound/taskbound-x'),
    },
    { name: 'remove the boundary from an agent role', action: 'iam:DeleteRolePermissionsBoundary', resource: AGENT_ROLE },
    {
      name: 'replace the boundary of an agent role',
      action: 'iam:PutRolePermissionsBoundary',
      resource: AGENT_ROLE,
      context: { 'iam:PermissionsBoundary': otherBoundary },
    },
    { name: "rewrite an agent role's trust policy", action: 'iam:UpdateAssumeRolePolicy', resource: AGENT_ROLE },
    { name: 'create a role', action: 'iam:CreateRole', resource: iam('role/taskbound-agent-evil') },
    {
      name: 'tag an admin role as Taskbound-managed',
      action: 'iam:TagRole',
      resource: ADMIN_ROLE,
      context: { 'aws:TagKeys': ['taskbound:managed'] },
    },
    {
      name: 'pass an admin role to Lambda',
      action: 'iam:PassRole',
      resource: ADMIN_ROLE,
      context: { 'iam:PassedToService': 'lambda.amazonaws.com' },
    },
    {
      name: 'pass the scheduler role to Lambda',
      action: 'iam:PassRole',
      resource: targets.schedulerRoleArn,
      context: { 'iam:PassedToService': 'lambda.amazonaws.com' },
    },
    {
      name: 'pass an agent role to EC2',
      action: 'iam:PassRole',
      resource: AGENT_ROLE,
      context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
    },
    {
      name: 'assume a non-agent role',
      action: 'sts:AssumeRole',
      resource: ADMIN_ROLE,
      context: { 'sts:SourceIdentity': GRANT, ...MANAGED },
    },
    {
      name: 'assume an agent role that is not tagged taskbound:managed',
      action: 'sts:AssumeRole',
      resource: AGENT_ROLE,
      context: { 'sts:SourceIdentity': GRANT },
    },
    { name: 'assume an agent role without a source identity', action: 'sts:AssumeRole', resource: AGENT_ROLE, context: MANAGED },
    {
      name: 'assume an agent role with a source identity that is no grant',
      action: 'sts:AssumeRole',
      resource: AGENT_ROLE,
      context: { 'sts:SourceIdentity': 'alice', ...MANAGED },
    },
    {
      name: 'set a source identity that is no grant',
      action: 'sts:SetSourceIdentity',
      resource: AGENT_ROLE,
      context: { 'sts:SourceIdentity': 'g-short', ...MANAGED },
    },
    {
      name: 'tag a session with a key of its own',
      action: 'sts:TagSession',
      resource: AGENT_ROLE,
      context: { 'aws:TagKeys': ['taskbound:grant-id', 'admin'], ...MANAGED },
    },
    { name: 'rewrite the delivery key policy', action: 'kms:PutKeyPolicy', resource: targets.keyArn },
    { name: 'grant itself the delivery key', action: 'kms:CreateGrant', resource: targets.keyArn },
    { name: 'decrypt with the delivery key outside Secrets Manager', action: 'kms:Decrypt', resource: targets.keyArn },
    {
      name: "replace an engine function's code",
      action: 'lambda:UpdateFunctionCode',
      resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:taskbound-expire-grant`,
    },
    {
      name: "change an engine function's configuration",
      action: 'lambda:UpdateFunctionConfiguration',
      resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:taskbound-expire-grant`,
    },
    {
      name: 'let anyone invoke an engine function',
      action: 'lambda:AddPermission',
      resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:taskbound-expire-grant`,
    },
    { name: 'create a function', action: 'lambda:CreateFunction', resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:evil` },
    { name: 'read another secret', action: 'secretsmanager:GetSecretValue', resource: secret('prod/db-AbCdEf') },
    { name: 'read a brokered secret', action: 'secretsmanager:GetSecretValue', resource: secret('stripe-key-AbCdEf') },
    {
      name: 'read the Slack secret',
      action: 'secretsmanager:GetSecretValue',
      resource: targets.slackSecretArn,
      except: ['alerts', 'slack-interactions', 'alarm-to-slack', 'digest'],
    },
    {
      name: 'open a delivery to the public',
      action: 'secretsmanager:PutResourcePolicy',
      resource: secret('taskbound/release-bot/t-1-AbCdEf'),
      context: { 'secretsmanager:BlockPublicPolicy': 'false' },
    },
    {
      name: 'create a delivery under another key',
      action: 'secretsmanager:CreateSecret',
      resource: secret('taskbound/release-bot/t-1-AbCdEf'),
      context: { 'secretsmanager:KmsKeyArn': `arn:aws:kms:${REGION}:${ACCOUNT}:key/other` },
    },
    { name: 'change a secret outside taskbound/', action: 'secretsmanager:PutSecretValue', resource: secret('prod/db-AbCdEf') },
    { name: 'delete the grant table', action: 'dynamodb:DeleteTable', resource: targets.tableArn },
    // The digest reads every grant once a period (standing privilege needs all of them): its job, no one else's.
    { name: 'scan the grant table', action: 'dynamodb:Scan', resource: targets.tableArn, except: ['digest'] },
    { name: 'route bus events elsewhere', action: 'events:PutTargets', resource: `arn:aws:events:${REGION}:${ACCOUNT}:rule/taskbound/any` },
    {
      name: "schedule outside the engine's group",
      action: 'scheduler:CreateSchedule',
      resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/evil`,
    },
    { name: 'stop the audit trail', action: 'cloudtrail:StopLogging', resource: `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/org` },
    { name: 'delete its own logs', action: 'logs:DeleteLogGroup', resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/x:*` },
  ];
}
