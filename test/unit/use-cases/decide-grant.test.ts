import { describe, expect, it } from 'vitest';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { decideGrant } from '../../../lambdas/use-cases/decide-grant';
import { sweepDueGrants } from '../../../lambdas/use-cases/sweep';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { fakeEngine, refundDecision as decision, refundStarted as transact, taskStarted } from '../../helpers/fake-engine';

describe('decideGrant', () => {
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
