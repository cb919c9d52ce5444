import { describe, expect, it } from 'vitest';
import { releaseStaleSlots, SLOT_GRACE_MS } from '../../../lambdas/use-cases/release-stale-slots';
import { fakeEngine } from '../../helpers/fake-engine';
import { activeGrant, FIXTURE_TIME, verifiedGrant } from '../../helpers/grants';

const before = (ms: number) => new Date(Date.parse(FIXTURE_TIME) - ms).toISOString();

describe('releaseStaleSlots', () => {
  it('frees a slot older than the grace period whose grant is no longer live, or was never written', async () => {
    const engine = fakeEngine();
    const ended = verifiedGrant({ agentId: 'release-bot', taskId: 'ended' });
    await engine.store.create(ended);
    engine.store
      .holdSlot('release-bot', ended.grantId, 0, before(SLOT_GRACE_MS + 1))
      .holdSlot('release-bot', 'g-bbbbbbbbbbbbbbbbbbbbbbbbbb', 1, before(SLOT_GRACE_MS + 1));

    expect(await releaseStaleSlots(engine)).toBe(2);
    expect(await engine.store.slotHolders('release-bot')).toEqual([]);
  });

  it('keeps a live grant’s slot however old, and a young slot whose grant is still being written', async () => {
    const engine = fakeEngine();
    const live = activeGrant({ agentId: 'release-bot', taskId: 'live' });
    await engine.store.create(live);
    engine.store
      .holdSlot('release-bot', live.grantId, 0, before(60 * 60_000))
      .holdSlot('release-bot', 'g-cccccccccccccccccccccccccc', 1, before(SLOT_GRACE_MS - 1000));

    expect(await releaseStaleSlots(engine)).toBe(0);
    expect((await engine.store.slotHolders('release-bot')).map((holder) => holder.grantId).sort()).toEqual(
      [live.grantId, 'g-cccccccccccccccccccccccccc'].sort(),
    );
  });
});
