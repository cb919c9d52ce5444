import type { Context, LambdaFunctionURLEvent } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeOperatorApiHandler } from '../../../lambdas/handlers/operator-api';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { suspendAgent } from '../../../lambdas/use-cases/change-agent-status';
import { fakeEngine, type FakeEngine } from '../../helpers/fake-engine';

const context = { functionName: 'operator-api', awsRequestId: 'req-1' } as Context;
const ACCOUNT = '111122223333';
const session = (role: string, name = 'cli') => `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${name}`;
const LEAD = session('lead');
const SRE = session('sre');
const CFO = `arn:aws:iam::${ACCOUNT}:user/cfo`;

/** A function URL event as Lambda builds it for AuthType AWS_IAM. */
function urlEvent(userArn: string | undefined, body: unknown, method = 'POST'): LambdaFunctionURLEvent {
  return {
    version: '2.0',
    rawPath: '/',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      http: { method, path: '/', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'taskbound' },
      ...(userArn
        ? {
            authorizer: {
              iam: { accessKey: 'ASIAEXAMPLE', accountId: ACCOUNT, callerId: 'AROAEXAMPLE:cli', userArn, userId: 'AROAEXAMPLE:cli' },
            },
          }
        : {}),
    },
  } as unknown as LambdaFunctionURLEvent;
}

async function withPending(engine: FakeEngine, agentId: string, taskId: string, scopes: string[], requestedBy = 'dev@example.com') {
  const started = await startTask(engine, { agentId, taskId, purpose: 'p', requestedBy, scopes });
  expect(started.grant.state).toBe('pending_approval');
  return started.grant.grantId;
}

function endpoint() {
  const engine = fakeEngine();
  const handle = makeOperatorApiHandler(async () => engine);
  const call = async (arn: string | undefined, body: unknown, method?: string) => {
    const response = await handle(urlEvent(arn, body, method), context);
    return { status: response.statusCode, body: JSON.parse(String(response.body)) as Record<string, unknown> };
  };
  return { engine, call };
}

describe('operator endpoint (function URL, AWS_IAM)', () => {
  it('counts an approval as the person the caller’s role maps to, and issues once enough people approved', async () => {
    const { engine, call } = endpoint();
    const grantId = await withPending(engine, 'deploy-bot', 'refund-1', ['refund']);
    expect(await call(CFO, { action: 'approve', grantId, reason: 'ok' })).toEqual({
      status: 200,
      body: { outcome: 'counted', remaining: 1, grantId, person: 'cfo@example.com' },
    });
    expect(await call(LEAD, { action: 'approve', grantId, reason: 'ok' })).toEqual({
      status: 200,
      body: { outcome: 'issued', grantId, person: 'lead@example.com' },
    });
    expect((await engine.store.get(grantId))?.approvals.map((approval) => approval.approver)).toEqual([
      'cfo@example.com',
      'lead@example.com',
    ]);
  });

  it('never lets one operator satisfy dual control: a second session of the same role is the same person', async () => {
    const { engine, call } = endpoint();
    const grantId = await withPending(engine, 'deploy-bot', 'refund-2', ['refund']);
    expect((await call(session('lead', 'first'), { action: 'approve', grantId, reason: 'ok' })).body.outcome).toBe('counted');
    const again = await call(session('lead', 'claiming-cfo@example.com'), {
      action: 'approve',
      grantId,
      reason: 'as cfo',
      approver: 'cfo@example.com',
    });
    expect(again).toEqual({
      status: 400,
      body: expect.objectContaining({ outcome: 'refused', reason: expect.stringContaining('Unrecognized key') }),
    });
    const repeat = await call(session('lead', 'second'), { action: 'approve', grantId, reason: 'again' });
    expect(repeat).toEqual({
      status: 403,
      body: expect.objectContaining({ outcome: 'refused', reason: 'lead@example.com has already approved; one approver counts once' }),
    });
    expect((await engine.store.get(grantId))?.state).toBe('pending_approval');
    expect(engine.keys.issued.size).toBe(0);
  });

  it('refuses an unmapped principal with a reason, records it and decides nothing', async () => {
    const { engine, call } = endpoint();
    const grantId = await withPending(engine, 'deploy-bot', 'ship-1', ['deploy-web']);
    const answer = await call(session('intern'), { action: 'approve', grantId, reason: 'ok' });
    expect(answer).toEqual({
      status: 403,
      body: { outcome: 'refused', reason: `caller ${session('intern')} is not mapped to a person under people in the policy` },
    });
    expect(engine.store.rejected).toEqual([
      expect.objectContaining({ detailType: 'Operator Request', source: 'operator-endpoint', reason: answer.body.reason }),
    ]);
    expect((await engine.store.get(grantId))?.state).toBe('pending_approval');
  });

  it.each([
    ['a terminal escape', 'no\u001b[31m ok'],
    ['a NUL', 'ok\u0000hidden'],
    ['an 8-bit escape (a C1 control)', 'no\u009b31m ok'],
    ['an unpaired surrogate', 'half \ud800 pair'],
  ])('refuses a reason holding %s, as an event’s reason is refused, and decides nothing', async (_name, reason) => {
    const { engine, call } = endpoint();
    const grantId = await withPending(engine, 'deploy-bot', 'ship-1', ['deploy-web']);

    const answer = await call(LEAD, { action: 'deny', grantId, reason });

    expect(answer).toEqual({
      status: 400,
      body: {
        outcome: 'refused',
        reason: 'invalid request: reason: must not contain control characters or unpaired surrogates',
        person: 'lead@example.com',
      },
    });
    expect(engine.store.rejected.at(-1)).toMatchObject({ source: 'operator-endpoint', reason: answer.body.reason });
    expect((await engine.store.get(grantId))?.state).toBe('pending_approval');
  });

  it('refuses a request without an IAM caller (a URL not using AWS_IAM) and anything but POST', async () => {
    const { call } = endpoint();
    expect((await call(undefined, { action: 'resume', agentId: 'release-bot', reason: 'x' })).status).toBe(403);
    expect((await call(LEAD, {}, 'GET')).status).toBe(405);
  });

  it('refuses the agent’s owner and the task’s requester, however the requester was spelled', async () => {
    const { engine, call } = endpoint();
    const owned = await withPending(engine, 'deploy-bot', 'ship-2', ['deploy-web']);
    expect((await call(SRE, { action: 'approve', grantId: owned, reason: 'mine' })).body).toMatchObject({
      outcome: 'refused',
      reason: 'sre@example.com owns agent "deploy-bot" and may not decide its grants',
    });
    // lead@, requesting as a session of their role, is no approver of it: with the owner out, nobody is left.
    const requested = await startTask(engine, {
      agentId: 'deploy-bot',
      taskId: 'ship-3',
      purpose: 'p',
      requestedBy: session('lead', 'laptop'),
      scopes: ['deploy-web'],
    });
    expect(requested).toMatchObject({ outcome: 'denied', reason: expect.stringContaining('only 0 approvers remain') });
    expect((await call(LEAD, { action: 'approve', grantId: requested.grant.grantId, reason: 'mine' })).body).toMatchObject({
      outcome: 'refused',
      reason: expect.stringContaining('not pending approval'),
    });
    expect(engine.events.of('Grant Decision Refused')).toHaveLength(2);
  });

  it('denies on an eligible denial and answers not-found for an unknown grant', async () => {
    const { engine, call } = endpoint();
    const grantId = await withPending(engine, 'deploy-bot', 'ship-4', ['deploy-web']);
    expect(await call(LEAD, { action: 'deny', grantId, reason: 'freeze' })).toEqual({
      status: 200,
      body: { outcome: 'denied', reason: 'denied by lead@example.com: freeze', grantId, person: 'lead@example.com' },
    });
    const ghost = 'g-aaaaaaaaaaaaaaaaaaaaaaaaaa';
    expect(await call(LEAD, { action: 'approve', grantId: ghost, reason: 'x' })).toMatchObject({
      status: 404,
      body: { outcome: 'not-found', grantId: ghost },
    });
  });

  it('refuses a resume whose X-Amz-Date is older than the suspension (a captured request sent again)', async () => {
    const { engine } = endpoint();
    const handle = makeOperatorApiHandler(async () => engine);
    engine.clock.advance(60_000);
    await suspendAgent(engine, { agentId: 'release-bot', by: 'secops', reason: 'leak' });
    const event = urlEvent(CFO, { action: 'resume', agentId: 'release-bot', reason: 'all clear' });
    // Signed a minute before the suspension, at the fake clock's start.
    const replayed = await handle({ ...event, headers: { ...event.headers, 'x-amz-date': '20261128T120000Z' } }, context);

    expect(replayed.statusCode).toBe(403);
    expect(String(replayed.body)).toContain('a resume lifts no suspension made after it was signed');
    expect((await engine.store.getAgent('release-bot')).suspended).toBe(true);
  });

  it('resumes a suspended agent as the authenticated person, and only then', async () => {
    const { engine, call } = endpoint();
    await suspendAgent(engine, { agentId: 'release-bot', by: 'secops', reason: 'drill' });
    // lead@ owns release-bot: not the one to say it is safe again.
    expect((await call(LEAD, { action: 'resume', agentId: 'release-bot', reason: 'mine' })).status).toBe(403);
    expect(await call(CFO, { action: 'resume', agentId: 'release-bot', reason: 'all clear' })).toEqual({
      status: 200,
      body: { outcome: 'resumed', agentId: 'release-bot', person: 'cfo@example.com' },
    });
    expect(await engine.store.getAgent('release-bot')).toMatchObject({ suspended: false, by: 'cfo@example.com', reason: 'all clear' });
    expect((await call(CFO, { action: 'resume', agentId: 'release-bot', reason: 'again' })).body).toMatchObject({
      outcome: 'resumed',
      reason: expect.stringContaining('was not suspended'),
    });
    expect((await call(CFO, { action: 'resume', agentId: 'no-such-bot', reason: 'x' })).status).toBe(404);
  });

  it('refuses any malformed body with a clear reason, records it, and keeps serving', async () => {
    const { engine, call } = endpoint();
    const grantId = await withPending(engine, 'deploy-bot', 'ship-5', ['deploy-web']);
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.anything().map((value) => JSON.stringify(value) ?? 'undefined'),
          fc.record({ action: fc.string(), grantId: fc.string(), reason: fc.anything() }).map((v) => JSON.stringify(v)),
        ),
        async (body) => {
          runs++;
          const answer = await call(LEAD, body);
          expect(answer.status).toBe(400);
          expect(answer.body).toEqual({
            outcome: 'refused',
            reason: expect.stringMatching(/^(request body is not JSON|invalid request: .+|request body is over \d+ characters)$/),
            person: 'lead@example.com',
          });
        },
      ),
      { numRuns: 300 },
    );
    expect(engine.store.rejected).toHaveLength(runs);
    expect((await engine.store.get(grantId))?.state).toBe('pending_approval');
    expect((await call(LEAD, { action: 'approve', grantId, reason: 'after the storm' })).body.outcome).toBe('issued');
  });
});
