import { describe, expect, it } from 'vitest';
import type { Policy, PolicyStatement, Scope } from '../../../lambdas/domain/policy';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { revokeUnentitledGrants } from '../../../lambdas/use-cases/revoke-unentitled';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { fakeEngine, refundStarted, taskStarted, type FakeEngine } from '../../helpers/fake-engine';

/** The engine after a deploy or restart with another policy: same state, the policy replaced. */
const under = (engine: FakeEngine, change: (policy: Policy) => Partial<Policy>): FakeEngine => ({
  ...engine,
  policy: { ...engine.policy, ...change(engine.policy), policyVersion: 'sha256:changed' },
});

/** The policy with one scope's definition edited under the same name. */
const editScope = (policy: Policy, name: string, edit: (scope: Scope) => Partial<Scope>) => ({
  scopes: { ...policy.scopes, [name]: { ...policy.scopes[name]!, ...edit(policy.scopes[name]!) } },
});
const REPO = 'arn:aws:codecommit:us-east-1:111122223333:web';
const push: PolicyStatement = { Effect: 'Allow', Action: ['codecommit:GitPush'], Resource: REPO };

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

  describe('a scope changed under the same name', () => {
    const writing = async () => {
      const engine = fakeEngine();
      await startTask(engine, taskStarted({ scopes: ['repo-write'] }));
      return engine;
    };
    const grantId = grantIdFor('release-bot', 'task-1');

    it('revokes a grant whose scope lost an action, naming the scope and the policy version', async () => {
      const engine = await writing();
      const narrowed = under(engine, (policy) =>
        editScope(policy, 'repo-write', () => ({ statements: [{ ...push, Action: ['codecommit:GitPull'] }] })),
      );

      expect(await revokeUnentitledGrants(narrowed)).toEqual({ checked: 1, revoked: 1, errors: 0 });
      expect(engine.sessions.isLive(grantId)).toBe(false);
      const revoked = await engine.store.get(grantId);
      expect(revoked?.state).toBe('verified');
      expect(revoked?.revocation?.reason).toBe(
        'the policy in force (sha256:changed) narrowed what it was issued: scope "repo-write" no longer allows 1 of the ' +
          'action-resource pairs the grant was issued (removed, or changed: an action, resource or condition)',
      );
    });

    it.each<[string, (scope: Scope) => Partial<Scope>]>([
      ['a condition added to its statement', () => ({ statements: [{ ...push, Condition: { Bool: { 'aws:SecureTransport': 'true' } } }] })],
      ['its resource changed', () => ({ statements: [{ ...push, Resource: `${REPO}-archive` }] })],
      [
        'a Deny added',
        (scope) => ({ statements: [...scope.statements, { Effect: 'Deny', Action: 'codecommit:GitPush', Resource: REPO, Sid: 'NoPush' }] }),
      ],
      ['its credential kind changed', () => ({ credential: 'aws-iam-access-key' })],
      ['its account changed', () => ({ account: '444455556666' })],
    ])('revokes a grant whose scope had %s', async (_change, edit) => {
      const engine = await writing();

      expect(await revokeUnentitledGrants(under(engine, (policy) => editScope(policy, 'repo-write', edit)))).toMatchObject({ revoked: 1 });
      expect(engine.sessions.isLive(grantId)).toBe(false);
      expect((await engine.store.get(grantId))?.revocation?.reason).toContain('narrowed what it was issued');
    });

    it('revokes a grant whose scope no longer brokers a secret it was issued', async () => {
      const engine = fakeEngine();
      const secret = { arn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:reports-key-AbCdEf', rotateAfterUse: false };
      const brokering = under(engine, (policy) => editScope(policy, 'bucket-read-key', () => ({ secrets: [secret] })));
      await startTask(brokering, taskStarted({ agentId: 'deploy-bot', scopes: ['bucket-read-key'] }));
      const keyGrant = grantIdFor('deploy-bot', 'task-1');

      expect(await revokeUnentitledGrants(brokering)).toMatchObject({ revoked: 0 });
      expect(await revokeUnentitledGrants(under(engine, () => ({})))).toMatchObject({ revoked: 1 });
      expect(engine.keys.isLive(keyGrant)).toBe(false);
      expect((await engine.store.get(keyGrant))?.revocation?.reason).toContain(`no longer broker the secret ${secret.arn}`);
    });

    it('revokes an auto-approved grant whose scope now needs a person to approve it', async () => {
      const engine = await writing();
      const approving = under(engine, (policy) => ({
        approvals: { ...policy.approvals, write: { mode: 'manual', approvers: 1, approverGroup: ['cfo@example.com'] } },
      }));

      expect(await revokeUnentitledGrants(approving)).toMatchObject({ revoked: 1 });
      expect((await engine.store.get(grantId))?.revocation?.reason).toContain(
        'now needs 1 approval(s) from people eligible today, and holds 0',
      );
    });

    it("revokes a grant whose TTL is above its agent's lowered maximum", async () => {
      const engine = await writing();
      const shorter = under(engine, (policy) => ({
        agents: { ...policy.agents, 'release-bot': { ...policy.agents['release-bot']!, maxTtlSeconds: 600 } },
      }));

      expect(await revokeUnentitledGrants(shorter)).toMatchObject({ revoked: 1 });
      expect((await engine.store.get(grantId))?.revocation?.reason).toContain('ttlSeconds 900 is above agent "release-bot" maximum of 600');
    });

    it.each<[string, (scope: Scope) => Partial<Scope>]>([
      ['an action added to its statement', () => ({ statements: [{ ...push, Action: ['codecommit:GitPush', 'codecommit:GitPull'] }] })],
      ['a statement added', (scope) => ({ statements: [...scope.statements, { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] })],
      [
        'a label, the order of its keys and a list of one rewritten',
        () => ({ statements: [{ Resource: REPO, Action: 'CodeCommit:GitPush', Effect: 'Allow', Sid: 'Push' }] }),
      ],
      [
        'a secret added',
        () => ({ secrets: [{ arn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:ci-AbCdEf', rotateAfterUse: true }] }),
      ],
      ['nothing changed', () => ({})],
    ])('keeps a grant whose scope had %s', async (_change, edit) => {
      const engine = await writing();
      const published = engine.events.published.length;

      expect(await revokeUnentitledGrants(under(engine, (policy) => editScope(policy, 'repo-write', edit)))).toEqual({
        checked: 1,
        revoked: 0,
        errors: 0,
      });
      expect(engine.sessions.isLive(grantId)).toBe(true);
      expect(engine.events.published.length).toBe(published);
    });

    it('keeps a grant whose Deny was removed, and one whose statement moved to another scope it holds', async () => {
      const engine = fakeEngine();
      const deny: PolicyStatement = { Effect: 'Deny', Action: 'codecommit:DeleteBranch', Resource: REPO };
      const withDeny = {
        ...engine,
        policy: { ...engine.policy, ...editScope(engine.policy, 'repo-read', (scope) => ({ statements: [...scope.statements, deny] })) },
      };
      await startTask(withDeny, taskStarted({ scopes: ['repo-read', 'repo-write'] }));
      const moved = under(engine, (policy) => ({
        scopes: {
          ...policy.scopes,
          'repo-read': { ...policy.scopes['repo-read']!, statements: [...policy.scopes['repo-read']!.statements, push] },
          'repo-write': { ...policy.scopes['repo-write']!, statements: [] },
        },
      }));

      expect(await revokeUnentitledGrants(moved)).toMatchObject({ revoked: 0 });
      expect(engine.sessions.isLive(grantId)).toBe(true);
    });

    it('judges a grant written before scopes were recorded by their names only, as before', async () => {
      const engine = await writing();
      const stored = (await engine.store.get(grantId))!;
      const { scopeDigests: _recorded, ...older } = stored;
      await engine.store.update(stored, { ...older, version: stored.version + 1 });
      const narrowed = under(engine, (policy) => editScope(policy, 'repo-write', () => ({ statements: [] })));

      expect(await revokeUnentitledGrants(narrowed)).toMatchObject({ revoked: 0 });
      expect(engine.sessions.isLive(grantId)).toBe(true);
    });

    it('judges a request still waiting for approval by name only: its decision issues the definition then in force', async () => {
      const engine = fakeEngine();
      await startTask(engine, { ...refundStarted, purpose: 'refund' });
      const narrowed = under(engine, (policy) => editScope(policy, 'refund', () => ({ secrets: [] })));

      expect(await revokeUnentitledGrants(narrowed)).toMatchObject({ revoked: 0 });
      expect((await engine.store.get(grantIdFor('deploy-bot', 'refund-1')))?.state).toBe('pending_approval');
    });
  });
});
