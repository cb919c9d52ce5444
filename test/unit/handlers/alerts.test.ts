import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routingConfigSchema } from '../../../lambdas/domain/alert-routing';
import { inMemoryApprovalMessages } from '../../../lambdas/adapters/slack/in-memory-approval-messages';
import { SlackNotifier } from '../../../lambdas/adapters/slack/slack-notifier';
import { WebhookNotifier } from '../../../lambdas/adapters/slack/webhook-notifier';
import { AlertNotDeliveredError } from '../../../lambdas/composition/handler-chain';
import { makeAlertsHandler } from '../../../lambdas/handlers/alerts';
import { recordingSleep, startFakeSlack, type FakeSlack } from '../adapters/slack/fake-slack';

const context = { functionName: 'alerts', awsRequestId: 'req-1' } as Context;
const envelope = (detailType: string, detail: Record<string, unknown>) => ({
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': detailType,
  source: 'taskbound',
  account: '111122223333',
  time: '2025-03-01T12:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail,
});
const revoked = {
  grantId: 'g-abcdefghijklmnopqrstuvwxyz',
  taskId: 't1',
  agentId: 'release-bot',
  at: '2025-03-01T12:00:00Z',
  trigger: 'leaked',
  credentialId: 'AKIAEXAMPLE',
  secretAccessKey: 'never-shown-secret',
};

describe('alerts handler', () => {
  let slack: FakeSlack;
  beforeAll(async () => {
    slack = await startFakeSlack();
  });
  afterAll(() => slack.close());

  const handler = () =>
    makeAlertsHandler(async () => ({
      notifier: new SlackNotifier(new WebhookNotifier(`${slack.url}/hook`, { sleep: recordingSleep().sleep, retry: { maxAttempts: 2 } })),
      routing: routingConfigSchema.parse({}),
      approvals: inMemoryApprovalMessages(),
    }));

  it('posts an alert for an engine event, dropping fields it does not know', async () => {
    const result = await handler()(envelope('Grant Revoked', revoked), context);
    expect(result).toEqual({ outcome: 'posted' });
    expect(slack.posts.at(-1)?.body).toContain('Leaked credential revoked');
    expect(slack.posts.at(-1)?.body).not.toContain('never-shown-secret');
  });

  it('posts an agent suspension from any source', async () => {
    const result = await handler()(
      { ...envelope('Agent Suspended', { agentId: 'release-bot', by: 'sec@example.com', reason: 'odd calls' }), source: 'ops.console' },
      context,
    );
    expect(result).toEqual({ outcome: 'posted' });
  });

  it('throws when Slack cannot take the alert, so EventBridge retries and then dead-letters it', async () => {
    slack.script({ status: 500 }, { status: 500 });
    await expect(handler()(envelope('Grant Revoked', revoked), context)).rejects.toBeInstanceOf(AlertNotDeliveredError);
  });
});
