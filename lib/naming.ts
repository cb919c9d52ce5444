// CDK naming: the names and ARN patterns both stacks (and the handlers' environment) agree
// on. Patterns are strings, not references, so trust can be written before its subject exists.
import { Aws, Fn, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { ISSUING, REVOKING } from '../lambdas/routes';
import type { EngineHandler } from './bundling';
import type { TaskboundConfig } from './config';

/** IAM path of the engine's function roles (for reading IAM, never for trust: see engineRoleArn). */
export const engineRolePath = (config: TaskboundConfig) => `/${config.instanceName}-engine/`;

/** Which functions issue and which revoke: one list, in the routes table lambdas/ and lib/ share. */
export { ISSUING, REVOKING };

/**
 * Engine roles have fixed names, so the bus, the delivery secrets and the agent-role trust
 * policy can name each one exactly, before it exists and without a cross-stack cycle: a path
 * wildcard would trust any role anyone with iam:CreateRole puts under that path. Role names
 * are global to the account; the region keeps two regional deployments apart (at most 54 of 64 characters).
 */
export const engineRoleName = (config: TaskboundConfig, handler: EngineHandler) => `${config.instanceName}-${handler}-${Aws.REGION}`;
export const engineRoleArn = (config: TaskboundConfig, handler: EngineHandler) =>
  `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role${engineRolePath(config)}${engineRoleName(config, handler)}`;

/**
 * The issuing functions this deployment has: the operator endpoint's exists only with operators
 * configured, and a role named for a function that does not exist must be trusted by nothing
 * (anyone allowed to create roles could create it).
 */
export const issuingHandlers = (config: TaskboundConfig): EngineHandler[] =>
  ISSUING.filter((handler) => handler !== 'operator-api' || config.operatorPrincipalArns.length > 0);
/** The roles that may write deliveries: the issuing and revoking functions. */
export const engineRoleArns = (config: TaskboundConfig) =>
  [...issuingHandlers(config), ...REVOKING].map((handler) => engineRoleArn(config, handler));
/** The roles that may publish `source: taskbound`: those, and the function that answers refused bus decisions. */
export const publisherRoleArns = (config: TaskboundConfig) => [...engineRoleArns(config), engineRoleArn(config, 'grant-decision')];
/**
 * Whether a hub engine role ARN (as the hub's EngineRoleArns output gives it, resolved) is
 * prove-revocation's: a spoke trusts it with its read-only prover role, never its engine role.
 */
export const isProveRevocationRoleArn = (config: TaskboundConfig, arn: string) =>
  arn.slice(arn.lastIndexOf('/') + 1).startsWith(`${config.instanceName}-prove-revocation-`);
/** The roles an agent role's trust policy names: only the functions that assume agent roles. */
export const issuingRoleArns = (config: TaskboundConfig) => issuingHandlers(config).map((handler) => engineRoleArn(config, handler));

/**
 * A grant id (`g-` and 26 base-32 characters, lambdas/domain/ids.ts) as an IAM `StringLike`
 * pattern: `?` is exactly one character, so nothing shorter or longer matches.
 */
export const GRANT_SOURCE_IDENTITY_PATTERN = `g-${'?'.repeat(26)}`;

/** The per-agent roles the issuer may assume and the revoker may put a deny on. */
export const agentRoleArnPattern = (config: TaskboundConfig) =>
  `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/${config.agentRolePrefix}*`;

/** Users issued as `aws-iam-access-key` credentials live under this path only. */
export const ISSUED_USER_PATH = '/taskbound/';
export const issuedUserArnPattern = () => `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:user${ISSUED_USER_PATH}*`;

/** Delivery secrets are `taskbound/<agentId>/<taskId>` (docs/contract.md §5). */
export const DELIVERY_SECRET_PREFIX = 'taskbound/';
export const deliverySecretArnPattern = (scope: Stack) =>
  `arn:${Aws.PARTITION}:secretsmanager:${scope.region}:${scope.account}:secret:${DELIVERY_SECRET_PREFIX}*`;

/**
 * The canary every session may describe, so a refused call proves its revocation took. It
 * holds nothing, and its name is outside the delivery prefix (never a delivery secret).
 */
export const canarySecretName = (config: TaskboundConfig) => `${config.instanceName}-engine/canary`;
/** Secrets Manager appends `-` and six random characters to a secret's name in its ARN. */
export const canarySecretArnPattern = (scope: Stack, config: TaskboundConfig) =>
  `arn:${Aws.PARTITION}:secretsmanager:${scope.region}:${scope.account}:secret:${canarySecretName(config)}-??????`;

/**
 * Eight hex characters of the stack's CloudFormation id (a UUID drawn when the stack is
 * created): stable across updates, new after a delete. A resource retained on delete keeps its
 * name, so a fixed name would block the next deploy with "already exists"; `<base>-<suffix>` never does.
 */
export const stackSuffix = (scope: IConstruct) => Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Stack.of(scope).stackId))));
/** `base` made unique to the stack that holds `scope` (see stackSuffix). */
export const redeployableName = (scope: IConstruct, base: string) => `${base}-${stackSuffix(scope)}`;

/** The source only the engine itself may put on the bus. */
export { ENGINE_SOURCE } from '../lambdas/constants';
/** The Slack and CLI sources: no bus event from them decides anything; the bus still keeps them to this account. */
export { CLI_SOURCE, SLACK_SOURCE } from '../lambdas/routes';

/** `task-started` → `TaskStarted`: construct ids and CloudFormation-friendly prefixes. */
export const pascal = (name: string) => name.replace(/(^|-)([a-z])/g, (_match, _dash: string, letter: string) => letter.toUpperCase());

/** The base of the expiry schedule group's name; the group's own name adds the stack's suffix (redeployableName). */
export const schedulerGroupName = (config: TaskboundConfig) => `${config.instanceName}-expiry`;
/** The base of the signals log group's name (EventBridge writes only to `/aws/events/...`). */
export const signalLogGroupName = (config: TaskboundConfig) => `/aws/events/${config.instanceName}-signals`;
/** The bus archive: CloudFormation's generated archive names can exceed EventBridge's 48 characters. */
export const archiveName = (config: TaskboundConfig) => `${config.instanceName}-events-archive`;
export const ARCHIVE_NAME_MAX_CHARS = 48;
export const expireFunctionName = (config: TaskboundConfig) => `${config.instanceName}-expire-grant`;
/** Role names are global: the region keeps two regional deployments apart. */
export const schedulerRoleName = (config: TaskboundConfig) => `${config.instanceName}-scheduler-${Aws.REGION}`;
