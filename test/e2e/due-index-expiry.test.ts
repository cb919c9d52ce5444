// The `due-index` expiry mode end to end: no timer per grant; readers of the due index's shards,
// run through the expire-grant handler every interval, expire each grant once its TTL has passed
// and the revocation is verified, as with a schedule.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SteppingClock } from '../helpers/stepping-clock';
import { startHarness, type Harness } from './local-engine';

const INTERVAL_MS = 300;

describe('expiry from the due index against the local engine', () => {
  let h: Harness;
  const clock = new SteppingClock();

  beforeAll(async () => {
    h = await startHarness({ expiry: 'due-index', dueIndexIntervalMs: INTERVAL_MS, clock });
  });
  afterAll(async () => h?.stop());

  it('expires a grant within an interval of its TTL passing (no timer is armed: a timer would wait the real 60 s), and leaves unexpired grants alone', async () => {
    const start = (taskId: string, scopes: string[], ttlSeconds: number) =>
      h.runtime.startTask({ agentId: 'ops-bot', taskId, purpose: 'nightly report', requestedBy: 'dev@example.com', scopes, ttlSeconds });
    await start('due-key', ['reports-upload-key'], 60);
    await start('due-later', ['reports-upload-key'], 600);
    await h.waitForGrant('ops-bot', 'due-key', ['active']);
    const later = await h.waitForGrant('ops-bot', 'due-later', ['active']);

    // Several reads pass while nothing is due.
    await new Promise((done) => setTimeout(done, 3 * INTERVAL_MS));
    expect((await h.waitForGrant('ops-bot', 'due-key', ['active'])).state).toBe('active');

    clock.advance(61_000);
    const expired = await h.waitForGrant('ops-bot', 'due-key', ['verified'], 10_000);
    expect(expired.revocation).toMatchObject({ trigger: 'expired', reason: 'TTL of 60 s elapsed' });
    // Found by a reader (the sweep is off, and its reason would differ), never before the expiry. How late
    // is a measurement, not a test's bound: `npm run bench:modes` reports it (a wall-clock bound failed on a loaded machine).
    expect(Date.parse(expired.revokedAt!)).toBeGreaterThanOrEqual(Date.parse(expired.expiresAt!));
    expect((await h.grants.get(later.grantId))?.state).toBe('active');
  });
});
