import { describe, expect, it } from 'vitest';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { suspendAgent } from '../../../lambdas/use-cases/change-agent-status';
import { handleOperatorRequest, type OperatorCaller } from '../../../lambdas/use-cases/operator-request';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { fakeEngine, refundStarted } from '../../helpers/fake-engine';

const CFO: OperatorCaller = { identification: { ok: true, person: 'cfo@example.com' }, principal: 'arn:aws:iam::111122223333:user/cfo' };
const NOBODY: OperatorCaller = {
  identification: {
    ok: false,
    reason: 'caller arn:aws:iam::111122223333:user/mallory is not mapped to a person under people in the policy',
  },
  principal: 'arn:aws:iam::111122223333:user/mallory',
};
const LEAD: OperatorCaller = { identification: { ok: true, person: 'lead@example.com' }, principal: 'arn:aws:iam::111122223333:role/lead' };

describe('handleOperatorRequest', () => {
  it('refuses a caller who is no one with 403, records why, and decides nothing', async () => {
    const engine = fakeEngine();
    await startTask(engine, { ...refundStarted, purpose: 'refund' });
    const grantId = grantIdFor('deploy-bot', 'refund-1');

    const answer = await handleOperatorRequest(engine, NOBODY, JSON.stringify({ action: 'approve', grantId, reason: 'ok' }));

    const reason = 'caller arn:aws:iam::111122223333:user/mallory is not mapped to a person under people in the policy';
    expect(answer).toEqual({ status: 403, body: { outcome: 'refused', reason } });
    expect(engine.store.rejected).toEqual([
      {
        at: '2026-11-28T12:00:00.000Z',
        detailType: 'Operator Request',
        source: 'operator-endpoint',
        reason,
        excerpt: JSON.stringify({
          principal: 'arn:aws:iam::111122223333:user/mallory',
          body: JSON.stringify({ action: 'approve', grantId, reason: 'ok' }),
        }),
      },
    ]);
    expect((await engine.store.get(grantId))?.approvals).toEqual([]);
  });

  it('refuses a body that is not JSON, and one that names no action, saying where and never echoing values', async () => {
    const engine = fakeEngine();

    const notJson = await handleOperatorRequest(engine, CFO, '{approve');
    const noAction = await handleOperatorRequest(engine, CFO, JSON.stringify({ grantId: 'AKIA-secret-looking-value' }));

    expect(notJson).toEqual({ status: 400, body: { outcome: 'refused', reason: 'request body is not JSON', person: 'cfo@example.com' } });
    expect(noAction.status).toBe(400);
    expect(noAction.body.reason).toMatch(/^invalid request: action: /);
    expect(noAction.body.reason).not.toContain('AKIA-secret-looking-value');
    expect(engine.store.rejected.map((rejected) => rejected.reason)).toEqual(['request body is not JSON', noAction.body.reason]);
  });

  it('refuses a body over 8,192 characters before parsing it', async () => {
    const engine = fakeEngine();

    const answer = await handleOperatorRequest(engine, CFO, `{"action":"approve","reason":"${'x'.repeat(8200)}"}`);

    expect(answer).toEqual({
      status: 400,
      body: { outcome: 'refused', reason: 'request body is over 8192 characters', person: 'cfo@example.com' },
    });
  });

  it('counts an approval as the authenticated person and says how many more are needed', async () => {
    const engine = fakeEngine();
    await startTask(engine, { ...refundStarted, purpose: 'refund' });
    const grantId = grantIdFor('deploy-bot', 'refund-1');

    const answer = await handleOperatorRequest(engine, CFO, JSON.stringify({ action: 'approve', grantId, reason: 'checked' }));

    expect(answer).toEqual({ status: 200, body: { outcome: 'counted', remaining: 1, grantId, person: 'cfo@example.com' } });
    expect((await engine.store.get(grantId))?.approvals.map((approval) => approval.approver)).toEqual(['cfo@example.com']);
  });

  it('answers 404 for a grant that does not exist, and records the refusal', async () => {
    const engine = fakeEngine();
    const grantId = grantIdFor('deploy-bot', 'never-started');

    const answer = await handleOperatorRequest(engine, CFO, JSON.stringify({ action: 'deny', grantId, reason: 'no' }));

    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ outcome: 'not-found', grantId, person: 'cfo@example.com' });
    expect(engine.store.rejected).toHaveLength(1);
  });

  it('resumes a suspended agent as the person, says when there was nothing to resume, and refuses an unknown agent', async () => {
    const engine = fakeEngine();
    await suspendAgent(engine, { agentId: 'release-bot', by: 'sre@example.com', reason: 'leak' });

    const resumed = await handleOperatorRequest(engine, CFO, JSON.stringify({ action: 'resume', agentId: 'release-bot', reason: 'fixed' }));
    const again = await handleOperatorRequest(engine, CFO, JSON.stringify({ action: 'resume', agentId: 'release-bot', reason: 'fixed' }));
    const unknown = await handleOperatorRequest(engine, CFO, JSON.stringify({ action: 'resume', agentId: 'ghost-bot', reason: 'typo' }));

    expect(resumed).toEqual({ status: 200, body: { outcome: 'resumed', agentId: 'release-bot', person: 'cfo@example.com' } });
    expect((await engine.store.getAgent('release-bot')).suspended).toBe(false);
    expect(again).toEqual({
      status: 200,
      body: {
        outcome: 'resumed',
        reason: 'agent "release-bot" was not suspended; nothing changed',
        agentId: 'release-bot',
        person: 'cfo@example.com',
      },
    });
    expect(unknown).toEqual({
      status: 404,
      body: {
        outcome: 'not-found',
        reason: 'agent "ghost-bot" is not registered in the policy and is not suspended',
        agentId: 'ghost-bot',
        person: 'cfo@example.com',
      },
    });
  });

  it("refuses the agent's owner a resume with 403, records and says why, and the agent stays suspended", async () => {
    const engine = fakeEngine();
    await suspendAgent(engine, { agentId: 'release-bot', by: 'sre@example.com', reason: 'leak' });
    const body = JSON.stringify({ action: 'resume', agentId: 'release-bot', reason: 'mine, it is fine' });

    const answer = await handleOperatorRequest(engine, LEAD, body);

    const reason = 'lead@example.com owns agent "release-bot" and may not lift its suspension; ask another person from the policy';
    expect(answer).toEqual({ status: 403, body: { outcome: 'refused', reason, agentId: 'release-bot', person: 'lead@example.com' } });
    expect((await engine.store.getAgent('release-bot')).suspended).toBe(true);
    expect(engine.store.rejected.map((rejected) => rejected.reason)).toEqual([reason]);
    expect(engine.events.of('Agent Resume Refused').map((event) => event.detail)).toEqual([
      { grantId: '', taskId: '', agentId: 'release-bot', at: '2026-11-28T12:00:00.000Z', reason, claimedBy: 'lead@example.com' },
    ]);
  });

  it("waits out the kill switch's margin before a resume takes effect, and says so; a later resume does not wait", async () => {
    const engine = fakeEngine();
    const waits: number[] = [];
    // As the AWS session issuer: a deny reaching 5 s past the notice (rounded up), plus 5 s for STS's clock.
    const admitting = Object.assign(engine.sessions, { admitsIssuesFrom: (at: Date) => new Date(at.getTime() + 11_000) });
    const deps = {
      ...engine,
      issuers: { ...engine.issuers, 'aws-sts-session': admitting },
      sleep: async (ms: number) => {
        waits.push(ms);
        engine.clock.advance(ms);
      },
    };
    await suspendAgent(deps, { agentId: 'release-bot', by: 'sre@example.com', reason: 'leak' });
    engine.clock.advance(3_000);

    const soon = await handleOperatorRequest(deps, CFO, JSON.stringify({ action: 'resume', agentId: 'release-bot', reason: 'fixed' }));

    expect(waits).toEqual([8_000]);
    expect(soon).toEqual({
      status: 200,
      body: {
        outcome: 'resumed',
        reason: 'resumed after waiting 8.0 s: until then its kill switch still refused new sessions',
        agentId: 'release-bot',
        person: 'cfo@example.com',
      },
    });
    expect((await engine.store.getAgent('release-bot')).at).toBe('2026-11-28T12:00:11.000Z');

    await suspendAgent(deps, { agentId: 'release-bot', by: 'sre@example.com', reason: 'again' });
    engine.clock.advance(60_000);
    const later = await handleOperatorRequest(deps, CFO, JSON.stringify({ action: 'resume', agentId: 'release-bot', reason: 'fixed' }));
    expect(waits).toEqual([8_000]);
    expect(later.body).toEqual({ outcome: 'resumed', agentId: 'release-bot', person: 'cfo@example.com' });
  });

  it('never undoes a suspension made while a resume waited out the first one: the agent stays suspended and the caller is told', async () => {
    const engine = fakeEngine();
    const admitting = Object.assign(engine.sessions, { admitsIssuesFrom: (at: Date) => new Date(at.getTime() + 11_000) });
    const deps = {
      ...engine,
      issuers: { ...engine.issuers, 'aws-sts-session': admitting },
      // A second kill switch lands while the resume waits.
      sleep: async (ms: number) => {
        engine.clock.advance(ms / 2);
        await suspendAgent(engine, { agentId: 'release-bot', by: 'secops@example.com', reason: 'it leaked again' });
        engine.clock.advance(ms / 2);
      },
    };
    await suspendAgent(deps, { agentId: 'release-bot', by: 'sre@example.com', reason: 'leak' });

    const answer = await handleOperatorRequest(deps, CFO, JSON.stringify({ action: 'resume', agentId: 'release-bot', reason: 'fixed' }));

    expect(answer).toMatchObject({ status: 409, body: { outcome: 'refused', reason: expect.stringContaining('suspended again') } });
    expect(await engine.store.getAgent('release-bot')).toMatchObject({
      suspended: true,
      reason: 'leak',
      repeatCount: 1,
      lastRepeatedReason: 'it leaked again',
    });
    expect(engine.store.rejected.map((rejected) => rejected.reason)).toEqual([answer.body.reason]);
  });

  it('refuses a resume signed before the suspension it would lift (a captured request sent again), and records why', async () => {
    const engine = fakeEngine();
    const signedAt = engine.clock.now();
    engine.clock.advance(60_000);
    await suspendAgent(engine, { agentId: 'release-bot', by: 'secops@example.com', reason: 'leak' });
    const body = JSON.stringify({ action: 'resume', agentId: 'release-bot', reason: 'fixed' });

    const replayed = await handleOperatorRequest(engine, { ...CFO, signedAt }, body);

    expect(replayed).toMatchObject({
      status: 403,
      body: { outcome: 'refused', reason: expect.stringContaining('a resume lifts no suspension made after it was signed') },
    });
    expect((await engine.store.getAgent('release-bot')).suspended).toBe(true);
    expect(engine.store.rejected.map((rejected) => rejected.reason)).toEqual([replayed.body.reason]);
    // Signed after the suspension (in the same second, X-Amz-Date's resolution, too): it lifts it.
    const fresh = await handleOperatorRequest(
      engine,
      { ...CFO, signedAt: new Date(Math.floor(engine.clock.now().getTime() / 1000) * 1000) },
      body,
    );
    expect(fresh.body).toEqual({ outcome: 'resumed', agentId: 'release-bot', person: 'cfo@example.com' });
  });

  it('refuses a resume signed before the kill switch was thrown again, though after the suspension in force', async () => {
    const engine = fakeEngine();
    await suspendAgent(engine, { agentId: 'release-bot', by: 'secops@example.com', reason: 'leak' });
    engine.clock.advance(60_000);
    const signedAt = engine.clock.now();
    engine.clock.advance(60_000);
    await suspendAgent(engine, { agentId: 'release-bot', by: 'oncall@example.com', reason: 'it leaked again' });

    const answer = await handleOperatorRequest(
      engine,
      { ...CFO, signedAt },
      JSON.stringify({ action: 'resume', agentId: 'release-bot', reason: 'fixed' }),
    );

    expect(answer).toMatchObject({ status: 403, body: { outcome: 'refused', reason: expect.stringContaining('was suspended again at') } });
    expect((await engine.store.getAgent('release-bot')).suspended).toBe(true);
  });
});
