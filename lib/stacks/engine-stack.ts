// CDK stack (stateless): the engine's functions, their routes, schedules and stream, each
// with exactly the permissions its handler calls, plus dashboards, alarms and event schemas.
// Everything stateful arrives through typed props from the stateful stack.
import { Aws, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { Policy } from '../../lambdas/domain/policy';
import type { HandlerName } from '../../lambdas/routes';
import { handlerEntry, type EngineHandler } from '../bundling';
import type { TaskboundConfig } from '../config';
import { DeadLetterQueue } from '../constructs/dead-letter-queue';
import * as can from '../constructs/engine-permissions';
import { EventRoutes } from '../constructs/event-routes';
import { EventSchemas } from '../constructs/event-schemas';
import { ExpiryScheduler } from '../constructs/expiry-scheduler';
import { DueExpiry } from '../constructs/due-expiry';
import { revokeDeliveryItems, writeDeliveryItems } from '../constructs/delivery-table';
import { DUE_SHARDS } from '../../lambdas/adapters/aws/grant-table';
import { Observability } from '../constructs/observability';
import { OperatorEndpoint } from '../constructs/operator-endpoint';
import { SlackHealth } from '../constructs/slack-health';
import { TaskboundFunction } from '../constructs/taskbound-function';
import { assumeSpokeEngineRoles } from '../constructs/spoke-access';
import {
  canarySecretName,
  DELIVERY_SECRET_PREFIX,
  engineRoleArns,
  engineRoleName,
  engineRolePath,
  expireFunctionName,
  ISSUING,
  issuingRoleArns,
  REVOKING,
  pascal,
  schedulerGroupName,
  schedulerRoleName,
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
/** Handlers invoked asynchronously (rules, schedules, streams) own a dead-letter queue. */
const ASYNC = ['task-started', 'grant-decision', ...REVOKING, 'alerts', 'alarm-to-slack', 'digest'] as const satisfies readonly EngineHandler[];
/** The operator endpoint's function exists only when operators are configured (lib/constructs/operator-endpoint.ts). */
type StackFunction = Exclude<EngineHandler, 'operator-api'>;
type AsyncHandler = (typeof ASYNC)[number];

export class EngineStack extends Stack {
  readonly functions: Readonly<Record<StackFunction, TaskboundFunction>>;
  readonly operatorEndpoint: OperatorEndpoint;
  readonly deadLetterQueues: Readonly<Record<AsyncHandler, sqs.Queue>>;

  constructor(scope: Construct, id: string, props: EngineStackProps) {
    super(scope, id, props);
    const { config, state } = props;
    const removalPolicy = removalPolicyOf(config);

    const deadLetterQueues = Object.fromEntries(ASYNC.map((handler) => [handler, new DeadLetterQueue(this, `DeadLetters-${handler}`, removalPolicy)])) as Record<AsyncHandler, DeadLetterQueue>;
    this.deadLetterQueues = deadLetterQueues;
    const expireDlq = deadLetterQueues['expire-grant'];
    const expireFunctionArn = `arn:${Aws.PARTITION}:lambda:${Aws.REGION}:${Aws.ACCOUNT_ID}:function:${expireFunctionName(config)}`;
    const expiry = new ExpiryScheduler(this, 'Expiry', {
      groupName: schedulerGroupName(config),
      roleName: schedulerRoleName(config),
      expireFunctionArn,
      deadLetterQueue: expireDlq,
    });

    const environment: Record<string, string> = {
      TABLE_NAME: state.table.tableName,
      EVENT_BUS_NAME: state.bus.eventBusName,
      ACCOUNT_ID: Aws.ACCOUNT_ID,
      INSTANCE_NAME: config.instanceName,
      AGENT_ROLE_PREFIX: config.agentRolePrefix,
      CANARY_SECRET_NAME: canarySecretName(config),
      PERMISSIONS_BOUNDARY_ARN: state.boundary.managedPolicyArn,
      DELIVERY_KMS_KEY_ARN: state.deliveryKey.keyArn,
      DELIVERY_MODE: config.deliveryMode,
      ...(state.deliveryTable ? { DELIVERY_TABLE_NAME: state.deliveryTable.tableName } : {}),
      EXPIRY_MODE: config.expiry,
      // Exact ARNs: only these roles may read or change a delivery besides its runtime.
      ENGINE_ROLE_ARNS: engineRoleArns(config).join(','),
      SCHEDULER_GROUP: schedulerGroupName(config),
      SCHEDULER_ROLE_ARN: expiry.roleArn,
      EXPIRE_FUNCTION_ARN: expireFunctionArn,
      SCHEDULER_DLQ_ARN: expireDlq.queueArn,
      SLACK_SECRET_ARN: state.slackSecret.secretArn,
      ...(config.slackRouting ? { SLACK_ROUTING: JSON.stringify(config.slackRouting) } : {}),
      ...(config.slackTeamId ? { SLACK_TEAM_ID: config.slackTeamId } : {}),
      POWERTOOLS_SERVICE_NAME: config.serviceName,
      POWERTOOLS_LOG_LEVEL: config.logLevel,
      POWERTOOLS_METRICS_NAMESPACE: config.metricsNamespace,
    };
    const concurrency = (handler: EngineHandler): number | undefined => {
      if (handler === 'sweep') return 1; // sweeps never overlap: each one sees the previous one's writes
      if (config.reservedConcurrency === false) return undefined;
      if (isOneOf(ISSUING, handler)) return config.reservedConcurrency.issuing;
      return isOneOf(REVOKING, handler) ? config.reservedConcurrency.revoking : undefined;
    };
    const make = (handler: EngineHandler, extra: Partial<ConstructorParameters<typeof TaskboundFunction>[2]> = {}) =>
      new TaskboundFunction(this, pascal(handler), {
        handlerName: handler,
        entry: handlerEntry(handler),
        ...(props.codeFor ? { code: props.codeFor(handler) } : {}),
        policyYaml: props.policyYaml,
        rolePath: engineRolePath(config),
        roleName: engineRoleName(config, handler),
        environment,
        logRetention: config.logRetentionDays,
        removalPolicy,
        ...(isOneOf(ASYNC, handler) ? { deadLetterQueue: deadLetterQueues[handler as AsyncHandler] } : {}),
        reservedConcurrentExecutions: concurrency(handler),
        ...extra,
      });
    const functions = {
      'task-started': make('task-started'),
      'task-ended': make('task-ended'),
      'grant-decision': make('grant-decision'),
      'credential-leaked': make('credential-leaked'),
      'agent-status': make('agent-status', { timeout: Duration.minutes(2) }),
      'revoke-requested': make('revoke-requested'),
      'expire-grant': make('expire-grant', { functionName: expireFunctionName(config) }),
      'ttl-expiry-stream': make('ttl-expiry-stream', { timeout: Duration.minutes(2) }),
      sweep: make('sweep', { timeout: Duration.minutes(4), memorySize: 1024 }),
      alerts: make('alerts'),
      // Deciding may issue the credential there and then: as long as any issuing function.
      'slack-interactions': make('slack-interactions'),
      'alarm-to-slack': make('alarm-to-slack'),
      digest: make('digest', { timeout: Duration.minutes(2), environment: { ...environment, DIGEST_HOURS: String(config.digestHours) } }),
    } satisfies Record<StackFunction, TaskboundFunction>;
    this.functions = functions;

    const ctx: can.PermissionContext = {
      scope: this,
      config,
      policy: props.policy,
      table: state.table,
      bus: state.bus,
      deliveryKey: state.deliveryKey,
      boundaryArn: state.boundary.managedPolicyArn,
      slackSecret: state.slackSecret,
      schedulerGroupName: expiry.group.scheduleGroupName,
      schedulerRoleArn: expiry.roleArn,
    };
    const allow = (handler: StackFunction, statements: readonly iam.PolicyStatement[]) => {
      for (const statement of statements) functions[handler].engineRole.addToPrincipalPolicy(statement);
    };
    // Each mode's own capabilities: delivery items or secrets, schedules or none.
    const deliveryTable = state.deliveryTable;
    const writeDeliveries = () => (deliveryTable ? writeDeliveryItems(deliveryTable, state.deliveryKey) : can.writeDeliveries(ctx));
    const scheduled = (statements: () => iam.PolicyStatement[]) => (config.expiry === 'schedule' ? statements() : []);
    const issuing = () => [
      ...can.grantStoreAccess(ctx),
      ...can.publishGrantEvents(ctx),
      ...can.issueSessions(ctx),
      ...can.issueUsers(ctx),
      ...writeDeliveries(),
      ...scheduled(() => can.scheduleExpiry(ctx)),
      ...assumeSpokeEngineRoles(config, props.policy),
      ...can.killIssuedCredentials(ctx),
    ];
    for (const handler of ISSUING) if (handler !== 'operator-api') allow(handler, issuing());
    // A bus decision is only refused: it reads the grant it names, records and answers.
    allow('grant-decision', [...can.grantStoreAccess(ctx), ...can.publishGrantEvents(ctx)]);
    for (const handler of REVOKING) {
      allow(handler, [
        ...can.grantStoreAccess(ctx),
        ...can.publishGrantEvents(ctx),
        ...can.revokeUsers(),
        ...can.denyRevokedSessions(ctx),
        // Also in the dynamodb-kms mode: it rotates brokered secrets, and deletes deliveries written before a switch of mode.
        ...can.revokeDeliveries(ctx),
        ...(deliveryTable ? revokeDeliveryItems(deliveryTable, state.deliveryKey) : []),
        // A pending grant that is revoked gets a `denied` delivery (docs/contract.md §5).
        ...writeDeliveries(),
        ...scheduled(() => can.cancelExpiry(ctx)),
        ...assumeSpokeEngineRoles(config, props.policy),
      ]);
    }
    allow('sweep', can.lookUpCredentialUse());
    allow('alerts', [...can.readSlackSecret(ctx), ...can.approvalThreads(ctx)]);
    allow('slack-interactions', can.readSlackSecret(ctx));
    this.operatorEndpoint = new OperatorEndpoint(this, 'OperatorEndpoint', {
      operatorPrincipalArns: config.operatorPrincipalArns,
      makeFunction: () => make('operator-api', { timeout: Duration.seconds(30) }),
      statements: issuing(),
    });
    // Spoke stacks trust these exact ARNs (docs/deploy.md, hub and spoke): the roles have fixed names, so
    // naming's list (the operator endpoint's role only when it exists) is the roles' ARNs.
    new CfnOutput(this, 'EngineRoleArns', {
      description: 'The engine roles that issue and revoke: pass them to each spoke stack as hubEngineRoleArns',
      value: engineRoleArns(config).join(','),
    });
    allow('alarm-to-slack', can.readSlackSecret(ctx));
    allow('digest', can.readSlackSecret(ctx));

    const routed = functions satisfies Record<HandlerName, lambda.IFunction>;
    new EventRoutes(this, 'Routes', {
      bus: state.bus,
      functions: routed,
      deadLetterQueues,
      retryAttempts: config.eventRetryAttempts,
      maxEventAge: Duration.hours(config.eventMaxAgeHours),
    });
    new events.Rule(this, 'SweepSchedule', {
      description: `Taskbound: sweep every ${config.sweepRateMinutes} minutes`,
      schedule: events.Schedule.rate(Duration.minutes(config.sweepRateMinutes)),
      targets: [new targets.LambdaFunction(functions.sweep, { deadLetterQueue: deadLetterQueues.sweep, retryAttempts: 2, maxEventAge: Duration.minutes(config.sweepRateMinutes) })],
    });
    // Orphan reconciliation lists every /taskbound/ user and delivery secret: hourly, not every sweep.
    new events.Rule(this, 'OrphanReconciliationSchedule', {
      description: 'Taskbound: sweep with orphan reconciliation every hour',
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [
        new targets.LambdaFunction(functions.sweep, {
          event: events.RuleTargetInput.fromObject({ reconcileOrphans: true }),
          deadLetterQueue: deadLetterQueues.sweep,
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
        }),
      ],
    });
    if (config.expiry === 'due-index') {
      new DueExpiry(this, 'DueExpiry', { expireFunction: functions['expire-grant'], deadLetterQueue: deadLetterQueues['expire-grant'], shards: DUE_SHARDS });
    }
    functions['ttl-expiry-stream'].addEventSource(
      new DynamoEventSource(state.table, {
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: 100,
        bisectBatchOnError: true,
        retryAttempts: 10,
        onFailure: new SqsDlq(deadLetterQueues['ttl-expiry-stream']),
        // Only TTL deletions of expiry markers: DynamoDB is the deleting principal, sk is EXPIRY.
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual('REMOVE'),
            userIdentity: { type: lambda.FilterRule.isEqual('Service'), principalId: lambda.FilterRule.isEqual('dynamodb.amazonaws.com') },
            dynamodb: { Keys: { sk: { S: lambda.FilterRule.isEqual('EXPIRY') } } },
          }),
        ],
      }),
    );
    // Slack calls this URL directly; the handler verifies Slack's request signature itself.
    const interactions = functions['slack-interactions'].addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });

    const observability = new Observability(this, 'Observability', {
      instanceName: config.instanceName,
      bus: state.bus,
      namespace: config.metricsNamespace,
      serviceName: config.serviceName,
      deadLetterQueues,
      sweep: functions.sweep,
      functions: [...Object.values(functions), ...(this.operatorEndpoint.function ? [this.operatorEndpoint.function] : [])],
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

    new CfnOutput(this, 'EventBusName', { value: state.bus.eventBusName, description: 'Send task events here' });
    new CfnOutput(this, 'EventBusArn', { value: state.bus.eventBusArn });
    new CfnOutput(this, 'GrantTableName', { value: state.table.tableName });
    new CfnOutput(this, 'DeliverySecretPrefix', { value: DELIVERY_SECRET_PREFIX, description: 'Runtimes poll taskbound/<agentId>/<taskId>' });
    new CfnOutput(this, 'SlackInteractionUrl', { value: interactions.url, description: 'Paste into the Slack app: Interactivity & Shortcuts → Request URL' });
    new CfnOutput(this, 'IssuingRoleArns', { value: issuingRoleArns(config).join(','), description: 'Trust exactly these in each per-agent role (docs/deploy.md)' });
  }
}

