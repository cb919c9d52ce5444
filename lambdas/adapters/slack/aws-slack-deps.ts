// Adapter (Slack on AWS): builds the Slack handlers' dependencies from their environment,
// once per container: settings validated, the secret read lazily and cached, clients shared.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../../ports';
import type { EngineDeps } from '../../use-cases/engine-deps';
import type { SlackDecisionConfig } from '../../use-cases/slack-decision';
import type { AlertDeps } from '../../adapters/slack/send-alert';
import { systemClock } from '../system-clock';
import { DynamoDbApprovalMessages } from './dynamodb-approval-messages';
import { inMemoryApprovalMessages } from './notifier';
import { inMemoryReplayStore, type ReplayStore } from './signature';
import { cachedSlackSecret, loadSlackSettings, notifierFor, SlackConfigError } from './slack-config';

type Env = Readonly<Record<string, string | undefined>>;

/** What the interaction endpoint needs: the engine it decides with, the secret and replay memory. */
export interface SlackInteractionsDeps {
  readonly engine: () => Promise<EngineDeps>;
  readonly config: SlackDecisionConfig;
  readonly signingSecret: () => Promise<string>;
  readonly replay: ReplayStore;
  readonly clock: Clock;
}

/** SLACK_SECRET_ARN and SLACK_TEAM_ID; the engine's own settings are the engine's (aws-engine.ts). */
export function awsInteractionDeps(env: Env, engine: () => Promise<EngineDeps>): SlackInteractionsDeps {
  const settings = loadSlackSettings(env);
  const secret = cachedSlackSecret(new SecretsManagerClient({}), settings.secretArn);
  return {
    engine,
    config: settings.teamId ? { teamId: settings.teamId } : {},
    signingSecret: async () => {
      const { signingSecret } = await secret();
      if (!signingSecret) throw new SlackConfigError('the Slack secret has no signingSecret: approvals need the app’s signing secret');
      return signingSecret;
    },
    replay: inMemoryReplayStore(),
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
