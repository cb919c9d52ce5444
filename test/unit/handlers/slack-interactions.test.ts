import { createHmac } from 'node:crypto';
import type { Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { APPROVE_ACTION } from '../../../lambdas/adapters/slack/messages';
import { inMemoryReplayStore } from '../../../lambdas/adapters/slack/signature';
import { makeSlackInteractionsHandler } from '../../../lambdas/handlers/slack-interactions';
import type { InboundEvent } from '../../../lambdas/adapters/slack/handle-interaction';

const SECRET = 'abcdef0123456789abcdef0123456789';
const NOW = new Date('2025-03-01T12:00:00Z');
const context = { functionName: 'slack-interactions', awsRequestId: 'req-1' } as Context;
const body = new URLSearchParams({
  payload: JSON.stringify({ type: 'block_actions', user: { id: 'U0SRE' }, actions: [{ type: 'button', action_id: APPROVE_ACTION, value: 'g-abcdefghijklmnopqrstuvwxyz' }] }),
}).toString();

function request(rawBody: string, options: { secret?: string; base64?: boolean } = {}): LambdaFunctionURLEvent {
  const timestamp = String(NOW.getTime() / 1000);
  const signature = `v0=${createHmac('sha256', options.secret ?? SECRET).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
  return {
    headers: { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature, 'content-type': 'application/x-www-form-urlencoded' },
    body: options.base64 ? Buffer.from(rawBody).toString('base64') : rawBody,
    isBase64Encoded: options.base64 ?? false,
  } as unknown as LambdaFunctionURLEvent;
}

function handler() {
  const published: InboundEvent[] = [];
  const handle = makeSlackInteractionsHandler({
    config: { approvers: { U0SRE: 'sre@example.com' } },
    signingSecret: async () => SECRET,
    replay: inMemoryReplayStore(),
    publish: async (event) => void published.push(event),
    clock: { now: () => NOW },
  });
  return { published, handle };
}

describe('slack-interactions handler', () => {
  it('verifies a base64 body from the function URL and answers with an ephemeral text', async () => {
    const { handle, published } = handler();
    const response = await handle(request(body, { base64: true }), context);
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(String(response.body))).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('sre@example.com') });
    expect(published[0]?.detail).toMatchObject({ decision: 'approve', approver: 'sre@example.com' });
  });

  it('answers 401 to a request signed with another secret and emits nothing', async () => {
    const { handle, published } = handler();
    const response = await handle(request(body, { secret: 'ffffffffffffffffffffffffffffffff' }), context);
    expect(response.statusCode).toBe(401);
    expect(published).toEqual([]);
  });

  it('answers 401 to a replay of a request it already took', async () => {
    const { handle, published } = handler();
    const signed = request(body);
    expect((await handle(signed, context)).statusCode).toBe(200);
    expect((await handle(signed, context)).statusCode).toBe(401);
    expect(published).toHaveLength(1);
  });
});
