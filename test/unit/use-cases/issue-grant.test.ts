import { describe, expect, it } from 'vitest';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { UnissuableRequestError } from '../../../lambdas/domain/errors';
import { endTask } from '../../../lambdas/use-cases/end-task';
import { decideGrant } from '../../../lambdas/use-cases/decide-grant';
import { fakeEngine, refundDecision, refundStarted, taskStarted } from '../../helpers/fake-engine';
import { FakeVault } from '../../helpers/fake-ports';

describe('issueGrant (run by startTask)', () => {
  it('turns a session policy that cannot fit into a denial and cleans up', async () => {
    const engine = fakeEngine();
    engine.sessions.failNextIssue = new UnissuableRequestError('session policy of 3000 characters exceeds 2048');
    const result = await startTask(engine, taskStarted());
    expect(result).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/exceeds 2048/) });
    expect((await engine.store.get(grantIdFor('release-bot', 'task-1')))?.state).toBe('failed');
    expect(engine.vault.secrets.get('taskbound/release-bot/task-1')?.payload.status).toBe('denied');
  });

  it('delivers while the expiry is scheduled, and fails the run (to be retried) when the schedule could not be made', async () => {
    const engine = fakeEngine();
    engine.expiry.scheduleExpiry = async () => {
      throw Object.assign(new Error('rate exceeded'), { name: 'ThrottlingException' });
    };
    await expect(startTask(engine, taskStarted())).rejects.toThrow(/rate exceeded/);
    // The credential was recorded and delivered all the same; the due index expires it if the retry never comes.
    expect((await engine.store.get(grantIdFor('release-bot', 'task-1')))?.state).toBe('active');
    expect(engine.vault.secrets.get('taskbound/release-bot/task-1')?.payload.status).toBe('issued');
  });
});

describe('issueGrant: the delivery prepared while the credential is issued', () => {
  const NAME = 'taskbound/release-bot/task-1';

  it('creates and locks the delivery before the credential exists, so only its value is written after', async () => {
    const engine = fakeEngine();
    const issue = engine.sessions.issue.bind(engine.sessions);
    let vaultCallsWhenIssuing: string[] = [];
    engine.sessions.issue = async (request) => {
      vaultCallsWhenIssuing = [...engine.vault.calls];
      return issue(request);
    };

    const result = await startTask(engine, taskStarted());

    expect(result.outcome).toBe('issued');
    expect(vaultCallsWhenIssuing).toEqual([`prepare ${NAME}`]);
    expect(engine.vault.calls).toEqual([`prepare ${NAME}`, `write ${NAME}`]);
    expect(engine.vault.secrets.get(NAME)).toMatchObject({ expiresAt: result.grant.expiresAt, payload: { status: 'issued' } });
  });

  it('prepares again when the early preparation failed, says so in the log, and still delivers', async () => {
    const engine = fakeEngine();
    const warnings: string[] = [];
    engine.vault.prepare = async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    };

    const result = await startTask(
      { ...engine, logger: { info: () => undefined, error: () => undefined, warn: (message) => void warnings.push(message) } },
      taskStarted(),
    );

    expect(result.outcome).toBe('issued');
    expect(engine.vault.calls).toEqual([`deliver ${NAME}`]);
    expect(engine.vault.secrets.get(NAME)?.payload.status).toBe('issued');
    expect(warnings).toEqual([expect.stringMatching(/could not prepare the delivery/)]);
  });

  it('surfaces a delivery that fails again: the credential is revoked at once and the grant fails', async () => {
    const engine = fakeEngine();
    const throttled = () => Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    engine.vault.prepare = throttled;
    engine.vault.deliver = throttled;

    const result = await startTask(engine, taskStarted());

    expect(result).toMatchObject({ outcome: 'failed', reason: 'delivery failed (ThrottlingException)' });
    expect(engine.sessions.isLive(grantIdFor('release-bot', 'task-1'))).toBe(false);
  });

  it('writes a denial into the prepared delivery when the issue is refused, after the preparation settled', async () => {
    const engine = fakeEngine();
    engine.sessions.failNextIssue = new UnissuableRequestError('session policy of 3000 characters exceeds 2048');

    await startTask(engine, taskStarted());

    expect(engine.vault.calls).toEqual([`prepare ${NAME}`, `deliver ${NAME}`]);
    expect(engine.vault.secrets.get(NAME)?.payload).toMatchObject({ status: 'denied' });
  });

  it('revokes the credential and deletes the delivery it prepared when the task ended during the issue and its revocation finished first', async () => {
    const engine = fakeEngine();
    const prepare = engine.vault.prepare!.bind(engine.vault);
    let revokerDone: () => void = () => undefined;
    const revokerFinished = new Promise<void>((resolve) => (revokerDone = resolve));
    // The preparation lands only after the task's end was revoked, verified and its delivery deleted.
    engine.vault.prepare = async (address) => {
      await revokerFinished;
      return prepare(address);
    };
    const issue = engine.sessions.issue.bind(engine.sessions);
    engine.sessions.issue = async (request) => {
      const ended = await endTask(engine, { agentId: 'release-bot', taskId: 'task-1', outcome: 'succeeded' });
      expect(ended.outcome).toBe('verified');
      revokerDone();
      return issue(request);
    };

    const result = await startTask(engine, taskStarted());

    expect(result.outcome).toBe('revoked-during-issue');
    expect(engine.sessions.isLive(grantIdFor('release-bot', 'task-1'))).toBe(false);
    expect([...engine.vault.empty.keys(), ...engine.vault.secrets.keys()]).toEqual([]);
  });

  it('deletes a delivery it had to create itself when the task ended while it was written', async () => {
    const engine = fakeEngine();
    engine.vault.prepare = async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    };
    const deliver = engine.vault.deliver.bind(engine.vault);
    // The task ends (revoked, verified, its absent delivery "deleted") just before the write lands.
    engine.vault.deliver = async (delivery, options) => {
      if (delivery.payload.status === 'issued') await endTask(engine, { agentId: 'release-bot', taskId: 'task-1', outcome: 'succeeded' });
      return deliver(delivery, options);
    };

    await startTask(engine, taskStarted());

    expect(engine.sessions.isLive(grantIdFor('release-bot', 'task-1'))).toBe(false);
    expect(engine.vault.secrets.has(NAME)).toBe(false);
  });

  it('adopts the pending delivery of an approved request and writes the credential over it', async () => {
    const engine = fakeEngine();
    await startTask(engine, { ...refundStarted, purpose: 'refund' });
    const name = 'taskbound/deploy-bot/refund-1';
    expect(engine.vault.calls).toEqual([`deliver ${name}`]);

    await decideGrant(engine, refundDecision('lead@example.com'));
    const decided = await decideGrant(engine, refundDecision('cfo@example.com'));

    expect(decided.outcome).toBe('issued');
    expect(engine.vault.calls).toEqual([`deliver ${name}`, `prepare ${name}`, `write ${name}`]);
    expect(engine.vault.secrets.get(name)?.payload.status).toBe('issued');
  });
});

describe('issueGrant: the delivery staged with the credential, under a key that locks the value', () => {
  const NAME = 'taskbound/release-bot/task-1';
  const keyLockedEngine = () => ({ ...fakeEngine(), vault: new FakeVault({ keyLocked: true }) });

  it('stages the credential before the grant goes active, then only locks it, and reads no grant back', async () => {
    const engine = keyLockedEngine();
    const update = engine.store.update.bind(engine.store);
    let vaultCallsWhenActive: string[] = [];
    engine.store.update = async (previous, next) => {
      if (next.state === 'active') vaultCallsWhenActive = [...engine.vault.calls];
      return update(previous, next);
    };
    const get = engine.store.get.bind(engine.store);
    let reads = 0;
    engine.store.get = async (grantId) => {
      reads += 1;
      return get(grantId);
    };

    const result = await startTask(engine, taskStarted());

    expect(result.outcome).toBe('issued');
    expect(vaultCallsWhenActive).toEqual([`stage ${NAME}`]);
    expect(engine.vault.calls).toEqual([`stage ${NAME}`, `lock ${NAME}`]);
    expect(engine.vault.unlocked.size).toBe(0);
    expect(engine.vault.secrets.get(NAME)?.payload.status).toBe('issued');
    expect(reads).toBe(0);
  });

  it('revokes the credential and deletes what it staged when the task ended during the issue and its revocation finished first', async () => {
    const engine = keyLockedEngine();
    const issue = engine.sessions.issue.bind(engine.sessions);
    engine.sessions.issue = async (request) => {
      const ended = await endTask(engine, { agentId: 'release-bot', taskId: 'task-1', outcome: 'succeeded' });
      expect(ended.outcome).toBe('verified');
      return issue(request);
    };

    const result = await startTask(engine, taskStarted());

    expect(result.outcome).toBe('revoked-during-issue');
    expect(engine.sessions.isLive(grantIdFor('release-bot', 'task-1'))).toBe(false);
    expect([...engine.vault.secrets.keys()]).toEqual([]);
    expect(engine.vault.destroyed).toContain(NAME);
  });

  it('fails the delivery and revokes when a revoker deleted the staged secret before its lock', async () => {
    const engine = keyLockedEngine();
    const deliver = engine.vault.deliver.bind(engine.vault);
    // The task ends (revoked, verified, the staged delivery deleted) just before the lock lands.
    engine.vault.deliver = async (delivery, ahead) => {
      if (ahead === 'staged') await endTask(engine, { agentId: 'release-bot', taskId: 'task-1', outcome: 'succeeded' });
      return deliver(delivery, ahead);
    };

    await startTask(engine, taskStarted());

    expect(engine.sessions.isLive(grantIdFor('release-bot', 'task-1'))).toBe(false);
    expect(engine.vault.secrets.has(NAME)).toBe(false);
  });

  it('delivers in full, and looks once for a revoker, when staging failed', async () => {
    const engine = keyLockedEngine();
    engine.vault.stage = async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    };

    const result = await startTask(engine, taskStarted());

    expect(result.outcome).toBe('issued');
    expect(engine.vault.calls).toEqual([`deliver ${NAME}`]);
    expect(engine.vault.secrets.get(NAME)?.payload.status).toBe('issued');
  });

  it('writes over the pending delivery of an approved request in full: staging leaves an existing secret alone', async () => {
    const engine = keyLockedEngine();
    await startTask(engine, { ...refundStarted, purpose: 'refund' });
    const name = 'taskbound/deploy-bot/refund-1';

    await decideGrant(engine, refundDecision('lead@example.com'));
    await decideGrant(engine, refundDecision('cfo@example.com'));

    expect(engine.vault.calls.filter((call) => call.endsWith(name))).toEqual([`deliver ${name}`, `stage ${name}`, `deliver ${name}`]);
    expect(engine.vault.secrets.get(name)?.payload.status).toBe('issued');
  });
});
