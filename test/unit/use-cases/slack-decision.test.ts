import { describe, expect, it } from 'vitest';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { decideFromSlack } from '../../../lambdas/use-cases/slack-decision';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { fakeEngine, refundStarted } from '../../helpers/fake-engine';

const grantId = grantIdFor('deploy-bot', 'refund-1');
const click = (slackUserId: string, decision: 'approve' | 'deny' = 'approve', teamId = 'T0TEAM0001') => ({
  ok: true as const,
  click: { slackUserId, teamId, decision, grantId },
});

async function pendingRefund() {
  const engine = fakeEngine();
  await startTask(engine, { ...refundStarted, purpose: 'refund' });
  return engine;
}

describe('decideFromSlack', () => {
  it('counts a click as the person the policy maps the Slack user to', async () => {
    const engine = await pendingRefund();

    const result = await decideFromSlack(engine, { teamId: 'T0TEAM0001' }, click('U0CFO00001'));

    expect(result).toEqual({
      outcome: 'counted',
      person: 'cfo@example.com',
      grantId,
      reply: 'Your approval as cfo@example.com counted; 1 more needed.',
    });
    expect((await engine.store.get(grantId))?.approvals).toEqual([
      { approver: 'cfo@example.com', at: '2026-11-28T12:00:00.000Z', reason: 'approved in Slack by U0CFO00001' },
    ]);
  });

  it('refuses a Slack user mapped to no person, tells them how to be added, and records it', async () => {
    const engine = await pendingRefund();

    const result = await decideFromSlack(engine, {}, click('U0STRANGER'));

    const reason = 'Slack user U0STRANGER is not mapped to a person under people in the policy';
    expect(result).toEqual({
      outcome: 'refused',
      reason,
      grantId,
      reply: 'You are not mapped to a Taskbound person: ask an admin to add your Slack user id (U0STRANGER) under people in the policy.',
    });
    expect(engine.store.rejected).toEqual([
      {
        at: '2026-11-28T12:00:00.000Z',
        detailType: 'Slack Interaction',
        source: 'slack',
        reason,
        excerpt: JSON.stringify({ slackUserId: 'U0STRANGER', grantId }),
      },
    ]);
    expect((await engine.store.get(grantId))?.approvals).toEqual([]);
  });

  it('refuses a click from another workspace when the deployment names its own', async () => {
    const engine = await pendingRefund();

    const result = await decideFromSlack(engine, { teamId: 'T0TEAM0001' }, click('U0CFO00001', 'approve', 'T0OTHER001'));

    expect(result).toMatchObject({ outcome: 'refused', reason: 'click from another Slack workspace' });
    expect((await engine.store.get(grantId))?.approvals).toEqual([]);
  });

  it('records an unreadable click with the reason the adapter gave', async () => {
    const engine = fakeEngine();

    const result = await decideFromSlack(engine, {}, { ok: false, reason: 'payload has no actions' });

    expect(result).toEqual({
      outcome: 'refused',
      reason: 'payload has no actions',
      reply: 'Taskbound ignored this click: payload has no actions.',
    });
    expect(engine.store.rejected.map((rejected) => rejected.reason)).toEqual(['payload has no actions']);
  });

  it('denies the grant on a deny click, and answers a click on a grant that does not exist', async () => {
    const engine = await pendingRefund();

    const denied = await decideFromSlack(engine, {}, click('U0CFO00001', 'deny'));
    const missing = await decideFromSlack(
      engine,
      {},
      { ok: true, click: { slackUserId: 'U0CFO00001', decision: 'approve', grantId: grantIdFor('deploy-bot', 'nope') } },
    );

    expect(denied.outcome).toBe('denied');
    expect((await engine.store.get(grantId))?.state).toBe('denied');
    expect(missing).toMatchObject({ outcome: 'not-found', reply: `Taskbound has no grant ${grantIdFor('deploy-bot', 'nope')}.` });
  });
});
