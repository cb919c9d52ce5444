// CDK permissions: the narrowest IAM statements behind each capability an engine function may
// hold. Functions are granted capabilities (capabilities.ts), never raw actions, so the whole
// least-privilege surface is readable in this one file; the spoke's engine role reuses them.
import { Aws, type Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { grantTableCreateInput } from '../../lambdas/adapters/aws/grant-table-definition';
import { AGENT_INDEX } from '../../lambdas/adapters/aws/grant-table';
import { secretArnPatterns } from '../../lambdas/domain/privilege';
import type { Policy } from '../../lambdas/domain/policy';
import type { TaskboundConfig } from '../config';
import {
  agentRoleArnPattern,
  deliverySecretArnPattern,
  ENGINE_SOURCE,
  GRANT_SOURCE_IDENTITY_PATTERN,
  issuedUserArnPattern,
} from '../naming';

/** The session tags the issuer sets (issue 3): nothing else may be tagged onto a session. */
export const SESSION_TAG_KEYS = ['taskbound:grant-id', 'taskbound:task-id', 'taskbound:agent-id'];
/** Tags on issued users and delivery secrets all live under this prefix. */
const TAG_KEY_PATTERN = 'taskbound:*';
/** The tag that marks a per-agent role as Taskbound's to assume. */
export const MANAGED_ROLE_TAG = { key: 'taskbound:managed', value: 'true' } as const;

export interface PermissionContext {
  readonly scope: Stack;
  readonly config: TaskboundConfig;
  readonly policy: Policy;
  readonly table: dynamodb.ITableV2;
  readonly bus: events.IEventBus;
  readonly deliveryKey: kms.IKey;
  readonly boundaryArn: string;
  readonly slackSecret: secretsmanager.ISecret;
  readonly schedulerGroupName: string;
  readonly schedulerRoleArn: string;
  /** The `dynamodb-kms` delivery mode's table (lib/constructs/delivery-table.ts); absent in the `secrets-manager` mode. */
  readonly deliveryTable?: dynamodb.ITable | undefined;
}

const statement = (props: iam.PolicyStatementProps) => new iam.PolicyStatement(props);
const scheduleArns = (ctx: PermissionContext) => [
  `arn:${Aws.PARTITION}:scheduler:${Aws.REGION}:${Aws.ACCOUNT_ID}:schedule/${ctx.schedulerGroupName}/*`,
];
const boundaryCondition = (ctx: PermissionContext) => ({ StringEquals: { 'iam:PermissionsBoundary': ctx.boundaryArn } });

/** The partition of an agent's items: its standing and its concurrency slots (grant-table.ts `agentKey`, `slotKey`). */
const AGENT_PARTITIONS = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['AGENT#*'] } };

/**
 * The sweep's one scan: the sparse index of live grants (nothing else is in it), read when the
 * engine judges every live grant by the policy in force (use-cases/revoke-unentitled.ts).
 */
export function scanLiveGrants(ctx: PermissionContext): iam.PolicyStatement[] {
  return [statement({ sid: 'ScanLiveGrants', actions: ['dynamodb:Scan'], resources: [`${ctx.table.tableArn}/index/${AGENT_INDEX.name}`] })];
}

/**
 * Grants: items of the table and each named index, no scans. The only deletes are of an agent's
 * items: a concurrency slot given back, in the same transaction as the grant's last write
 * (a grant record is never deleted by the engine; TTL removes it). A transaction needs no action
 * of its own: each of its items is authorised as the PutItem, UpdateItem or DeleteItem it is.
 */
export function grantStoreAccess(ctx: PermissionContext): iam.PolicyStatement[] {
  const indexes = (grantTableCreateInput('grants').GlobalSecondaryIndexes ?? []).map(
    (index) => `${ctx.table.tableArn}/index/${index.IndexName}`,
  );
  return [
    statement({
      sid: 'GrantTable',
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
      resources: [ctx.table.tableArn, ...indexes],
    }),
    statement({
      sid: 'FreeConcurrencySlots',
      actions: ['dynamodb:DeleteItem'],
      resources: [ctx.table.tableArn],
      conditions: AGENT_PARTITIONS,
    }),
  ];
}

/**
 * Opening a grant checks, in its transaction, that the agent is not suspended: a ConditionCheck
 * item, authorised as its own action, on a copy of the agent's standing only.
 */
export function openGrants(ctx: PermissionContext): iam.PolicyStatement[] {
  return [
    statement({
      sid: 'CheckAgentStanding',
      actions: ['dynamodb:ConditionCheckItem'],
      resources: [ctx.table.tableArn],
      conditions: AGENT_PARTITIONS,
    }),
  ];
}

/** Slack thread ids of approval messages, kept as items of the grant table. */
export function approvalThreads(ctx: PermissionContext): iam.PolicyStatement[] {
  return [statement({ sid: 'ApprovalMessageThreads', actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: [ctx.table.tableArn] })];
}

/** Outbound grant events, only as `source: taskbound`. */
export function publishGrantEvents(ctx: PermissionContext): iam.PolicyStatement[] {
  return [
    statement({
      sid: 'PublishGrantEvents',
      actions: ['events:PutEvents'],
      resources: [ctx.bus.eventBusArn],
      // `events:source` is multivalued: every entry of the batch must be the engine's source,
      // and the Null check keeps a request without the key from matching vacuously.
      conditions: { 'ForAllValues:StringEquals': { 'events:source': [ENGINE_SOURCE] }, Null: { 'events:source': 'false' } },
    }),
  ];
}

/**
 * `aws-sts-session`: assume only Taskbound-tagged agent roles, with exactly the grant's session
 * tags and always a grant-shaped source identity: a session without one could not be revoked.
 */
export function issueSessions(ctx: PermissionContext): iam.PolicyStatement[] {
  const roles = [agentRoleArnPattern(ctx.config)];
  const managed = { StringEquals: { [`aws:ResourceTag/${MANAGED_ROLE_TAG.key}`]: MANAGED_ROLE_TAG.value } };
  const grantShaped = { StringLike: { 'sts:SourceIdentity': GRANT_SOURCE_IDENTITY_PATTERN } };
  return [
    statement({ sid: 'AssumeAgentRoles', actions: ['sts:AssumeRole'], resources: roles, conditions: { ...managed, ...grantShaped } }),
    statement({
      sid: 'TagAgentSessions',
      actions: ['sts:TagSession'],
      resources: roles,
      conditions: { ...managed, 'ForAllValues:StringEquals': { 'aws:TagKeys': SESSION_TAG_KEYS } },
    }),
    statement({
      sid: 'SetGrantSourceIdentity',
      actions: ['sts:SetSourceIdentity'],
      resources: roles,
      conditions: { ...managed, ...grantShaped },
    }),
  ];
}

/** `aws-iam-access-key`: users only under /taskbound/, created and given policies only with the boundary. */
export function issueUsers(ctx: PermissionContext): iam.PolicyStatement[] {
  const users = [issuedUserArnPattern()];
  return [
    statement({
      sid: 'CreateBoundedUsers',
      actions: ['iam:CreateUser', 'iam:PutUserPolicy'],
      resources: users,
      conditions: boundaryCondition(ctx),
    }),
    statement({
      sid: 'TagIssuedUsers',
      actions: ['iam:TagUser'],
      resources: users,
      conditions: { 'ForAllValues:StringLike': { 'aws:TagKeys': [TAG_KEY_PATTERN] } },
    }),
    // CreateAccessKey has no boundary condition key; the user it applies to could only be created bounded.
    statement({ sid: 'CreateIssuedUserKeys', actions: ['iam:CreateAccessKey'], resources: users }),
  ];
}

/** Delivery secrets `taskbound/*`, written only encrypted with the delivery key. */
export function writeDeliveries(ctx: PermissionContext): iam.PolicyStatement[] {
  const secrets = [deliverySecretArnPattern(ctx.scope)];
  return [
    statement({
      sid: 'CreateDeliverySecrets',
      actions: ['secretsmanager:CreateSecret'],
      resources: secrets,
      conditions: { StringEquals: { 'secretsmanager:KmsKeyArn': ctx.deliveryKey.keyArn } },
    }),
    statement({
      sid: 'WriteDeliverySecrets',
      actions: ['secretsmanager:PutSecretValue', 'secretsmanager:GetSecretValue', 'secretsmanager:DeleteSecret'],
      resources: secrets,
    }),
    // A delivery already scheduled for deletion is restored only to be force-deleted at once
    // (secrets-manager-delivery-vault.ts): a recovery window would keep a credential readable.
    statement({ sid: 'RestoreDeliveryToDeleteIt', actions: ['secretsmanager:RestoreSecret'], resources: secrets }),
    // Secrets Manager refuses a policy that would make the secret public only when asked to check.
    statement({
      sid: 'RestrictDeliveryReaders',
      actions: ['secretsmanager:PutResourcePolicy'],
      resources: secrets,
      conditions: { Bool: { 'secretsmanager:BlockPublicPolicy': 'true' } },
    }),
    statement({
      sid: 'TagDeliverySecrets',
      actions: ['secretsmanager:TagResource'],
      resources: secrets,
      conditions: { 'ForAllValues:StringLike': { 'aws:TagKeys': [TAG_KEY_PATTERN] } },
    }),
    ...useDeliveryKey(ctx),
  ];
}

/** The delivery key, only as Secrets Manager uses it on the function's behalf. */
export function useDeliveryKey(ctx: PermissionContext): iam.PolicyStatement[] {
  return [
    statement({
      sid: 'DeliveryKeyViaSecretsManager',
      actions: ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:Encrypt'],
      resources: [ctx.deliveryKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
    }),
  ];
}

/** Per-grant expiry: one-time schedules in the engine's group, passing only the scheduler role. */
export function scheduleExpiry(ctx: PermissionContext): iam.PolicyStatement[] {
  return [
    statement({
      sid: 'ManageExpirySchedules',
      actions: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'],
      resources: scheduleArns(ctx),
    }),
    statement({
      sid: 'PassSchedulerRole',
      actions: ['iam:PassRole'],
      resources: [ctx.schedulerRoleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    }),
  ];
}

/** Ending a task deletes its schedule; nothing else. */
export function cancelExpiry(ctx: PermissionContext): iam.PolicyStatement[] {
  return [statement({ sid: 'DeleteExpirySchedules', actions: ['scheduler:DeleteSchedule'], resources: scheduleArns(ctx) })];
}

/** Revoking `aws-iam-access-key`: delete keys, policies and users under /taskbound/, list them for orphans. */
export function revokeUsers(): iam.PolicyStatement[] {
  return [
    statement({
      sid: 'RevokeIssuedUsers',
      actions: ['iam:ListAccessKeys', 'iam:DeleteAccessKey', 'iam:ListUserPolicies', 'iam:DeleteUserPolicy', 'iam:DeleteUser'],
      resources: [issuedUserArnPattern()],
    }),
    // ListUsers takes no resource (the SAR lists none): `*` is its only form; the sweep lists /taskbound/ only.
    statement({ sid: 'ListIssuedUsers', actions: ['iam:ListUsers'], resources: ['*'] }),
  ];
}

/**
 * An issuing function whose delivery fails, or whose grant was revoked while it issued, kills
 * the credential it just made, at once, rather than leaving it alive until the sweep: exactly
 * the calls that kill (delete the user's keys, policies and user; add the session to its
 * role's deny), and nothing that lists or reads anything else.
 */
export function killIssuedCredentials(ctx: PermissionContext): iam.PolicyStatement[] {
  return [
    statement({
      sid: 'KillIssuedUsers',
      actions: ['iam:ListAccessKeys', 'iam:DeleteAccessKey', 'iam:ListUserPolicies', 'iam:DeleteUserPolicy', 'iam:DeleteUser'],
      resources: [issuedUserArnPattern()],
    }),
    ...denyRevokedSessions(ctx),
  ];
}

/**
 * Use after revocation: CloudTrail event history by access key id. LookupEvents supports no
 * resource-level permissions or condition keys (Service Authorization Reference), so `*`.
 */
export function lookUpCredentialUse(): iam.PolicyStatement[] {
  return [statement({ sid: 'LookUpCredentialUse', actions: ['cloudtrail:LookupEvents'], resources: ['*'] })];
}

/** Revoking `aws-sts-session`: only the revoked-sessions deny on bounded agent roles. */
export function denyRevokedSessions(ctx: PermissionContext): iam.PolicyStatement[] {
  const roles = [agentRoleArnPattern(ctx.config)];
  return [
    // ListRolePolicies: the deny's budget is what the role's other inline policies leave (adapters/aws/role-inline-policy-budget.ts).
    statement({ sid: 'ReadRevokedSessionsDeny', actions: ['iam:GetRolePolicy', 'iam:ListRolePolicies'], resources: roles }),
    // IAM has no condition key for the inline policy's name; the boundary condition keeps a
    // compromised revoker from widening an unbounded role (docs/deploy.md makes it a prerequisite).
    statement({ sid: 'WriteRevokedSessionsDeny', actions: ['iam:PutRolePolicy'], resources: roles, conditions: boundaryCondition(ctx) }),
  ];
}

/**
 * Proving a killed credential dead (prove-revocation), and nothing that kills or revives one: read the
 * revoked-sessions deny on agent roles (a session's proof checks it is there), list an issued user's
 * keys (a key's proof when its delivery is gone). No PutRolePolicy: a proving function that could
 * write the deny could also empty it and bring the sessions it names back.
 */
export function proveCredentialsDead(ctx: PermissionContext): iam.PolicyStatement[] {
  return [
    statement({ sid: 'ReadRevokedSessionsDeny', actions: ['iam:GetRolePolicy'], resources: [agentRoleArnPattern(ctx.config)] }),
    statement({ sid: 'ListIssuedUserKeys', actions: ['iam:ListAccessKeys'], resources: [issuedUserArnPattern()] }),
  ];
}

/** A proven death's delivery: read the credential to probe with, then delete it (restored first if scheduled for deletion). */
export function destroyDeliveries(ctx: PermissionContext): iam.PolicyStatement[] {
  return [
    statement({
      sid: 'ReadAndDeleteDeliverySecrets',
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DeleteSecret', 'secretsmanager:RestoreSecret'],
      resources: [deliverySecretArnPattern(ctx.scope)],
    }),
    statement({
      sid: 'DecryptDeliveriesViaSecretsManager',
      actions: ['kms:Decrypt'],
      resources: [ctx.deliveryKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
    }),
  ];
}

/**
 * Revoking deliveries: read, delete and list `taskbound/*`; rotate brokered secrets marked rotateAfterUse.
 * A delivery is never rotated nor described (what the orphan check needs, ListSecrets gives).
 */
export function revokeDeliveries(ctx: PermissionContext): iam.PolicyStatement[] {
  const secrets = [deliverySecretArnPattern(ctx.scope)];
  const rotated = [
    ...new Set(Object.values(ctx.policy.scopes).flatMap((scope) => scope.secrets.filter((s) => s.rotateAfterUse).map((s) => s.arn))),
  ].sort();
  return [
    statement({
      sid: 'RevokeDeliverySecrets',
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DeleteSecret'],
      resources: secrets,
    }),
    // ListSecrets has no resource-level permission; the sweep filters by the taskbound/ prefix.
    statement({ sid: 'ListSecretsForOrphans', actions: ['secretsmanager:ListSecrets'], resources: ['*'] }),
    // The kill switch reads deliveries 20 per call. BatchGetSecretValue has no resource type either; it
    // reads only what GetSecretValue is allowed on, secret by secret (above: taskbound/* alone).
    statement({ sid: 'ReadDeliveriesInBatches', actions: ['secretsmanager:BatchGetSecretValue'], resources: ['*'] }),
    ...(rotated.length > 0
      ? [
          statement({
            sid: 'RotateBrokeredSecrets',
            actions: ['secretsmanager:RotateSecret', 'secretsmanager:DescribeSecret'],
            resources: rotated.flatMap(secretArnPatterns),
          }),
        ]
      : []),
  ];
}

/** The Slack webhook or bot token: alerts and interactions only. */
export function readSlackSecret(ctx: PermissionContext): iam.PolicyStatement[] {
  return [statement({ sid: 'ReadSlackSecret', actions: ['secretsmanager:GetSecretValue'], resources: [ctx.slackSecret.secretArn] })];
}
