// CDK construct: the EventBridge Scheduler group that holds one-time per-grant expiry
// schedules, and the role Scheduler assumes to invoke expire-grant (or dead-letter it).
import { Aws, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface ExpirySchedulerProps {
  /** Generated per stack (naming.ts redeployableName): a retained group must not block the next deploy. */
  readonly groupName: string;
  readonly removalPolicy: RemovalPolicy;
  readonly roleName: string;
  /** By ARN, not reference: the function's environment names this role, so a reference would be a cycle. */
  readonly expireFunctionArn: string;
  readonly deadLetterQueue: sqs.IQueue;
}

/** The schedule group and the execution role every expiry schedule uses. */
export class ExpiryScheduler extends Construct {
  readonly group: scheduler.ScheduleGroup;
  readonly role: iam.Role;
  readonly roleArn: string;

  constructor(scope: Construct, id: string, props: ExpirySchedulerProps) {
    super(scope, id);
    this.group = new scheduler.ScheduleGroup(this, 'Group', { scheduleGroupName: props.groupName, removalPolicy: props.removalPolicy });
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      description: 'Taskbound: EventBridge Scheduler invokes expire-grant for per-grant expiry',
      // Confused-deputy guard: only schedules in this account's expiry group may use the role.
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:scheduler:${Aws.REGION}:${Aws.ACCOUNT_ID}:schedule/${props.groupName}/*` },
        },
      }),
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'InvokeExpireGrant', actions: ['lambda:InvokeFunction'], resources: [props.expireFunctionArn] }),
    );
    props.deadLetterQueue.grantSendMessages(this.role);
    this.roleArn = `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/${props.roleName}`;
  }
}
