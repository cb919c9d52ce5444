import { describe, expect, it } from 'vitest';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { endTask } from '../../../lambdas/use-cases/end-task';
import { decideGrant } from '../../../lambdas/use-cases/decide-grant';
import { reportLeak } from '../../../lambdas/use-cases/report-leak';
import { suspendAgent, resumeAgent } from '../../../lambdas/use-cases/change-agent-status';
import { expireGrant } from '../../../lambdas/use-cases/expire-grant';
import { sweepDueGrants } from '../../../lambdas/use-cases/sweep';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { verifyChain } from '../../../lambdas/domain/audit';
import { UnissuableRequestError } from '../../../lambdas/domain/errors';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';

const ended = (overrides: Record<string, unknown> = {}) => ({ agentId: 'release-bot', taskId: 'task-1', outcome: 'succeeded' as const, ...overrides });

describe('start and end of a task', () => {
  it('issues, delivers, schedules expiry, then revokes, verifies and deletes the delivery', async () => {
    const engine = fakeEngine();
    const started = await startTask(engine, taskStarted());
    expect(started.outcome).toBe('issued');
    const grantId = grantIdFor('release-bot', 'task-1');
    expect(engine.vault.secrets.get('taskbound/release-bot/task-1')?.payload).toMatchObject({ status: 'issued', grantId });
    expect(engine.expiry.scheduled.has(grantId)).toBe(true);

    const result = await endTask(engine, ended());
    expect(result.outcome).toBe('verified');
    expect(engine.sessions.isLive(grantId)).toBe(false);
    expect(engine.vault.secrets.has('taskbound/release-bot/task-1')).toBe(false);
    expect(engine.expiry.scheduled.has(grantId)).toBe(false);
    expect(engine.events.types()).toEqual(['Grant Requested', 'Grant Issued', 'Grant Revoked', 'Revocation Verified']);
    const grant = await engine.store.get(grantId);
    expect(verifyChain(grantId, grant!.audit)).toEqual({ ok: true });
  });

  it('a repeated Task Ended changes nothing', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted());
    await endTask(engine, ended());
    const before = await engine.store.get(grantIdFor('release-bot', 'task-1'));
    expect((await endTask(engine, ended())).outcome).toBe('already-revoked');
    expect((await engine.store.get(grantIdFor('release-bot', 'task-1')))?.version).toBe(before?.version);
  });

  it('denies the concurrency cap with a reason delivered to the runtime', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted({ taskId: 'a' }));
    await startTask(engine, taskStarted({ taskId: 'b' }));
    const third = await startTask(engine, taskStarted({ taskId: 'c' }));
    expect(third).toMatchObject({ outcome: 'denied', reason: expect.stringMatching(/maximum 2/) });
    expect(engine.vault.secrets.get('taskbound/release-bot/c')?.payload).toMatchObject({ status: 'denied' });
    expect(engine.sessions.issued.size).toBe(2);
  });

  it('records an unregistered agent without delivering anything', async () => {
    const engine = fakeEngine();
    const result = await startTask(engine, taskStarted({ agentId: 'ghost-bot' }));
    expect(result).toMatchObject({ outcome: 'denied', reason: expect.stringMatching(/not registered/) });
    expect(engine.vault.secrets.size).toBe(0);
    expect(engine.events.of('Grant Denied')).toHaveLength(1);
  });

  it('turns a session policy that cannot fit into a denial and cleans up', async () => {
    const engine = fakeEngine();
    engine.sessions.failNextIssue = new UnissuableRequestError('session policy of 3000 characters exceeds 2048');
    const result = await startTask(engine, taskStarted());
    expect(result).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/exceeds 2048/) });
    expect((await engine.store.get(grantIdFor('release-bot', 'task-1')))?.state).toBe('failed');
    expect(engine.vault.secrets.get('taskbound/release-bot/task-1')?.payload.status).toBe('denied');
  });
});

describe('revocation that does not take at once', () => {
  it('reports Revocation Failed and leaves the grant for the sweep, which finishes it', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted());
    engine.sessions.failRevocations = 1;
    expect((await endTask(engine, ended())).outcome).toBe('revocation-failed');
    expect(engine.events.of('Revocation Failed')[0]?.detail.reason).toMatch(/Throttling/);
    engine.clock.advance(61_000);
    const report = await sweepDueGrants(engine);
    expect(report).toMatchObject({ dueGrants: 1, retried: 1, errors: 0 });
    expect((await engine.store.get(grantIdFor('release-bot', 'task-1')))?.state).toBe('verified');
  });

  it('catches a credential still valid after revocation, reports how long, and revokes again', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted());
    engine.sessions.stillValidForProbes = 2;
    expect((await endTask(engine, ended())).outcome).toBe('revoked-unverified');
    engine.clock.advance(61_000);
    const report = await sweepDueGrants(engine);
    expect(report.stillValid).toBe(1);
    const [finding] = engine.events.of('Credential Still Valid');
    expect(finding?.detail.stillValidAfterNoticeMs).toBe(61_000);
    expect(JSON.stringify(engine.events.published)).not.toMatch(/do-not-log/);
    expect((await engine.store.get(grantIdFor('release-bot', 'task-1')))?.state).toBe('verified');
  });
});

describe('expiry', () => {
  it('ignores an early firing and revokes once expired', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted({ ttlSeconds: 60 }));
    const grantId = grantIdFor('release-bot', 'task-1');
    expect((await expireGrant(engine, grantId)).outcome).toBe('not-due');
    engine.clock.advance(60_000);
    expect((await expireGrant(engine, grantId)).outcome).toBe('verified');
    expect((await engine.store.get(grantId))?.revocation?.trigger).toBe('expired');
  });

  it('the sweep expires a grant whose timer was lost', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted({ ttlSeconds: 60 }));
    engine.clock.advance(61_000);
    expect(await sweepDueGrants(engine)).toMatchObject({ expired: 1 });
  });
});

describe('approvals', () => {
  const transact = { agentId: 'deploy-bot', taskId: 'refund-1', scopes: ['refund'], requestedBy: 'dev@example.com' };
  const decision = (approver: string, decision: 'approve' | 'deny' = 'approve') => ({ grantId: grantIdFor('deploy-bot', 'refund-1'), decision, approver, reason: 'checked' });

  it('needs two different eligible approvers; the owner and a repeat do not count', async () => {
    const engine = fakeEngine();
    expect((await startTask(engine, taskStarted(transact))).outcome).toBe('pending-approval');
    expect((await decideGrant(engine, decision('sre@example.com'))).outcome).toBe('refused');
    expect((await decideGrant(engine, decision('cfo@example.com'))).outcome).toBe('counted');
    expect((await decideGrant(engine, decision('cfo@example.com'))).outcome).toBe('refused');
    expect(engine.keys.issued.size).toBe(0);
    expect((await decideGrant(engine, decision('lead@example.com'))).outcome).toBe('issued');
    expect(engine.keys.issued.size).toBe(1);
    expect(engine.events.of('Grant Decision Refused')).toHaveLength(2);
  });

  it('rotates the brokered secret after the task ends', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted(transact));
    await decideGrant(engine, decision('cfo@example.com'));
    await decideGrant(engine, decision('lead@example.com'));
    await endTask(engine, ended({ agentId: 'deploy-bot', taskId: 'refund-1' }));
    expect(engine.rotator.rotated).toEqual(['arn:aws:secretsmanager:us-east-1:111122223333:secret:stripe-key-AbCdEf']);
  });

  it('an approval after the window is refused and the request denied; the sweep closes silent ones', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted(transact));
    engine.clock.advance(3601_000);
    expect((await decideGrant(engine, decision('cfo@example.com'))).outcome).toBe('denied');
    await startTask(engine, taskStarted({ ...transact, taskId: 'refund-2' }));
    engine.clock.advance(3601_000);
    // Closed: the silent request, and the first denial's delivery secret after its hour.
    expect(await sweepDueGrants(engine)).toMatchObject({ closed: 2 });
    expect((await engine.store.get(grantIdFor('deploy-bot', 'refund-2')))?.state).toBe('denied');
    expect(engine.vault.secrets.has('taskbound/deploy-bot/refund-1')).toBe(false);
  });
});

describe('leaks and the kill switch', () => {
  it('revokes a leaked access key found by its id', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted({ agentId: 'deploy-bot', scopes: ['bucket-read-key'] }));
    const keyId = engine.vault.secrets.get('taskbound/deploy-bot/task-1')!.payload.accessKeyId!;
    const result = await reportLeak(engine, { credentialId: keyId, reportedBy: 'scanner' });
    expect(result.outcome).toBe('verified');
    expect((await engine.store.get(grantIdFor('deploy-bot', 'task-1')))?.revocation?.trigger).toBe('leaked');
  });

  it('finds a leaked delivery secret by its ARN', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted());
    const arn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:taskbound/release-bot/task-1-Xy12Ab';
    expect((await reportLeak(engine, { credentialId: arn, reportedBy: 'scanner' })).outcome).toBe('verified');
  });

  it('says so when a leaked credential is not one of ours', async () => {
    expect((await reportLeak(fakeEngine(), { credentialId: 'AKIAUNKNOWN000000000', reportedBy: 'scanner' })).outcome).toBe('unknown-credential');
  });

  it('suspension revokes every live grant and denies new ones until resumed', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted({ taskId: 'a' }));
    await startTask(engine, taskStarted({ taskId: 'b' }));
    const suspended = await suspendAgent(engine, { agentId: 'release-bot', by: 'secops@example.com', reason: 'odd behaviour' });
    expect(suspended.revoked.map((result) => result.outcome)).toEqual(['verified', 'verified']);
    expect((await startTask(engine, taskStarted({ taskId: 'c' }))).outcome).toBe('denied');
    await resumeAgent(engine, { agentId: 'release-bot', by: 'secops@example.com', reason: 'fixed' });
    expect((await startTask(engine, taskStarted({ taskId: 'd' }))).outcome).toBe('issued');
  });
});

describe('orphan reconciliation', () => {
  it('removes a delivery and kills a credential that no live grant accounts for, and leaves live ones alone', async () => {
    const { reconcileOrphans } = await import('../../../lambdas/use-cases/reconcile-orphans');
    const engine = fakeEngine();
    const listIssued = async function* () {
      for (const [grantId, record] of engine.keys.issued) if (!record.revokedAt) yield { grantId };
    };
    Object.assign(engine.keys, { listIssued });
    await startTask(engine, taskStarted());
    await startTask(engine, taskStarted({ agentId: 'deploy-bot', taskId: 'keyed', scopes: ['bucket-read-key'] }));
    const keyedGrant = grantIdFor('deploy-bot', 'keyed');
    // The keyed grant's record is lost (say, a table restored from an old backup).
    engine.store.forget(keyedGrant);

    const report = await reconcileOrphans(engine);
    expect(report).toMatchObject({ deliveriesChecked: 2, credentialsChecked: 1, orphans: 2, errors: 0 });
    expect(engine.keys.isLive(keyedGrant)).toBe(false);
    expect(engine.vault.secrets.has('taskbound/deploy-bot/keyed')).toBe(false);
    expect(engine.vault.secrets.has('taskbound/release-bot/task-1')).toBe(true);
    expect(engine.events.of('Orphan Credential Found').map((event) => event.detail.grantId)).toEqual([keyedGrant, keyedGrant]);
  });
});

describe('requests that would do nothing', () => {
  it('a suspension of an unregistered agent with no grants is refused and recorded, not applied', async () => {
    const engine = fakeEngine();
    const result = await suspendAgent(engine, { agentId: 'nobody-bot', by: 'secops@example.com', reason: 'typo' });
    expect(result).toMatchObject({ outcome: 'unknown-agent', reason: expect.stringMatching(/not registered/) });
    expect((await engine.store.getAgent('nobody-bot')).suspended).toBe(false);
    expect(engine.store.rejected).toHaveLength(1);
  });

  it('revoking an already verified grant by another trigger changes nothing and says nothing', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted());
    await endTask(engine, ended());
    const published = engine.events.published.length;
    const { revokeGrant } = await import('../../../lambdas/use-cases/revoke-grant');
    const again = await revokeGrant(engine, grantIdFor('release-bot', 'task-1'), { trigger: 'manual', by: 'secops', reason: 'again', noticeAt: engine.clock.now().toISOString() });
    expect(again.outcome).toBe('already-revoked');
    expect(engine.events.published).toHaveLength(published);
    // A redelivered Task Ended, though, says the outcome again (its first run may not have).
    await endTask(engine, ended());
    expect(engine.events.types().slice(published)).toEqual(['Grant Revoked', 'Revocation Verified']);
  });

  it('stores a repeated scope once', async () => {
    const engine = fakeEngine();
    const started = await startTask(engine, taskStarted({ scopes: ['repo-read', 'repo-read'] }));
    expect(started.grant.scopes).toEqual(['repo-read']);
  });
});
