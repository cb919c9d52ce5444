import { createHmac } from 'node:crypto';
import type { Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { APPROVE_ACTION, DENY_ACTION } from '../../../lambdas/adapters/slack/messages';
import { inMemoryReplayStore } from '../../../lambdas/adapters/slack/signature';
import { makeSlackInteractionsHandler } from '../../../lambdas/handlers/slack-interactions';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { fakeEngine, type FakeEngine } from '../../helpers/fake-engine';

const SECRET = 'abcdef0123456789abcdef0123456789';
const context = { functionName: 'slack-interactions', awsRequestId: 'req-1' } as Context;

function click(user: string, grantId: string, actionId = APPROVE_ACTION, team = 'T0ACME'): string {
  const payload = {
    type: 'block_actions',
    user: { id: user },
    team: { id: team },
    actions: [{ type: 'button', action_id: actionId, value: grantId }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function request(engine: FakeEngine, rawBody: string, options: { secret?: string; base64?: boolean } = {}): LambdaFunctionURLEvent {
  const timestamp = String(Math.floor(engine.clock.now().getTime() / 1000));
  const signature = `v0=${createHmac('sha256', options.secret ?? SECRET)
    .update(`v0:${timestamp}:${rawBody}`)
    .digest('hex')}`;
  return {
    headers: {
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': signature,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: options.base64 ? Buffer.from(rawBody).toString('base64') : rawBody,
    isBase64Encoded: options.base64 ?? false,
  } as unknown as LambdaFunctionURLEvent;
}

/** A deploy held for approval (owner sre@, requested by dev@) and the handler over the same engine. */
async function pendingDeploy(teamId?: string) {
  const engine = fakeEngine();
  const started = await startTask(engine, {
    agentId: 'deploy-bot',
    taskId: 'ship-1',
    purpose: 'release',
    requestedBy: 'dev@example.com',
    scopes: ['deploy-web'],
  });
  const grantId = started.grant.grantId;
  const handle = makeSlackInteractionsHandler({
    engine: async () => engine,
    config: teamId ? { teamId } : {},
    signingSecret: async () => SECRET,
    replay: inMemoryReplayStore(),
    clock: engine.clock,
  });
  const text = async (event: LambdaFunctionURLEvent) => {
    const response = await handle(event, context);
    return { status: response.statusCode, text: JSON.parse(String(response.body)).text as string };
  };
  return { engine, grantId, handle, text };
}

describe('slack-interactions handler', () => {
  it('counts a mapped Slack user as their person and issues at once, from a base64 body', async () => {
    const { engine, grantId, text } = await pendingDeploy();
    const answer = await text(request(engine, click('U0LEAD0001', grantId), { base64: true }));
    expect(answer).toEqual({ status: 200, text: expect.stringContaining('as lead@example.com completed the request') });
    const grant = await engine.store.get(grantId);
    expect(grant?.state).toBe('active');
    expect(grant?.approvals.map((approval) => approval.approver)).toEqual(['lead@example.com']);
    expect(engine.events.of('Grant Issued')).toHaveLength(1);
  });

  it('refuses and records a Slack user the policy does not map, and the grant stays pending', async () => {
    const { engine, grantId, text } = await pendingDeploy();
    const answer = await text(request(engine, click('U0STRANGER', grantId)));
    expect(answer.text).toContain('not mapped to a Taskbound person');
    expect((await engine.store.get(grantId))?.state).toBe('pending_approval');
    expect(engine.store.rejected).toEqual([
      expect.objectContaining({
        detailType: 'Slack Interaction',
        reason: 'Slack user U0STRANGER is not mapped to a person under people in the policy',
      }),
    ]);
  });

  it('refuses the agent’s owner clicking in Slack (separation of duties)', async () => {
    const { engine, grantId, text } = await pendingDeploy();
    const answer = await text(request(engine, click('U0SRE00001', grantId)));
    expect(answer.text).toMatch(/not counted: sre@example.com owns agent "deploy-bot"/);
    expect((await engine.store.get(grantId))?.state).toBe('pending_approval');
    expect(engine.events.of('Grant Decision Refused')).toHaveLength(1);
  });

  it('denies on an eligible Deny click', async () => {
    const { engine, grantId, text } = await pendingDeploy();
    expect((await text(request(engine, click('U0LEAD0001', grantId, DENY_ACTION)))).text).toMatch(/denied/);
    expect((await engine.store.get(grantId))?.state).toBe('denied');
  });

  it('refuses a click from another workspace when a team is configured', async () => {
    const { engine, grantId, text } = await pendingDeploy('T0ACME');
    expect((await text(request(engine, click('U0LEAD0001', grantId, APPROVE_ACTION, 'T0OTHER')))).text).toContain(
      'another Slack workspace',
    );
    expect((await engine.store.get(grantId))?.state).toBe('pending_approval');
  });

  it('answers 401 to a request signed with another secret and decides nothing', async () => {
    const { engine, grantId, text } = await pendingDeploy();
    expect((await text(request(engine, click('U0LEAD0001', grantId), { secret: 'ffffffffffffffffffffffffffffffff' }))).status).toBe(401);
    expect((await engine.store.get(grantId))?.state).toBe('pending_approval');
  });

  it('answers 401 to a replay of a request it already took', async () => {
    const { engine, grantId, handle } = await pendingDeploy();
    const signed = request(engine, click('U0CFO00001', grantId, DENY_ACTION));
    expect((await handle(signed, context)).statusCode).toBe(200);
    expect((await handle(signed, context)).statusCode).toBe(401);
  });
});
