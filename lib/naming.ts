// CDK naming: the names and ARN patterns both stacks (and the handlers' environment) agree
// on. Patterns are strings, not references, so trust can be written before its subject exists.
import { Aws, Stack } from 'aws-cdk-lib';
import type { TaskboundConfig } from './config';

/** IAM path of the engine's function roles; delivery secrets and the bus trust this path only. */
export const engineRolePath = (config: TaskboundConfig) => `/${config.instanceName}-engine/`;

/** Every engine function role, whatever CloudFormation names it. */
export const engineRoleArnPattern = (config: TaskboundConfig) =>
  `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role${engineRolePath(config)}*`;

/** The per-agent roles the issuer may assume and the revoker may put a deny on. */
export const agentRoleArnPattern = (config: TaskboundConfig) =>
  `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/${config.agentRolePrefix}*`;

/** Users issued as `aws-iam-access-key` credentials live under this path only. */
export const ISSUED_USER_PATH = '/taskbound/';
export const issuedUserArnPattern = () => `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:user${ISSUED_USER_PATH}*`;

/** Delivery secrets are `taskbound/<agentId>/<taskId>` (CONTRACT §5). */
export const DELIVERY_SECRET_PREFIX = 'taskbound/';
export const deliverySecretArnPattern = (scope: Stack) =>
  `arn:${Aws.PARTITION}:secretsmanager:${scope.region}:${scope.account}:secret:${DELIVERY_SECRET_PREFIX}*`;

/** The source only the engine itself may put on the bus. */
export { ENGINE_SOURCE } from '../lambdas/constants';
/** The Slack and CLI sources: their approvals and resumes are trusted, so the bus says who may use them. */
export { CLI_SOURCE, SLACK_SOURCE } from '../lambdas/routes';

/** `task-started` → `TaskStarted`: construct ids and CloudFormation-friendly prefixes. */
export const pascal = (name: string) => name.replace(/(^|-)([a-z])/g, (_match, _dash: string, letter: string) => letter.toUpperCase());

export const schedulerGroupName = (config: TaskboundConfig) => `${config.instanceName}-expiry`;
export const expireFunctionName = (config: TaskboundConfig) => `${config.instanceName}-expire-grant`;
/** Role names are global: the region keeps two regional deployments apart. */
export const schedulerRoleName = (config: TaskboundConfig) => `${config.instanceName}-scheduler-${Aws.REGION}`;
