// CDK stack (stateful): what outlives a redeploy of the functions: the grants table, the
// bus and its archive, the delivery key, the Slack secret and the issued-credential boundary.
import { CfnOutput, RemovalPolicy, SecretValue, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { Policy } from '../../lambdas/domain/policy';
import type { TaskboundConfig } from '../config';
import { EngineBus } from '../constructs/engine-bus';
import { GrantTable } from '../constructs/grant-table';
import { IssuedCredentialBoundary } from '../constructs/issued-credential-boundary';
import { createDeliveryKey } from '../constructs/delivery-key';
import { DeliveryTable, runtimesDecryptTheirItems } from '../constructs/delivery-table';
import {
  agentRoleArnPattern,
  canarySecretArnPattern,
  canarySecretName,
  deliverySecretArnPattern,
  engineRoleArns,
  redeployableName,
} from '../naming';

export interface StatefulStackProps extends StackProps {
  readonly config: TaskboundConfig;
  readonly policy: Policy;
}

/** What the stateless engine stack receives: typed handles, not names to look up. */
export interface EngineState {
  readonly table: dynamodb.ITableV2;
  readonly bus: events.IEventBus;
  readonly deliveryKey: kms.IKey;
  readonly slackSecret: secretsmanager.ISecret;
  readonly boundary: iam.IManagedPolicy;
  /** The `dynamodb-kms` delivery mode's table; absent in the Secrets Manager mode. */
  readonly deliveryTable?: dynamodb.ITable;
}

/** Empty until the user fills it in (docs/deploy.md): `{ webhookUrl }` or `{ botToken, signingSecret }`. */
export const SLACK_SECRET_TEMPLATE = {};

export const removalPolicyOf = (config: TaskboundConfig) =>
  config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

export class StatefulStack extends Stack {
  readonly state: EngineState;
  /** The issued-credential boundary and the statements it holds. */
  readonly boundary: IssuedCredentialBoundary;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { config, policy } = props;
    const removalPolicy = removalPolicyOf(config);

    const { table } = new GrantTable(this, 'Grants', { removalPolicy });
    const { bus } = new EngineBus(this, 'Events', { config });
    const deliveryKey = createDeliveryKey(this, 'DeliveryKey', {
      policy,
      removalPolicy,
      engineRoleArns: engineRoleArns(config),
      deliverySecretArnPattern: deliverySecretArnPattern(this),
    });
    const slackSecret = new secretsmanager.Secret(this, 'SlackSecret', {
      // Retained on delete (removalPolicy retain): a name of its own per stack, so the next deploy is not blocked.
      secretName: redeployableName(this, config.slackSecretName),
      description: 'Taskbound alerts: Slack webhook URL or bot token, and the app signing secret (fill in after deploy)',
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify(SLACK_SECRET_TEMPLATE)),
      removalPolicy,
    });
    Validations.of(slackSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Slack issues the webhook URL, bot token and signing secret; no rotation Lambda can mint new ones. The user rotates them in Slack and updates the secret.',
    });
    // Sessions describe it to prove they still work, until a refusal proves the revocation took.
    const canary = new secretsmanager.Secret(this, 'SessionCanary', {
      // The same name in every account (spoke stacks make theirs), so the engine names each one
      // from its account alone. It holds nothing: deleted with the stack, it never blocks a redeploy.
      secretName: canarySecretName(config),
      description: 'Taskbound canary: every session may DescribeSecret it; a refused call proves the session revoked. Holds nothing.',
      secretStringValue: SecretValue.unsafePlainText('canary'),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(canary).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'The canary holds no secret: only its metadata is ever read (DescribeSecret), so there is nothing to rotate.',
    });
    this.boundary = new IssuedCredentialBoundary(this, 'IssuedCredentials', {
      policy,
      agentRoleArnPattern: agentRoleArnPattern(config),
      canarySecretArnPattern: canarySecretArnPattern(this, config),
    });
    const boundary = this.boundary.policy;

    const deliveryTable =
      config.deliveryMode === 'dynamodb-kms'
        ? new DeliveryTable(this, 'Deliveries', { policy, removalPolicy, engineRoleArns: engineRoleArns(config) }).table
        : undefined;
    if (deliveryTable) for (const statement of runtimesDecryptTheirItems(policy)) deliveryKey.addToResourcePolicy(statement);

    this.state = { table, bus, deliveryKey, slackSecret, boundary, ...(deliveryTable ? { deliveryTable } : {}) };

    new CfnOutput(this, 'DeliveryKeyArn', { value: deliveryKey.keyArn });
    if (deliveryTable)
      new CfnOutput(this, 'DeliveryTableName', {
        value: deliveryTable.tableName,
        description: 'Runtimes set TASKBOUND_DELIVERY_TABLE to this',
      });
    new CfnOutput(this, 'PermissionsBoundaryArn', { value: boundary.managedPolicyArn, description: 'Attach to every per-agent role' });
    new CfnOutput(this, 'SlackSecretArn', { value: slackSecret.secretArn });
    new CfnOutput(this, 'SlackSecretName', {
      value: slackSecret.secretName,
      description: 'Fill in after deploy (docs/deploy.md): its name ends in a suffix unique to this stack',
    });
  }
}
