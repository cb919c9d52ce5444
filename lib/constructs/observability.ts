// CDK construct: what an operator watches. Grant events are counted from the bus itself
// (a rule writes each to a log group, metric filters count them), so the figures hold even
// when a handler dies; alarms on dead letters, failed revocations, live revoked credentials
// and sweep errors page through an encrypted SNS topic.
import { Aws, Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { OutboundType } from '../../lambdas/domain/events';
import { ENGINE_SOURCE } from '../naming';

/** Outbound events counted as metrics; the first ones alarm on any occurrence. */
export const ALARMED_SIGNALS = [
  'Revocation Failed',
  'Credential Still Valid',
  'Credential Used After Revocation',
  'Orphan Credential Found',
] as const satisfies readonly OutboundType[];
export const COUNTED_SIGNALS = [
  'Grant Issued',
  'Grant Denied',
  'Grant Revoked',
  'Revocation Verified',
  ...ALARMED_SIGNALS,
] as const satisfies readonly OutboundType[];

/** The metric name a signal is counted under, e.g. `Revocation Failed` → `RevocationFailedEvents`. */
export const signalMetricName = (signal: string) => `${signal.replace(/ /g, '')}Events`;

/** Powertools Metrics name the handlers emit for revocation latency (milliseconds, dimension `service`). */
export const REVOCATION_LATENCY_METRIC = 'RevocationLatency';

export interface ObservabilityProps {
  readonly instanceName: string;
  /** The signals log group's name (retained with removalPolicy retain, so generated per stack). */
  readonly signalLogGroupName: string;
  readonly bus: events.IEventBus;
  readonly namespace: string;
  readonly serviceName: string;
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  readonly sweep: lambda.IFunction;
  /** Every engine function, by the name it is labelled with on the dashboard. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  readonly alarmEmail?: string | undefined;
}

export class Observability extends Construct {
  readonly topic: sns.Topic;
  readonly signalLog: logs.LogGroup;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.topic = this.alarmTopic(props);
    this.signalLog = this.signalLogGroup(props);
    const signal = (name: string) =>
      new cloudwatch.Metric({
        namespace: props.namespace,
        metricName: signalMetricName(name),
        statistic: 'Sum',
        period: Duration.minutes(5),
        label: name,
      });

    for (const name of ALARMED_SIGNALS) {
      this.alarm(
        `Signal${signalMetricName(name)}`,
        signal(name),
        `${name}: a Taskbound credential may still work; see the alerts and the grant's audit chain`,
      );
    }
    for (const [handler, queue] of Object.entries(props.deadLetterQueues)) {
      const depth = queue.metric('ApproximateNumberOfMessagesVisible', { statistic: 'Maximum', period: Duration.minutes(5) });
      this.alarm(`DeadLetters-${handler}`, depth, `Events for ${handler} reached its dead-letter queue; they were not processed`);
    }
    this.alarm(
      'SweepErrors',
      props.sweep.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      'The sweep could not settle every due grant',
    );

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: `${props.instanceName}-engine` });
    const latency = (statistic: string) =>
      new cloudwatch.Metric({
        namespace: props.namespace,
        metricName: REVOCATION_LATENCY_METRIC,
        dimensionsMap: { service: props.serviceName },
        statistic,
        period: Duration.minutes(5),
        label: `revocation latency ${statistic}`,
      });
    const queues = Object.entries(props.deadLetterQueues).map(([handler, queue]) =>
      queue.metric('ApproximateNumberOfMessagesVisible', { statistic: 'Maximum', period: Duration.minutes(5), label: handler }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Grants',
        width: 12,
        left: ['Grant Issued', 'Grant Denied', 'Grant Revoked', 'Revocation Verified'].map(signal),
      }),
      new cloudwatch.GraphWidget({ title: 'Revocation latency (ms)', width: 12, left: ['p50', 'p95', 'p99'].map(latency) }),
      new cloudwatch.GraphWidget({ title: 'Still valid, failed, orphaned', width: 12, left: ALARMED_SIGNALS.map(signal) }),
      new cloudwatch.GraphWidget({ title: 'Dead-letter depth', width: 12, left: queues }),
      new cloudwatch.GraphWidget({
        title: 'Function errors and throttles',
        width: 24,
        left: Object.entries(props.functions).map(([name, fn]) => fn.metricErrors({ period: Duration.minutes(5), label: name })),
        right: Object.entries(props.functions).map(([name, fn]) => fn.metricThrottles({ period: Duration.minutes(5), label: name })),
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 24, alarms: this.alarms }),
    );
  }

  private alarm(id: string, metric: cloudwatch.IMetric, description: string): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }

  /** CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key, hence a key of our own. */
  private alarmTopic(props: ObservabilityProps): sns.Topic {
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Taskbound: encrypts the alarm topic',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    const topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Taskbound alarms', masterKey: key, enforceSSL: true });
    if (props.alarmEmail) topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    return topic;
  }

  /** Grant events as one log line each: type and identifiers only, never the detail's free text. */
  private signalLogGroup(props: ObservabilityProps): logs.LogGroup {
    const logGroup = new logs.LogGroup(this, 'SignalLog', {
      logGroupName: props.signalLogGroupName,
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const rule = new events.Rule(this, 'SignalRule', {
      eventBus: props.bus,
      description: 'Taskbound: count grant events',
      eventPattern: { source: [ENGINE_SOURCE], detailType: [...COUNTED_SIGNALS] },
    });
    const field = (path: string) => events.EventField.fromPath(`$.detail.${path}`);
    // Ids match [A-Za-z0-9._:-], so the message has no character that could break the template's JSON.
    rule.addTarget({
      bind: () => ({
        arn: `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${logGroup.logGroupName}`,
        input: events.RuleTargetInput.fromObject({
          timestamp: events.EventField.time,
          message: `${events.EventField.detailType} grant=${field('grantId')} agent=${field('agentId')} task=${field('taskId')}`,
        }),
      }),
    });
    new logs.ResourcePolicy(this, 'SignalLogWriters', {
      policyStatements: [
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('events.amazonaws.com'), new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn],
        }),
      ],
    });
    for (const name of COUNTED_SIGNALS) {
      logGroup.addMetricFilter(`Count${signalMetricName(name)}`, {
        filterPattern: logs.FilterPattern.literal(`"${name}"`),
        metricNamespace: props.namespace,
        metricName: signalMetricName(name),
        metricValue: '1',
        defaultValue: 0,
      });
    }
    return logGroup;
  }
}
