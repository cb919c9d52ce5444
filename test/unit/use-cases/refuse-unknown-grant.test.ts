import { describe, expect, it } from 'vitest';
import { refuseUnknownGrant } from '../../../lambdas/use-cases/refuse-unknown-grant';
import { fakeEngine } from '../../helpers/fake-engine';

const GRANT_ID = 'g-aaaaaaaaaaaaaaaaaaaaaaaaaa';

describe('refuseUnknownGrant', () => {
  it('records a decision on a grant that does not exist and answers it with Grant Decision Refused', async () => {
    const engine = fakeEngine();
    const result = await refuseUnknownGrant(engine, {
      detailType: 'Grant Decision',
      source: 'taskbound.cli',
      eventId: 'evt-2',
      grantId: GRANT_ID,
      by: 'lead@example.com',
    });

    const reason = `Grant Decision by lead@example.com names grant ${GRANT_ID}, which does not exist`;
    expect(result).toEqual({ outcome: 'not-found', reason });
    expect(engine.store.rejected).toEqual([
      {
        at: '2026-11-28T12:00:00.000Z',
        detailType: 'Grant Decision',
        source: 'taskbound.cli',
        reason,
        eventId: 'evt-2',
        excerpt: `{"grantId":"${GRANT_ID}","by":"lead@example.com"}`,
      },
    ]);
    expect(engine.events.of('Grant Decision Refused')[0]?.detail).toMatchObject({
      grantId: GRANT_ID,
      agentId: 'unknown',
      taskId: 'unknown',
      reason,
    });
  });

  it('records a manual revocation of nothing, and has nothing to say on the bus', async () => {
    const engine = fakeEngine();
    await refuseUnknownGrant(engine, {
      detailType: 'Grant Revocation Requested',
      source: 'taskbound.cli',
      grantId: GRANT_ID,
      by: 'secops@example.com',
    });
    expect(engine.store.rejected).toHaveLength(1);
    expect(engine.events.published).toEqual([]);
  });
});
