import { describe, expect, it } from 'vitest';
import { announceDenial, deliverStatus, prepareDelivery } from '../../../lambdas/use-cases/deliver-status';
import { outbound } from '../../../lambdas/use-cases/outbound';
import { fakeEngine } from '../../helpers/fake-engine';
import { requestedGrant } from '../../helpers/grants';

const RUNTIME = 'arn:aws:iam::111122223333:role/agent-runtime';

describe('deliverStatus', () => {
  it('writes what the runtime polls to the task’s delivery, readable by its runtime alone, with the grant’s id and scopes', async () => {
    const engine = fakeEngine();
    const grant = requestedGrant({ agentId: 'release-bot', taskId: 'bump-lodash' });

    await deliverStatus(engine, grant, RUNTIME, { status: 'pending_approval' }, '2026-11-28T12:15:00.000Z');

    expect([...engine.vault.secrets.values()]).toEqual([
      {
        name: 'taskbound/release-bot/bump-lodash',
        grantId: grant.grantId,
        agentId: 'release-bot',
        taskId: 'bump-lodash',
        readerArn: RUNTIME,
        expiresAt: '2026-11-28T12:15:00.000Z',
        payload: { status: 'pending_approval', grantId: grant.grantId, scopes: ['repo-read'] },
      },
    ]);
  });
});

describe('deliverStatus after prepareDelivery', () => {
  const NAME = 'taskbound/release-bot/bump-lodash';
  const ASKED = '2026-11-28T12:15:00.250Z';

  it('writes only the value when the credential expires when asked, to the second STS states it in', async () => {
    const engine = fakeEngine();
    const grant = requestedGrant({ agentId: 'release-bot', taskId: 'bump-lodash' });

    const prepared = prepareDelivery(engine, grant, RUNTIME, ASKED);
    await deliverStatus(engine, grant, RUNTIME, { status: 'issued' }, '2026-11-28T12:15:00.000Z', { prepared });

    expect(engine.vault.calls).toEqual([`prepare ${NAME}`, `write ${NAME}`]);
  });

  it('prepares again, re-tagging the expiry, when the credential expires sooner than asked', async () => {
    const engine = fakeEngine();
    const grant = requestedGrant({ agentId: 'release-bot', taskId: 'bump-lodash' });

    const prepared = prepareDelivery(engine, grant, RUNTIME, ASKED);
    await deliverStatus(engine, grant, RUNTIME, { status: 'issued' }, '2026-11-28T12:10:00.000Z', { prepared });

    expect(engine.vault.calls).toEqual([`prepare ${NAME}`, `deliver ${NAME}`]);
    expect(engine.vault.secrets.get(NAME)?.expiresAt).toBe('2026-11-28T12:10:00.000Z');
  });
});

describe('announceDenial', () => {
  it('tells a registered runtime waiting on its delivery, and says it on the bus after the events still to publish', async () => {
    const engine = fakeEngine();
    const grant = {
      ...requestedGrant({ agentId: 'release-bot', taskId: 'bump-react' }),
      deliverySecret: 'taskbound/release-bot/bump-react',
    };

    const earlier = [outbound('Grant Requested', grant, '2026-11-28T12:00:00.000Z')];

    await announceDenial(engine, grant, 'denied by lead@example.com', '2026-11-28T12:01:00.000Z', earlier);

    expect(await engine.vault.read('taskbound/release-bot/bump-react')).toEqual({
      status: 'denied',
      reason: 'denied by lead@example.com',
      grantId: grant.grantId,
      scopes: ['repo-read'],
    });
    expect(engine.events.types()).toEqual(['Grant Requested', 'Grant Denied']);
    expect(engine.events.of('Grant Denied')[0]?.detail).toMatchObject({ grantId: grant.grantId, reason: 'denied by lead@example.com' });
  });

  it('writes no delivery for a grant that has none (nobody polls it), and still says it on the bus', async () => {
    const engine = fakeEngine();
    const grant = requestedGrant({ agentId: 'release-bot', taskId: 'no-delivery' });

    await announceDenial(engine, grant, 'outside policy', '2026-11-28T12:01:00.000Z');

    expect(engine.vault.secrets.size).toBe(0);
    expect(engine.events.types()).toEqual(['Grant Denied']);
  });
});
