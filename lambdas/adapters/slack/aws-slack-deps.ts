// Adapter (Slack on AWS): builds the Slack handlers' dependencies from their environment,
// once per container: settings validated, the secret read lazily and cached, clients shared.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SlackInteractionConfig, SlackInteractionDeps } from '../../adapters/slack/handle-interaction';
import type { AlertDeps } from '../../adapters/slack/send-alert';
import { systemClock } from '../system-clock';
import { DynamoDbApprovalMessages } from './dynamodb-approval-messages';
import { eventBridgeDecisionPublisher } from './eventbridge-decision-publisher';
import { inMemoryApprovalMessages } from './notifier';
import { inMemoryReplayStore, type ReplayStore } from './signature';
import { cachedSlackSecret, loadSlackSettings, notifierFor, SlackConfigError } from './slack-config';

type Env = Readonly<Record<string, string | undefined>>;

/** What the interaction endpoint needs beyond the use case: the secret and replay memory. */
export interface SlackInteractionsDeps extends SlackInteractionDeps {
  readonly config: SlackInteractionConfig;
  readonly signingSecret: () => Promise<string>;
  readonly replay: ReplayStore;
}

/** SLACK_SECRET_ARN, SLACK_APPROVERS, SLACK_TEAM_ID, EVENT_BUS_NAME (default `taskbound`). */
export function awsInteractionDeps(env: Env): SlackInteractionsDeps {
  const settings = loadSlackSettings(env);
  const secret = cachedSlackSecret(new SecretsManagerClient({}), settings.secretArn);
  return {
    config: settings,
    signingSecret: async () => {
      const { signingSecret } = await secret();
      if (!signingSecret) throw new SlackConfigError('the Slack secret has no signingSecret: approvals need the app’s signing secret');
      return signingSecret;
    },
    replay: inMemoryReplayStore(),
    publish: eventBridgeDecisionPublisher(new EventBridgeClient({}), env.EVENT_BUS_NAME ?? 'taskbound'),
    clock: systemClock,
  };
}

/** SLACK_SECRET_ARN, SLACK_ROUTING, and TABLE_NAME (the grant table, for approval messages). */
export function awsAlertDeps(env: Env): () => Promise<AlertDeps> {
  const settings = loadSlackSettings(env);
  const secret = cachedSlackSecret(new SecretsManagerClient({}), settings.secretArn);
  const approvals = env.TABLE_NAME ? new DynamoDbApprovalMessages(DynamoDBDocumentClient.from(new DynamoDBClient({})), env.TABLE_NAME) : inMemoryApprovalMessages();
  let deps: AlertDeps | undefined;
  return async () => (deps ??= { notifier: notifierFor(await secret(), settings.routing), routing: settings.routing, approvals });
}
