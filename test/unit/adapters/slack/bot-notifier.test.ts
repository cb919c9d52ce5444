import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BotNotifier } from '../../../../lambdas/adapters/slack/bot-notifier';
import { recordingSleep, startFakeSlack, type FakeSlack } from './fake-slack';

const TOKEN = 'xoxb-1111-2222-secrettoken';
const message = { text: 'Approval needed', blocks: [{ type: 'divider' }] };

describe('BotNotifier', () => {
  let slack: FakeSlack;
  beforeAll(async () => {
    slack = await startFakeSlack((post, index) => {
      const body = JSON.parse(post.body) as { channel: string; ts?: string };
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ok: true, channel: body.channel, ts: body.ts ?? `1700000000.00000${index}` }),
      };
    });
  });
  afterAll(() => slack.close());
  beforeEach(() => {
    slack.posts.length = 0;
  });

  const bot = (sleep = recordingSleep().sleep) => new BotNotifier(TOKEN, { apiBase: slack.url, sleep, retry: { maxAttempts: 3 } });

  it('calls chat.postMessage per channel with the token in the Authorization header only', async () => {
    const result = await bot().notify(message, ['C0SEC', 'C0TEAM']);
    expect(result.ok && result.refs.map((ref) => ref.channel)).toEqual(['C0SEC', 'C0TEAM']);
    expect(slack.posts.map((post) => post.path)).toEqual(['/chat.postMessage', '/chat.postMessage']);
    expect(slack.posts[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(slack.posts[0]?.body).not.toContain(TOKEN);
    expect(JSON.parse(slack.posts[0]?.body ?? '')).toMatchObject({
      channel: 'C0SEC',
      text: 'Approval needed',
      blocks: [{ type: 'divider' }],
    });
  });

  it('edits a posted message in place with chat.update by channel and ts', async () => {
    const result = await bot().update([{ channel: 'C0SEC', ts: '1700000000.000100' }], message);
    expect(result).toEqual({ ok: true, refs: [{ channel: 'C0SEC', ts: '1700000000.000100' }] });
    expect(slack.posts[0]?.path).toBe('/chat.update');
    expect(JSON.parse(slack.posts[0]?.body ?? '')).toMatchObject({ channel: 'C0SEC', ts: '1700000000.000100' });
  });

  it('retries a 429 after Retry-After and a Slack-side error, then succeeds', async () => {
    const clock = recordingSleep();
    slack.script(
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 200, body: JSON.stringify({ ok: false, error: 'internal_error' }) },
    );
    const result = await bot(clock.sleep).notify(message, ['C0SEC']);
    expect(result.ok).toBe(true);
    expect(slack.posts).toHaveLength(3);
    expect(clock.waits[0]).toBe(1000);
  });

  it('fails without retrying on a caller error like channel_not_found, quoting no token', async () => {
    slack.script({ status: 200, body: JSON.stringify({ ok: false, error: 'channel_not_found' }) });
    const result = await bot().notify(message, ['C0GONE']);
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(!result.ok && result.error).toContain('channel_not_found');
    expect(JSON.stringify(result)).not.toContain('xoxb');
  });

  it('surfaces a give-up after bounded 5xx retries', async () => {
    slack.script({ status: 502 }, { status: 502 }, { status: 502 });
    const result = await bot().notify(message, ['C0SEC']);
    expect(result).toMatchObject({ ok: false, attempts: 3 });
    expect(!result.ok && result.error).toContain('gave up after 3 attempts');
  });
});
