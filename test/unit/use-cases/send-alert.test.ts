import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../../lambdas/domain/alert-event';
import { routingConfigSchema } from '../../../lambdas/domain/alert-routing';
import { BotNotifier } from '../../../lambdas/adapters/slack/bot-notifier';
import { inMemoryApprovalMessages } from '../../../lambdas/adapters/slack/in-memory-approval-messages';
import { SlackNotifier } from '../../../lambdas/adapters/slack/slack-notifier';
import { WebhookNotifier } from '../../../lambdas/adapters/slack/webhook-notifier';
import { sendAlert, type AlertDeps } from '../../../lambdas/use-cases/send-alert';
import { recordingSleep, startFakeSlack, type FakeSlack } from '../adapters/slack/fake-slack';

const GRANT_ID = 'g-abcdefghijklmnopqrstuvwxyz';
const base = {
  grantId: GRANT_ID,
  taskId: 'refund-7',
  agentId: 'refund-bot',
  at: '2025-03-01T12:00:00Z',
  owner: 'lead@example.com',
  requestedBy: 'dev@example.com',
  scopes: ['refund'],
};
const event = (detailType: AlertEvent['detailType'], extra: Record<string, unknown> = {}) =>
  ({ detailType, detail: { ...base, ...extra } }) as AlertEvent;
const routing = routingConfigSchema.parse({ defaultChannel: 'C0SECUR1TY' });

describe('sendAlert', () => {
  let slack: FakeSlack;
  beforeAll(async () => {
    slack = await startFakeSlack((post, index) => {
      if (!post.path.startsWith('/chat.')) return { status: 200, body: 'ok' };
      const body = JSON.parse(post.body) as { channel: string; ts?: string };
      return { status: 200, body: JSON.stringify({ ok: true, channel: body.channel, ts: body.ts ?? `17000.${index}` }) };
    });
  });
  afterAll(() => slack.close());
  beforeEach(() => {
    slack.posts.length = 0;
  });

  const botDeps = (): AlertDeps => ({
    notifier: new SlackNotifier(new BotNotifier('xoxb-test', { apiBase: slack.url, sleep: recordingSleep().sleep })),
    routing,
    approvals: inMemoryApprovalMessages(),
  });
  const postsTo = (path: string) =>
    slack.posts
      .filter((post) => post.path === path)
      .map((post) => JSON.parse(post.body) as { channel: string; ts?: string; text: string; blocks: unknown[] });

  it('posts an approval request, then edits it in place as approvals count and the grant is issued', async () => {
    const deps = botDeps();
    expect(await sendAlert(deps, event('Grant Pending Approval', { requiredApprovals: 2, riskTier: 'high' }))).toEqual({
      outcome: 'posted',
    });
    expect(await sendAlert(deps, event('Grant Pending Approval', { approver: 'sre@example.com', remaining: 1 }))).toEqual({
      outcome: 'updated',
    });
    expect(await sendAlert(deps, event('Grant Pending Approval', { approver: 'sre@example.com', remaining: 1 }))).toEqual({
      outcome: 'duplicate',
    });
    // The second approval completes the request: it is named by the issue, not by a Pending Approval.
    expect(await sendAlert(deps, event('Grant Issued', { approver: 'cfo@example.com' }))).toEqual({ outcome: 'updated' });
    const [request] = postsTo('/chat.postMessage');
    const updates = postsTo('/chat.update');
    expect(request?.channel).toBe('C0SECUR1TY');
    expect(updates.map((update) => update.ts)).toEqual(['17000.1', '17000.1']);
    expect(JSON.stringify(updates[0])).toContain('1 of 2 approvals');
    expect(JSON.stringify(updates[1])).toContain('approved by sre@example.com, cfo@example.com');
    expect(JSON.stringify(updates[1])).not.toContain('taskbound.approve');
  });

  it('shows a denial on the request it answers', async () => {
    const deps = botDeps();
    await sendAlert(deps, event('Grant Pending Approval'));
    expect(await sendAlert(deps, event('Grant Denied', { reason: 'approval window closed at 2025-03-01T13:00:00Z' }))).toEqual({
      outcome: 'updated',
    });
    expect(postsTo('/chat.update')[0]?.text).toContain('denied: approval window closed');
  });

  it('posts the outcome as a new message over a webhook, which cannot edit, even when its type is muted', async () => {
    const deps: AlertDeps = {
      notifier: new SlackNotifier(new WebhookNotifier(`${slack.url}/hook`, { sleep: recordingSleep().sleep })),
      routing,
      approvals: inMemoryApprovalMessages(),
    };
    await sendAlert(deps, event('Grant Pending Approval'));
    expect(await sendAlert(deps, event('Grant Issued'))).toEqual({ outcome: 'posted' });
    expect(slack.posts).toHaveLength(2);
    expect(JSON.parse(slack.posts[1]?.body ?? '').text).toContain('approved, credential issued');
  });

  it('mutes routine events and posts problems', async () => {
    const deps = botDeps();
    expect(await sendAlert(deps, event('Grant Issued'))).toEqual({ outcome: 'muted' });
    expect(await sendAlert(deps, event('Revocation Failed', { reason: 'AccessDenied' }))).toEqual({ outcome: 'posted' });
    expect(postsTo('/chat.postMessage')).toHaveLength(1);
  });

  it('returns a failure when Slack cannot take the alert, so the handler can throw', async () => {
    slack.script(...Array.from({ length: 4 }, () => ({ status: 500 })));
    const result = await sendAlert(botDeps(), event('Credential Still Valid', { stillValidAfterNoticeMs: 60_000 }));
    expect(result).toMatchObject({ outcome: 'failed', error: expect.stringContaining('gave up') });
  });
});
