import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inMemoryReplayStore, verifySlackSignature } from '../../../../lambdas/adapters/slack/signature';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NOW = new Date('2025-03-01T12:00:00Z');
const nowSeconds = NOW.getTime() / 1000;
const BODY = 'payload=%7B%22type%22%3A%22block_actions%22%7D';

/** Signs as Slack does: v0= + hex HMAC-SHA256 of v0:{timestamp}:{body}. */
function sign(body: string, timestamp: number, secret = SECRET) {
  return {
    timestamp: String(timestamp),
    signature: `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`,
    rawBody: body,
  };
}

describe('verifySlackSignature', () => {
  it('accepts a request Slack signed within the window', () => {
    expect(verifySlackSignature(sign(BODY, nowSeconds - 30), SECRET, NOW, inMemoryReplayStore())).toEqual({ valid: true });
  });

  it('refuses a tampered body', () => {
    const signed = { ...sign(BODY, nowSeconds), rawBody: BODY.replace('block_actions', 'view_submission') };
    expect(verifySlackSignature(signed, SECRET, NOW, inMemoryReplayStore())).toEqual({ valid: false, reason: 'bad signature' });
  });

  it('refuses a request signed with another secret', () => {
    expect(
      verifySlackSignature(sign(BODY, nowSeconds, 'another-secret-entirely-000000'), SECRET, NOW, inMemoryReplayStore()),
    ).toMatchObject({ valid: false, reason: 'bad signature' });
  });

  it('refuses a signature of the wrong length without comparing', () => {
    expect(verifySlackSignature({ ...sign(BODY, nowSeconds), signature: 'v0=abc' }, SECRET, NOW, inMemoryReplayStore())).toMatchObject({
      reason: 'bad signature',
    });
  });

  it('refuses timestamps more than five minutes old or ahead', () => {
    expect(verifySlackSignature(sign(BODY, nowSeconds - 301), SECRET, NOW, inMemoryReplayStore())).toMatchObject({
      reason: 'stale timestamp',
    });
    expect(verifySlackSignature(sign(BODY, nowSeconds + 301), SECRET, NOW, inMemoryReplayStore())).toMatchObject({
      reason: 'future timestamp',
    });
    expect(verifySlackSignature(sign(BODY, nowSeconds - 300), SECRET, NOW, inMemoryReplayStore())).toEqual({ valid: true });
  });

  it('refuses missing or malformed headers', () => {
    expect(
      verifySlackSignature({ timestamp: undefined, signature: undefined, rawBody: BODY }, SECRET, NOW, inMemoryReplayStore()),
    ).toMatchObject({ reason: 'missing headers' });
    expect(verifySlackSignature({ ...sign(BODY, nowSeconds), timestamp: '12e3' }, SECRET, NOW, inMemoryReplayStore())).toMatchObject({
      reason: 'missing headers',
    });
  });

  it('refuses the same signed request a second time inside the window', () => {
    const replay = inMemoryReplayStore();
    const signed = sign(BODY, nowSeconds);
    expect(verifySlackSignature(signed, SECRET, NOW, replay)).toEqual({ valid: true });
    expect(verifySlackSignature(signed, SECRET, new Date(NOW.getTime() + 1000), replay)).toEqual({
      valid: false,
      reason: 'replayed request',
    });
  });

  it('does not let forged requests fill the replay memory', () => {
    const replay = inMemoryReplayStore(1);
    verifySlackSignature({ ...sign(BODY, nowSeconds), signature: `v0=${'0'.repeat(64)}` }, SECRET, NOW, replay);
    const genuine = sign(BODY, nowSeconds);
    expect(verifySlackSignature(genuine, SECRET, NOW, replay)).toEqual({ valid: true });
    expect(verifySlackSignature(genuine, SECRET, NOW, replay)).toMatchObject({ reason: 'replayed request' });
  });

  it('keeps its replay memory bounded, forgetting the oldest first', () => {
    const replay = inMemoryReplayStore(2);
    const far = NOW.getTime() + 300_000;
    expect([
      replay.remember('a', far, NOW.getTime()),
      replay.remember('b', far, NOW.getTime()),
      replay.remember('c', far, NOW.getTime()),
    ]).toEqual([true, true, true]);
    expect(replay.remember('c', far, NOW.getTime())).toBe(false);
    expect(replay.remember('a', far, NOW.getTime())).toBe(true);
  });
});
