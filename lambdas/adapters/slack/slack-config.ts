// Adapter (Slack): configuration, validated once at start so a typo fails the deploy's first
// invocation loudly. Secrets come from Secrets Manager (SLACK_SECRET_ARN); routing is plain JSON
// in the environment; who a Slack user is comes from the policy's `people`. No error quotes a value.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { routingConfigSchema, DEFAULT_ROUTING, type RoutingConfig } from '../../domain/alert-routing';
import { BotNotifier } from './bot-notifier';
import { ConsoleNotifier } from './console-notifier';
import type { SlackTransport } from './slack-message';
import type { TransportOverrides } from './slack-http';
import { WebhookNotifier } from './webhook-notifier';

/** Thrown on bad configuration; the message names the setting and the rule, never the value. */
export class SlackConfigError extends Error {
  override readonly name = 'SlackConfigError';
}

const webhookUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname));
  } catch {
    return false;
  }
}, 'must be an https URL (http only on loopback)');

/** The JSON in the Slack secret: `{ webhookUrl }` or `{ botToken, signingSecret }`. */
export const slackSecretSchema = z
  .strictObject({
    webhookUrl: webhookUrl.optional(),
    botToken: z
      .string()
      .regex(/^xoxb-[A-Za-z0-9-]+$/, 'must be a bot token (xoxb-…)')
      .optional(),
    /** Needed by the interaction endpoint (approvals); a webhook-only setup may omit it. */
    signingSecret: z
      .string()
      .regex(/^[A-Za-z0-9]{16,128}$/, 'must be the app’s signing secret (letters and digits)')
      .optional(),
  })
  .refine((secret) => (secret.webhookUrl === undefined) !== (secret.botToken === undefined), 'set exactly one of webhookUrl and botToken');
export type SlackSecret = z.infer<typeof slackSecretSchema>;

export interface SlackSettings {
  readonly secretArn: string;
  readonly routing: RoutingConfig;
  /** When set, clicks from any other Slack workspace are refused. */
  readonly teamId?: string;
}

/** Reads SLACK_SECRET_ARN, SLACK_ROUTING and SLACK_TEAM_ID. */
export function loadSlackSettings(env: Readonly<Record<string, string | undefined>>): SlackSettings {
  const secretArn = env.SLACK_SECRET_ARN;
  if (!secretArn) throw new SlackConfigError('SLACK_SECRET_ARN is not set');
  const teamId = env.SLACK_TEAM_ID;
  if (teamId !== undefined && !/^T[A-Z0-9]{2,30}$/.test(teamId))
    throw new SlackConfigError('SLACK_TEAM_ID must be a Slack team id like T0123ABCD');
  return {
    secretArn,
    routing: env.SLACK_ROUTING ? parseJson('SLACK_ROUTING', env.SLACK_ROUTING, routingConfigSchema) : DEFAULT_ROUTING,
    ...(teamId ? { teamId } : {}),
  };
}

export function parseSlackSecret(secretString: string): SlackSecret {
  return parseJson('the Slack secret', secretString, slackSecretSchema);
}

/** JSON.parse's own errors quote the input, so they are replaced, never passed on. */
export function parseJson<S extends z.ZodType>(name: string, text: string, schema: S): z.infer<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SlackConfigError(`${name} is not valid JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
    throw new SlackConfigError(`${name} is invalid: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/** The notifier the secret asks for. The bot posts to channels, so routing must name one. */
export function notifierFor(
  secret: SlackSecret,
  routing: RoutingConfig,
  http: TransportOverrides & { apiBase?: string } = {},
): SlackTransport {
  if (secret.webhookUrl) return new WebhookNotifier(secret.webhookUrl, http);
  if (!routing.defaultChannel) throw new SlackConfigError('SLACK_ROUTING.defaultChannel is required with a bot token');
  return new BotNotifier(secret.botToken ?? '', http);
}

/** The local engine's notifier: SLACK_WEBHOOK_URL when set, otherwise readable console output. */
export function localNotifier(env: Readonly<Record<string, string | undefined>>, write?: (line: string) => void): SlackTransport {
  const url = env.SLACK_WEBHOOK_URL;
  if (!url) return new ConsoleNotifier(write);
  if (!webhookUrl.safeParse(url).success) throw new SlackConfigError('SLACK_WEBHOOK_URL must be an https URL (http only on loopback)');
  return new WebhookNotifier(url);
}

/** Reads the Slack secret once per container; a failed read is retried on the next call. */
export function cachedSlackSecret(client: SecretsManagerClient, secretArn: string): () => Promise<SlackSecret> {
  let pending: Promise<SlackSecret> | undefined;
  return () => {
    pending ??= client.send(new GetSecretValueCommand({ SecretId: secretArn })).then(
      (answer) => parseSlackSecret(answer.SecretString ?? ''),
      (error: unknown) => {
        throw new SlackConfigError(`could not read the Slack secret (${error instanceof Error ? error.name : 'error'})`);
      },
    );
    pending.catch(() => {
      pending = undefined;
    });
    return pending;
  };
}
