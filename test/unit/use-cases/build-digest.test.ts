import { describe, expect, it } from 'vitest';
import type { Grant } from '../../../lambdas/domain/grant';
import { buildDigest } from '../../../lambdas/use-cases/build-digest';
import { FakeClock } from '../../helpers/fake-ports';
import { InMemoryGrantStore } from '../../helpers/in-memory-grant-store';
import { requestedGrant } from '../../helpers/grants';

describe('buildDigest', () => {
  it('reports the grants requested in the last `hours`, per agent the grants name, up to now', async () => {
    const store = new InMemoryGrantStore();
    await store.create(requestedGrant({ agentId: 'release-bot', taskId: 'a', at: '2026-11-28T09:00:00.000Z' }));
    await store.create(requestedGrant({ agentId: 'deploy-bot', taskId: 'b', at: '2026-11-28T11:59:00.000Z' }));
    await store.create(requestedGrant({ agentId: 'deploy-bot', taskId: 'old', at: '2026-11-28T05:59:00.000Z' }));

    const report = await buildDigest({ store, clock: new FakeClock() }, 6);

    expect(report.since).toBe('2026-11-28T06:00:00.000Z');
    expect(report.until).toBe('2026-11-28T12:00:00.000Z');
    expect(report.overall.grants.requested).toBe(2);
    expect(report.agents['release-bot']?.grants.requested).toBe(1);
    expect(report.agents['deploy-bot']?.grants.requested).toBe(1);
  });

  it('reports a grant whose audit chain was removed from the table as a broken chain, instead of failing', async () => {
    const store = new InMemoryGrantStore();
    const stripped = { ...requestedGrant({ agentId: 'release-bot', taskId: 'a', at: '2026-11-28T09:00:00.000Z' }), audit: undefined };
    await store.create(stripped as unknown as Grant);

    const report = await buildDigest({ store, clock: new FakeClock() }, 6);

    expect(report.overall.brokenChains).toEqual([expect.objectContaining({ grantId: stripped.grantId, brokenAt: 0 })]);
  });

  it('reports nothing requested over an empty table', async () => {
    const report = await buildDigest({ store: new InMemoryGrantStore(), clock: new FakeClock() }, 24);
    expect(report.overall.grants.requested).toBe(0);
  });
});
