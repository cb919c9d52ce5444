// CDK construct: the engine's own health in Slack. The alarm topic (lib/constructs/observability.ts)
// also feeds a small function that posts each alarm to the alert channel; a schedule posts the
// digest, routine events summarised, so muting them one by one loses nothing.
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TaskboundFunction } from './taskbound-function';

export interface SlackHealthProps {
  readonly alarmTopic: sns.ITopic;
  readonly alarmFunction: TaskboundFunction;
  readonly digestFunction: TaskboundFunction;
  readonly digestDeadLetterQueue: sqs.IQueue;
  readonly table: dynamodb.ITable;
  /** Hours between digests, and the period each covers. */
  readonly digestHours: number;
}

export class SlackHealth extends Construct {
  constructor(scope: Construct, id: string, props: SlackHealthProps) {
    super(scope, id);
    props.alarmTopic.addSubscription(new subscriptions.LambdaSubscription(props.alarmFunction));
    new events.Rule(this, 'DigestSchedule', {
      description: `Taskbound: post the digest to Slack every ${props.digestHours} h`,
      schedule: events.Schedule.rate(Duration.hours(props.digestHours)),
      targets: [new targets.LambdaFunction(props.digestFunction, { deadLetterQueue: props.digestDeadLetterQueue, retryAttempts: 2 })],
    });
    // The digest reads every grant once per period (figures such as standing privilege need all of
    // them) and each agent's standing: a scan and item reads, nothing written.
    props.digestFunction.engineRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DigestReadsGrants',
        actions: ['dynamodb:Scan', 'dynamodb:GetItem'],
        resources: [props.table.tableArn],
      }),
    );
  }
}
