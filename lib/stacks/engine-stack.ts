// CDK stack (stateless): the engine's functions and their wiring. Each function is its own
// construct (lib/constructs/functions/) holding exactly its environment and its capabilities;
// this stack lists them, routes events to them and watches them. Everything stateful arrives
// through typed props from the stateful stack.
import { Annotations, Aws, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DUE_SHARDS } from '../../lambdas/adapters/aws/grant-table';
import type { Policy } from '../../lambdas/domain/policy';
import type { HandlerName } from '../../lambdas/routes';
import type { EngineHandler } from '../bundling';
import { reservedConcurrencyOf, type TaskboundConfig } from '../config';
import { DeadLetterQueue } from '../constructs/dead-letter-queue';
import type { PermissionContext } from '../constructs/engine-permissions';
import { EventRoutes } from '../constructs/event-routes';
import { EventSchemas } from '../constructs/event-schemas';
import { DueExpiry } from '../constructs/due-expiry';
import { ExpiryScheduler } from '../constructs/expiry-scheduler';
import { AlarmToSlackFunction, AlertsFunction, DigestFunction } from '../constructs/functions/alert-functions';
import { ASYNC_HANDLERS, type AsyncHandler, type EngineWiring } from '../constructs/functions/engine-function';
import { ExpireGrantFunction, TtlExpiryStreamFunction } from '../constructs/functions/expiring-function';
import { GrantDecisionFunction } from '../constructs/functions/grant-decision';
import { OperatorApiFunction } from '../constructs/functions/operator-api';
import {
  AgentStatusFunction,
  CredentialLeakedFunction,
  RevokeRequestedFunction,
  ProveRevocationFunction,
  TaskEndedFunction,
} from '../constructs/functions/revoking-function';
import { SlackInteractionsFunction } from '../constructs/functions/slack-interactions';
import { SweepFunction } from '../constructs/functions/sweep';
import { TaskStartedFunction } from '../constructs/functions/task-started';
import { Observability } from '../constructs/observability';
import { OperatorEndpoint } from '../constructs/operator-endpoint';
import { SlackHealth } from '../constructs/slack-health';
import type { TaskboundFunction } from '../constructs/taskbound-function';
import {
  DELIVERY_SECRET_PREFIX,
  engineRoleArns,
  expireFunctionName,
  ISSUING,
  issuingRoleArns,
  REVOKING,
  redeployableName,
  schedulerGroupName,
  schedulerRoleName,
  signalLogGroupName,
} from '../naming';
import { removalPolicyOf, type EngineState } from './stateful-stack';

export interface EngineStackProps extends StackProps {
  readonly config: TaskboundConfig;
  readonly policy: Policy;
  /** The policy file's text, compiled into every bundle. */
  readonly policyYaml: string;
  readonly state: EngineState;
  /** Code to deploy instead of bundling each handler (infrastructure tests read only the template). */
  readonly codeFor?: (handler: EngineHandler) => lambda.Code;
}

export { ISSUING, REVOKING };
export const isOneOf = (handlers: readonly EngineHandler[], handler: EngineHandler) => handlers.includes(handler);
/** The operator endpoint's function exists only when operators are configured (lib/constructs/operator-endpoint.ts). */
type StackFunction = Exclude<EngineHandler, 'operator-api'>;

/** The synth-time note of what the functions reserve and the quota that needs (docs/deploy.md). */
export const reservedConcurrencyNote = (config: TaskboundConfig) => {
  const { total, requiredQuota } = reservedConcurrencyOf(config);
  return (
    `The engine functions reserve ${total} concurrent executions and AWS keeps 100 unreserved: the account needs a Lambda concurrent ` +
    `executions quota of at least ${requiredQuota} (Service Quotas → AWS Lambda → Concurrent executions), or the deploy fails with ` +
    '"decreases account\'s UnreservedConcurrentExecution below its minimum value of [100]". Set taskbound.reservedConcurrency to change it.'
  );
};

export class EngineStack extends Stack {
  readonly functions: Readonly<Record<StackFunction, TaskboundFunction>>;
  readonly operatorEndpoint: OperatorEndpoint;
  readonly deadLetterQueues: Readonly<Record<AsyncHandler, sqs.Queue>>;

  constructor(scope: Construct, id: string, props: EngineStackProps) {
    super(scope, id, props);
    const { config, state, policy } = props;
    const removalPolicy = removalPolicyOf(config);

    const deadLetterQueues = Object.fromEntries(
      ASYNC_HANDLERS.map((handler) => [handler, new DeadLetterQueue(this, `DeadLetters-${handler}`, removalPolicy)]),
    ) as Record<AsyncHandler, DeadLetterQueue>;
    this.deadLetterQueues = deadLetterQueues;
    const expireFunctionArn = `arn:${Aws.PARTITION}:lambda:${Aws.REGION}:${Aws.ACCOUNT_ID}:function:${expireFunctionName(config)}`;
    const expiry = new ExpiryScheduler(this, 'Expiry', {
      groupName: redeployableName(this, schedulerGroupName(config)),
      removalPolicy,
      roleName: schedulerRoleName(config),
      expireFunctionArn,
      deadLetterQueue: deadLetterQueues['expire-grant'],
    });
    const groupName = expiry.group.scheduleGroupName;
    const permissions: PermissionContext = {
      scope: this,
      config,
      policy,
      table: state.table,
      bus: state.bus,
      deliveryKey: state.deliveryKey,
      boundaryArn: state.boundary.managedPolicyArn,
      slackSecret: state.slackSecret,
      schedulerGroupName: groupName,
      schedulerRoleArn: expiry.roleArn,
      deliveryTable: state.deliveryTable,
    };
    const wiring: EngineWiring = {
      config,
      policy,
      policyYaml: props.policyYaml,
      state,
      expiry: { groupName, roleArn: expiry.roleArn, expireFunctionArn, deadLetterQueueArn: deadLetterQueues['expire-grant'].queueArn },
      deadLetterQueues,
      removalPolicy,
      permissions,
      codeFor: props.codeFor,
    };

    const slackInteractions = new SlackInteractionsFunction(this, wiring);
    const functions = {
      // Issuing
      'task-started': new TaskStartedFunction(this, wiring),
      'slack-interactions': slackInteractions,
      // Refusing a decision sent on the bus
      'grant-decision': new GrantDecisionFunction(this, wiring),
      // Revoking
      'task-ended': new TaskEndedFunction(this, wiring),
      'credential-leaked': new CredentialLeakedFunction(this, wiring),
      'agent-status': new AgentStatusFunction(this, wiring),
      'revoke-requested': new RevokeRequestedFunction(this, wiring),
      'prove-revocation': new ProveRevocationFunction(this, wiring),
      'expire-grant': new ExpireGrantFunction(this, wiring),
      'ttl-expiry-stream': new TtlExpiryStreamFunction(this, wiring),
      sweep: new SweepFunction(this, wiring),
      // Telling people
      alerts: new AlertsFunction(this, wiring),
      'alarm-to-slack': new AlarmToSlackFunction(this, wiring),
      digest: new DigestFunction(this, wiring),
    } satisfies Record<StackFunction, TaskboundFunction>;
    this.functions = functions;
    if (config.expiry === 'due-index') {
      // No per-grant schedules: every minute one reader per due-index shard (docs/scale.md §8).
      new DueExpiry(this, 'DueExpiry', {
        expireFunction: functions['expire-grant'],
        deadLetterQueue: deadLetterQueues['expire-grant'],
        shards: DUE_SHARDS,
      });
    }
    this.operatorEndpoint = new OperatorEndpoint(this, 'OperatorEndpoint', {
      operatorPrincipalArns: config.operatorPrincipalArns,
      makeFunction: () => new OperatorApiFunction(this, wiring),
    });
    Annotations.of(this).addWarningV2('taskbound:reserved-concurrency', reservedConcurrencyNote(config));

    new EventRoutes(this, 'Routes', {
      bus: state.bus,
      functions: functions satisfies Record<HandlerName, lambda.IFunction>,
      deadLetterQueues,
      retryAttempts: config.eventRetryAttempts,
      maxEventAge: Duration.hours(config.eventMaxAgeHours),
    });
    const observability = new Observability(this, 'Observability', {
      instanceName: config.instanceName,
      signalLogGroupName: redeployableName(this, signalLogGroupName(config)),
      bus: state.bus,
      namespace: config.metricsNamespace,
      serviceName: config.serviceName,
      deadLetterQueues,
      sweep: functions.sweep,
      functions: { ...functions, ...(this.operatorEndpoint.function ? { 'operator-api': this.operatorEndpoint.function } : {}) },
      logRetention: config.logRetentionDays,
      removalPolicy,
      alarmEmail: config.alarmEmail,
    });
    new SlackHealth(this, 'SlackHealth', {
      alarmTopic: observability.topic,
      alarmFunction: functions['alarm-to-slack'],
      digestFunction: functions.digest,
      digestDeadLetterQueue: deadLetterQueues.digest,
      table: state.table,
      digestHours: config.digestHours,
    });
    new EventSchemas(this, 'Schemas', { registryName: `${config.instanceName}-events` });

    // Spoke stacks trust these exact ARNs (docs/deploy.md, hub and spoke): the roles have fixed names, so
    // naming's list (the operator endpoint's role only when it exists) is the roles' ARNs.
    new CfnOutput(this, 'EngineRoleArns', {
      description: 'The engine roles that issue and revoke: pass them to each spoke stack as hubEngineRoleArns',
      value: engineRoleArns(config).join(','),
    });
    new CfnOutput(this, 'EventBusName', { value: state.bus.eventBusName, description: 'Send task events here' });
    new CfnOutput(this, 'EventBusArn', { value: state.bus.eventBusArn });
    new CfnOutput(this, 'GrantTableName', { value: state.table.tableName });
    new CfnOutput(this, 'DeliverySecretPrefix', {
      value: DELIVERY_SECRET_PREFIX,
      description: 'Runtimes poll taskbound/<agentId>/<taskId>',
    });
    new CfnOutput(this, 'SlackInteractionUrl', {
      value: slackInteractions.url.url,
      description: 'Paste into the Slack app: Interactivity & Shortcuts → Request URL',
    });
    new CfnOutput(this, 'IssuingRoleArns', {
      value: issuingRoleArns(config).join(','),
      description: 'Trust exactly these in each per-agent role (docs/deploy.md)',
    });
  }
}
