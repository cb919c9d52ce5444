// CDK: each function's environment, exactly the variables its composition root reads
// (lambdas/composition/aws-engine.ts validates them at cold start and names any that is missing).
import { Aws } from 'aws-cdk-lib';
import { canarySecretName, engineRoleArns } from '../../naming';
import { reservedConcurrencyOf, type TaskboundConfig } from '../../config';
import { ISSUING, REVOKING, type EntryPoint } from '../../../lambdas/routes';
import type { EngineWiring } from './engine-function';

type Environment = Record<string, string>;

/** Logger and metrics (lambdas/composition/logger.ts, metrics.ts): every function. */
function powertools({ config }: EngineWiring): Environment {
  return { POWERTOOLS_SERVICE_NAME: config.serviceName, POWERTOOLS_LOG_LEVEL: config.logLevel, POWERTOOLS_METRICS_NAMESPACE: config.metricsNamespace };
}

/** The engine's composition root (`awsEngine`): store, bus, issuers in every account, deliveries, expiry, canary. */
export function engineEnvironment(wiring: EngineWiring, handler: EntryPoint): Environment {
  const { config, state } = wiring;
  return {
    TABLE_NAME: state.table.tableName,
    EVENT_BUS_NAME: state.bus.eventBusName,
    ACCOUNT_ID: Aws.ACCOUNT_ID,
    INSTANCE_NAME: config.instanceName,
    AGENT_ROLE_PREFIX: config.agentRolePrefix,
    CANARY_SECRET_NAME: canarySecretName(config),
    PERMISSIONS_BOUNDARY_ARN: state.boundary.managedPolicyArn,
    // Exact ARNs: only these roles may read or change a delivery besides its runtime.
    ENGINE_ROLE_ARNS: engineRoleArns(config).join(','),
    QUOTA_SHARE: String(quotaShare(config, handler)),
    ...deliveryEnvironment(wiring),
    ...expiryEnvironment(wiring),
    ...powertools(wiring),
  };
}

/**
 * How many containers a function's container paces itself as one of (each paces to quota ÷ this):
 * the summed reserved concurrency of its group, since issuing functions call the issuing operations
 * (CreateSecret, PutResourcePolicy, CreateSchedule) and revoking ones the revoking operations
 * (DeleteSecret, DeleteSchedule); 30 for an issuing function and 121 for a revoking one by default.
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

/** How grants expire (docs/scale.md §8): where per-grant schedules go in the `schedule` mode; with `due-index`, no Scheduler setting at all. */
function expiryEnvironment({ config, expiry }: EngineWiring): Environment {
  if (config.expiry !== 'schedule') return { EXPIRY_MODE: config.expiry };
  return {
    EXPIRY_MODE: config.expiry,
    SCHEDULER_GROUP: expiry.groupName,
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

/** Slack's interaction endpoint (`awsSlackInteractions`): the engine's, plus the Slack secret and workspace. */
export function slackInteractionsEnvironment(wiring: EngineWiring): Environment {
  const { config, state } = wiring;
  return { ...engineEnvironment(wiring, 'slack-interactions'), SLACK_SECRET_ARN: state.slackSecret.secretArn, ...(config.slackTeamId ? { SLACK_TEAM_ID: config.slackTeamId } : {}) };
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
