// CDK: each function's environment, exactly the variables its composition root reads
// (lambdas/composition/aws-config.ts validates them at cold start and names any that is missing).
import { Aws } from 'aws-cdk-lib';
import { canarySecretName, engineRoleArns } from '../../naming';
import { reservedConcurrencyOf, type TaskboundConfig } from '../../config';
import { ISSUING, REVOKING, type EntryPoint } from '../../../lambdas/routes';
import type { EngineWiring } from './engine-function';
import { longestRoleSessionSeconds } from '../../../lambdas/domain/policy';

type Environment = Record<string, string>;

/** Logger and metrics (lambdas/composition/logger.ts, metrics.ts): every function. */
function powertools({ config }: EngineWiring): Environment {
  return {
    POWERTOOLS_SERVICE_NAME: config.serviceName,
    POWERTOOLS_LOG_LEVEL: config.logLevel,
    POWERTOOLS_METRICS_NAMESPACE: config.metricsNamespace,
  };
}

/**
 * What every engine function reads (`awsRevokingEngine`, lambdas/composition/aws-config.ts): store,
 * bus, the accounts' agent roles and canary, deliveries (a revoked pending grant is delivered
 * `denied`), and where expiry schedules are, to cancel them. Nothing to issue or arm with.
 */
export function revokingEnvironment(wiring: EngineWiring, handler: EntryPoint): Environment {
  const { config, state } = wiring;
  return {
    TABLE_NAME: state.table.tableName,
    EVENT_BUS_NAME: state.bus.eventBusName,
    ACCOUNT_ID: Aws.ACCOUNT_ID,
    INSTANCE_NAME: config.instanceName,
    AGENT_ROLE_PREFIX: config.agentRolePrefix,
    // The policy's longest task: sessions are never cut short of it, and the misuse check looks back that far.
    AGENT_ROLE_MAX_SESSION_SECONDS: String(longestRoleSessionSeconds(wiring.policy)),
    CANARY_SECRET_NAME: canarySecretName(config),
    // Exact ARNs: only these roles may read or change a delivery besides its runtime.
    ENGINE_ROLE_ARNS: engineRoleArns(config).join(','),
    QUOTA_SHARE: String(quotaShare(config, handler)),
    ...deliveryEnvironment(wiring),
    ...expiryEnvironment(wiring, { arms: false }),
    ...powertools(wiring),
  };
}

/** The expiring functions (`awsExpiringEngine`): the revoking ones', plus what arming an early expiry again needs. */
export function expiringEnvironment(wiring: EngineWiring, handler: EntryPoint): Environment {
  return { ...revokingEnvironment(wiring, handler), ...expiryEnvironment(wiring, { arms: true }) };
}

/** The issuing functions (`awsIssuingEngine`): the expiring ones', plus the boundary every grant user is created under. */
export function issuingEnvironment(wiring: EngineWiring, handler: EntryPoint): Environment {
  return { ...expiringEnvironment(wiring, handler), PERMISSIONS_BOUNDARY_ARN: wiring.state.boundary.managedPolicyArn };
}

/**
 * How many containers a function's container paces itself as one of (each paces to quota ÷ this):
 * the summed reserved concurrency of its group, since issuing functions call the issuing operations
 * (CreateSecret, PutResourcePolicy, CreateSchedule) and revoking ones the revoking operations
 * (DeleteSecret, DeleteSchedule); 30 for an issuing function and 141 for a revoking one by default.
 * Without reservations, the account's whole Lambda concurrency; or the deployer's `quotaShare`.
 * The two groups share PutSecretValue and PutEvents: when both saturate them at once, the SDK's
 * retries absorb the excess (docs/scale.md §4).
 */
export function quotaShare(
  config: Pick<TaskboundConfig, 'reservedConcurrency' | 'operatorPrincipalArns' | 'lambdaConcurrencyQuota' | 'quotaShare'>,
  handler: EntryPoint,
): number {
  if (config.quotaShare !== undefined) return config.quotaShare;
  if (config.reservedConcurrency === false) return config.lambdaConcurrencyQuota;
  const { perFunction, total } = reservedConcurrencyOf(config);
  const group: readonly EntryPoint[] | undefined = (ISSUING as readonly EntryPoint[]).includes(handler)
    ? ISSUING
    : (REVOKING as readonly EntryPoint[]).includes(handler)
      ? REVOKING
      : undefined;
  return group ? group.reduce((sum, member) => sum + (perFunction[member] ?? 0), 0) : total;
}

/** Where deliveries go (docs/scale.md §8): secrets under the delivery key, or the delivery table's items in the `dynamodb-kms` mode. */
function deliveryEnvironment({ config, state }: EngineWiring): Environment {
  return {
    DELIVERY_MODE: config.deliveryMode,
    DELIVERY_KMS_KEY_ARN: state.deliveryKey.keyArn,
    ...(state.deliveryTable ? { DELIVERY_TABLE_NAME: state.deliveryTable.tableName } : {}),
  };
}

/**
 * How grants expire (docs/scale.md §8): in the `schedule` mode, the group of per-grant schedules
 * (enough to cancel one) and, where the function `arms` them, their target, role and dead-letter
 * queue; with `due-index`, no Scheduler setting at all.
 */
function expiryEnvironment({ config, expiry }: EngineWiring, { arms }: { readonly arms: boolean }): Environment {
  if (config.expiry !== 'schedule') return { EXPIRY_MODE: config.expiry };
  const cancelling = { EXPIRY_MODE: config.expiry, SCHEDULER_GROUP: expiry.groupName };
  if (!arms) return cancelling;
  return {
    ...cancelling,
    SCHEDULER_ROLE_ARN: expiry.roleArn,
    EXPIRE_FUNCTION_ARN: expiry.expireFunctionArn,
    SCHEDULER_DLQ_ARN: expiry.deadLetterQueueArn,
  };
}

/** Refusing a bus decision (`awsRefusals`): the grant table and the bus it answers on, nothing that issues or revokes. */
export function refusalEnvironment(wiring: EngineWiring): Environment {
  const { state } = wiring;
  return { TABLE_NAME: state.table.tableName, EVENT_BUS_NAME: state.bus.eventBusName, ...powertools(wiring) };
}

/** Slack's interaction endpoint (`awsSlackInteractions`): an issuing function's, plus the Slack secret and workspace. */
export function slackInteractionsEnvironment(wiring: EngineWiring): Environment {
  const { config, state } = wiring;
  return {
    ...issuingEnvironment(wiring, 'slack-interactions'),
    SLACK_SECRET_ARN: state.slackSecret.secretArn,
    ...(config.slackTeamId ? { SLACK_TEAM_ID: config.slackTeamId } : {}),
  };
}

/** The alerts' root (`awsAlerts`): the grant table (approval threads), the Slack secret and routing. */
export function alertsEnvironment(wiring: EngineWiring): Environment {
  const { config, state } = wiring;
  return {
    TABLE_NAME: state.table.tableName,
    SLACK_SECRET_ARN: state.slackSecret.secretArn,
    ...(config.slackRouting ? { SLACK_ROUTING: JSON.stringify(config.slackRouting) } : {}),
    ...powertools(wiring),
  };
}

/** The digest's root (`awsDigest`): the alerts', plus the period each digest covers. */
export function digestEnvironment(wiring: EngineWiring): Environment {
  return { ...alertsEnvironment(wiring), DIGEST_HOURS: String(wiring.config.digestHours) };
}
