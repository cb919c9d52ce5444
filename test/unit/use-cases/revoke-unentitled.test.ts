import { describe, expect, it } from 'vitest';
import type { Policy } from '../../../lambdas/domain/policy';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { revokeUnentitledGrants } from '../../../lambdas/use-cases/revoke-unentitled';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { fakeEngine, refundStarted, taskStarted, type FakeEngine } from '../../helpers/fake-engine';

/** The engine after a deploy or restart with another policy: same state, the policy replaced. */
const under = (engine: FakeEngine, change: (policy: Policy) => Partial<Policy>): FakeEngine => ({
  ...engine,
  policy: { ...engine.policy, ...change(engine.policy), policyVersion: 'sha256:changed' },
});

describe('revokeUnentitledGrants', () => {
  it('revokes the live grants of an agent the policy no longer lists, and says why', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted({ taskId: 'gone-agent' }));
    await startTask(engine, taskStarted({ agentId: 'deploy-bot', taskId: 'kept' }));
    const changed = under(engine, (policy) => ({ agents: { 'deploy-bot': policy.agents['deploy-bot']! } }));

    const report = await revokeUnentitledGrants(changed);

    expect(report).toEqual({ checked: 2, revoked: 1, errors: 0 });
    expect(engine.sessions.isLive(grantIdFor('release-bot', 'gone-agent'))).toBe(false);
    expect(engine.sessions.isLive(grantIdFor('deploy-bot', 'kept'))).toBe(true);
    const revoked = await engine.store.get(grantIdFor('release-bot', 'gone-agent'));
    expect(revoked?.state).toBe('verified');
    expect(revoked?.revocation?.reason).toBe(
      'the policy in force (sha256:changed) no longer allows it: agent "release-bot" is not registered in policy sha256:changed',
    );
    expect(engine.events.of('Grant Revoked').map((event) => event.detail.grantId)).toEqual([grantIdFor('release-bot', 'gone-agent')]);
  });

  it('revokes a grant whose scope was withdrawn from its agent, and denies a request waiting for approval on one', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted({ scopes: ['repo-write'] }));
    await startTask(engine, { ...refundStarted, purpose: 'refund' });
    expect((await engine.store.get(grantIdFor('deploy-bot', 'refund-1')))?.state).toBe('pending_approval');
    const changed = under(engine, (policy) => ({
      agents: {
        'release-bot': { ...policy.agents['release-bot']!, scopes: ['repo-read'] },
        'deploy-bot': { ...policy.agents['deploy-bot']!, scopes: ['repo-read', 'deploy-web'] },
      },
    }));

    expect(await revokeUnentitledGrants(changed)).toEqual({ checked: 2, revoked: 2, errors: 0 });
    const written = await engine.store.get(grantIdFor('release-bot', 'task-1'));
    expect(written?.state).toBe('verified');
    expect(written?.revocation?.reason).toContain('scope "repo-write" is not allowed for agent "release-bot"');
    expect((await engine.store.get(grantIdFor('deploy-bot', 'refund-1')))?.state).toBe('denied');
  });

  it('leaves every grant alone when the policy still allows it, and issues nothing', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted());
    const published = engine.events.published.length;

    expect(await revokeUnentitledGrants(under(engine, () => ({})))).toEqual({ checked: 1, revoked: 0, errors: 0 });
    expect(engine.sessions.isLive(grantIdFor('release-bot', 'task-1'))).toBe(true);
    expect(engine.events.published.length).toBe(published);
  });

  it('counts a revocation that fails as an error and leaves the grant for the next run', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted());
    const failing = under(engine, (policy) => ({ agents: { 'deploy-bot': policy.agents['deploy-bot']! } }));
    const broken = {
      ...failing,
      store: Object.assign(Object.create(engine.store) as typeof engine.store, {
        update: () => Promise.reject(new Error('ProvisionedThroughputExceededException')),
      }),
    };

    expect(await revokeUnentitledGrants(broken)).toEqual({ checked: 1, revoked: 0, errors: 1 });
    expect((await engine.store.get(grantIdFor('release-bot', 'task-1')))?.state).toBe('active');
    expect(await revokeUnentitledGrants(failing)).toEqual({ checked: 1, revoked: 1, errors: 0 });
  });
});
