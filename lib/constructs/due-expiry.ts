// CDK construct: the `due-index` expiry mode's fan-out (docs/scale.md §8). Every minute, one
// invocation of the expire function per shard of the due index (`{ "dueShard": n }`), so each
// reader queries one shard for `dueAt <= now`; rules hold at most five targets, hence several rules.
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** EventBridge's limit of targets per rule. */
const TARGETS_PER_RULE = 5;

export interface DueExpiryProps {
  readonly expireFunction: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
  /** Shards of the due index (DUE_SHARDS): one reader each. */
  readonly shards: number;
}

export class DueExpiry extends Construct {
  readonly rules: readonly events.Rule[];

  constructor(scope: Construct, id: string, props: DueExpiryProps) {
    super(scope, id);
    const shards = Array.from({ length: props.shards }, (_, shard) => shard);
    const groups = Array.from({ length: Math.ceil(shards.length / TARGETS_PER_RULE) }, (_, index) =>
      shards.slice(index * TARGETS_PER_RULE, (index + 1) * TARGETS_PER_RULE),
    );
    this.rules = groups.map(
      (group, index) =>
        new events.Rule(this, `Readers${index}`, {
          description: `Taskbound: expire what is due in due-index shards ${group.join(', ')}, every minute`,
          schedule: events.Schedule.rate(Duration.minutes(1)),
          targets: group.map(
            (dueShard) =>
              new targets.LambdaFunction(props.expireFunction, {
                event: events.RuleTargetInput.fromObject({ dueShard }),
                deadLetterQueue: props.deadLetterQueue,
                retryAttempts: 2,
                // A reader a minute late is superseded by the next minute's: do not queue it longer.
                maxEventAge: Duration.minutes(1),
              }),
          ),
        }),
    );
  }
}
