import { describe, expect, it } from 'vitest';
import { transition } from '../../../lambdas/domain/grant';
import { InMemoryGrantStore } from '../../helpers/in-memory-grant-store';
import { activeGrant, requestedGrant, revokedGrant } from './cli-harness';

describe('InMemoryGrantStore (the fake the CLI tests and others stand on)', () => {
  it('creates a grant once and returns the existing one after', async () => {
    const store = new InMemoryGrantStore();
    const grant = requestedGrant('release-bot', 't-1');

    expect(await store.create(grant)).toEqual({ created: true, grant });
    expect(await store.create({ ...grant, purpose: 'other' })).toEqual({ created: false, existing: grant });
  });

  it('updates only from the stored version, and reports the current grant on a lost race', async () => {
    const store = new InMemoryGrantStore();
    const requested = requestedGrant('release-bot', 't-1');
    await store.create(requested);
    const issuing = transition(requested, { to: 'issuing', at: '2026-11-28T10:00:01.000Z', actor: 'taskbound', action: 'auto-approved' });
    const denied = transition(requested, { to: 'denied', at: '2026-11-28T10:00:01.000Z', actor: 'taskbound', action: 'denied' });

    expect(await store.update(requested, issuing)).toEqual({ ok: true, grant: issuing });
    expect(await store.update(requested, denied)).toEqual({ ok: false, current: issuing });
    expect(await store.get(requested.grantId)).toEqual(issuing);
  });

  it('fails an update of a grant that was never created', async () => {
    const grant = requestedGrant('release-bot', 't-1');
    expect(await new InMemoryGrantStore().update(grant, grant)).toEqual({ ok: false });
  });

  it('hands out copies, so a caller cannot change what is stored', async () => {
    const store = new InMemoryGrantStore().seed(requestedGrant('release-bot', 't-1'));
    const [grant] = await store.listGrants();
    (grant!.scopes as string[]).push('everything');
    expect((await store.listGrants())[0]?.scopes).toEqual(['repo-read']);
  });

  it('returns grants due by now in due order, and nothing that is settled', async () => {
    const active = activeGrant('release-bot', 't-1', '2026-11-28T10:00:00.000Z'); // expires 10:15
    const verified = revokedGrant(activeGrant('release-bot', 't-2'), {
      noticeAt: '2026-11-28T10:05:00.000Z',
      revokedAfterMs: 100,
      verifiedAfterMs: 100,
    });
    const stuck = requestedGrant('deploy-bot', 't-3', '2026-11-28T10:01:00.000Z'); // due 10:06
    const store = new InMemoryGrantStore().seed(active, verified, stuck);

    expect((await store.dueGrants(new Date('2026-11-28T10:05:00.000Z'))).grants).toEqual([]);
    const page = await store.dueGrants(new Date('2026-11-28T10:20:00.000Z'));
    expect(page.grants.map((grant) => grant.taskId)).toEqual(['t-3', 't-1']);
    expect(page.itemsRead).toBe(2);
    expect((await store.dueGrants(new Date('2026-11-28T10:20:00.000Z'), 1)).grants).toHaveLength(1);
  });

  it('lists an agent grants newest first, live ones only when asked, and counts them', async () => {
    const store = new InMemoryGrantStore().seed(
      activeGrant('release-bot', 'old', '2026-11-28T09:00:00.000Z'),
      revokedGrant(activeGrant('release-bot', 'done', '2026-11-28T09:30:00.000Z'), {
        noticeAt: '2026-11-28T09:40:00.000Z',
        revokedAfterMs: 1,
        verifiedAfterMs: 1,
      }),
      requestedGrant('release-bot', 'new', '2026-11-28T10:00:00.000Z'),
      activeGrant('deploy-bot', 'other'),
    );

    expect((await store.grantsOfAgent('release-bot')).map((grant) => grant.taskId)).toEqual(['new', 'done', 'old']);
    expect((await store.grantsOfAgent('release-bot', { liveOnly: true })).map((grant) => grant.taskId)).toEqual(['new', 'old']);
    expect(await store.countLiveGrants('release-bot')).toBe(2);
    expect((await store.listGrants({ state: 'active', since: new Date('2026-11-28T09:50:00.000Z') })).map((grant) => grant.taskId)).toEqual(
      ['other'],
    );
  });

  it('finds a grant by its access key id, and keeps agents and refused events', async () => {
    const grant = activeGrant('release-bot', 't-1');
    const store = new InMemoryGrantStore().seed(grant);
    expect(await store.findByCredentialId('ASIAEXAMPLE000000001')).toEqual(grant);
    expect(await store.findByCredentialId('ASIAUNKNOWN000000000')).toBeUndefined();

    expect(await store.getAgent('release-bot')).toEqual({ agentId: 'release-bot', suspended: false });
    await store.putAgent({ agentId: 'release-bot', suspended: true, by: 'sre', reason: 'r', at: '2026-11-28T10:00:00.000Z' });
    expect((await store.getAgent('release-bot')).suspended).toBe(true);

    await store.recordRejectedEvent({
      at: '2026-11-28T10:00:00.000Z',
      detailType: 'Task Started',
      source: 's',
      reason: 'bad',
      excerpt: '{}',
    });
    expect(store.rejected).toHaveLength(1);
  });
});
