import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebhookNotifier } from '../../../../lambdas/adapters/slack/webhook-notifier';
import { recordingSleep, startFakeSlack, type FakeSlack } from './fake-slack';

const message = { text: 'Credential revoked', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'Credential revoked' } }] };
const SECRET_PATH = '/services/T000/B000/XXXXsecretXXXX';

describe('WebhookNotifier', () => {
  let slack: FakeSlack;
  beforeAll(async () => {
    slack = await startFakeSlack();
  });
  afterAll(() => slack.close());
  beforeEach(() => {
    slack.posts.length = 0;
  });

  function notifier(sleep = recordingSleep().sleep) {
    return new WebhookNotifier(`${slack.url}${SECRET_PATH}`, { sleep, retry: { maxAttempts: 4 } });
  }

  it('posts the text and blocks as JSON to the webhook', async () => {
    const result = await notifier().notify(message);
    expect(result).toEqual({ ok: true, refs: [] });
    expect(slack.posts).toHaveLength(1);
    expect(slack.posts[0]?.path).toBe(SECRET_PATH);
    expect(slack.posts[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(slack.posts[0]?.body ?? '')).toEqual(message);
  });

  it('waits as long as Retry-After says on 429, retries 500s, then delivers', async () => {
    const clock = recordingSleep();
    slack.script({ status: 429, headers: { 'retry-after': '3' }, body: 'rate_limited' }, { status: 500, body: 'rollup_error' });
    const result = await notifier(clock.sleep).notify(message);
    expect(result.ok).toBe(true);
    expect(slack.posts).toHaveLength(3);
    expect(clock.waits[0]).toBe(3000);
    expect(clock.waits).toHaveLength(2);
  });

  it('gives up after a bounded number of attempts and says so, without the URL', async () => {
    slack.script(...Array.from({ length: 4 }, () => ({ status: 503 })));
    const result = await notifier().notify(message);
    expect(result).toMatchObject({ ok: false, attempts: 4 });
    expect(slack.posts).toHaveLength(4);
    expect(JSON.stringify(result)).not.toContain('secret');
    expect(JSON.stringify(result)).not.toContain(slack.url);
  });

  it('does not retry a post Slack refuses for good (archived channel)', async () => {
    slack.script({ status: 410, body: 'channel_is_archived' });
    const result = await notifier().notify(message);
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(!result.ok && result.error).toContain('channel_is_archived');
  });

  it('gives up at once when Slack asks to wait longer than an invocation should', async () => {
    const clock = recordingSleep();
    slack.script({ status: 429, headers: { 'retry-after': '120' } });
    const result = await notifier(clock.sleep).notify(message);
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(clock.waits).toEqual([]);
  });

  it('reports an unreachable Slack as a failure naming no address', async () => {
    const dead = new WebhookNotifier(`http://127.0.0.1:1${SECRET_PATH}`, { sleep: recordingSleep().sleep, retry: { maxAttempts: 2 } });
    const result = await dead.notify(message);
    expect(result).toMatchObject({ ok: false, attempts: 2 });
    expect(!result.ok && result.error).toMatch(/network error/);
    expect(JSON.stringify(result)).not.toContain('XXXXsecretXXXX');
  });
});
