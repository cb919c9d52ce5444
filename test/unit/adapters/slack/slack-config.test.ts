import { describe, expect, it } from 'vitest';
import { routingConfigSchema } from '../../../../lambdas/domain/alert-routing';
import { BotNotifier } from '../../../../lambdas/adapters/slack/bot-notifier';
import { ConsoleNotifier } from '../../../../lambdas/adapters/slack/console-notifier';
import {
  loadSlackSettings,
  localNotifier,
  notifierFor,
  parseSlackSecret,
  SlackConfigError,
} from '../../../../lambdas/adapters/slack/slack-config';
import { WebhookNotifier } from '../../../../lambdas/adapters/slack/webhook-notifier';

function refusalOf(secretText: string): string {
  try {
    parseSlackSecret(secretText);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the secret to be refused');
}

describe('Slack config', () => {
  it('accepts a webhook secret or a bot secret, and picks the matching notifier', () => {
    const routing = routingConfigSchema.parse({ defaultChannel: '#taskbound' });
    expect(notifierFor(parseSlackSecret('{"webhookUrl":"https://hooks.slack.com/services/T/B/x"}'), routing)).toBeInstanceOf(
      WebhookNotifier,
    );
    expect(notifierFor(parseSlackSecret('{"botToken":"xoxb-1-2-abc","signingSecret":"abcdef0123456789abcdef"}'), routing)).toBeInstanceOf(
      BotNotifier,
    );
  });

  it('refuses a secret with both modes, or none, without quoting it', () => {
    const both = '{"webhookUrl":"https://hooks.slack.com/services/T/B/sekret","botToken":"xoxb-1-2-sekret"}';
    expect(() => parseSlackSecret(both)).toThrow(SlackConfigError);
    expect(() => parseSlackSecret('{}')).toThrow('exactly one of webhookUrl and botToken');
    for (const text of [both, 'xoxb-1-2-sekret', '{"webhookUrl":"http://hooks.slack.com/sekret"}']) {
      expect(refusalOf(text)).not.toContain('sekret');
    }
  });

  it('needs a default channel for the bot, which posts by channel', () => {
    const secret = parseSlackSecret('{"botToken":"xoxb-1-2-abc"}');
    expect(() => notifierFor(secret, routingConfigSchema.parse({}))).toThrow('defaultChannel is required');
  });

  it('reads routing from the environment, failing fast on a bad one', () => {
    const settings = loadSlackSettings({
      SLACK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:slack',
      SLACK_ROUTING: '{"defaultChannel":"#taskbound"}',
    });
    expect(settings.routing.defaultChannel).toBe('#taskbound');
    expect(() => loadSlackSettings({ SLACK_SECRET_ARN: 'arn', SLACK_ROUTING: '{"defaultChannel":7}' })).toThrow('SLACK_ROUTING is invalid');
    expect(() => loadSlackSettings({})).toThrow('SLACK_SECRET_ARN is not set');
  });

  it('gives the local engine the console, or the webhook in SLACK_WEBHOOK_URL', () => {
    expect(localNotifier({})).toBeInstanceOf(ConsoleNotifier);
    expect(localNotifier({ SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x' })).toBeInstanceOf(WebhookNotifier);
    expect(() => localNotifier({ SLACK_WEBHOOK_URL: 'ftp://example.com/sekret' })).toThrow(SlackConfigError);
  });
});
