import { describe, expect, it, vi } from 'vitest';
import { LastWritten } from '../../../../lambdas/adapters/local/last-written';
import { RememberingGrantStore } from '../../../../lambdas/adapters/local/remembering-grant-store';
import { RememberingDeliveryVault } from '../../../../lambdas/adapters/local/remembering-delivery-vault';
import { startTask } from '../../../../lambdas/use-cases/start-task';
import { endTask } from '../../../../lambdas/use-cases/end-task';
import { revokeGrant } from '../../../../lambdas/use-cases/revoke-grant';
import { grantIdFor } from '../../../../lambdas/domain/ids';
import { verifyChain } from '../../../../lambdas/domain/audit';
import type { Delivery } from '../../../../lambdas/ports';
import { fakeEngine, taskStarted } from '../../../helpers/fake-engine';
import { FakeVault } from '../../../helpers/fake-ports';

const GRANT_ID = grantIdFor('release-bot', 'task-1');
const DELIVERY = 'taskbound/release-bot/task-1';
const ended = { agentId: 'release-bot', taskId: 'task-1', outcome: 'succeeded' as const };

/** A fake engine whose store and vault remember, as the local engine's do; `inner` is what they wrap. */
function rememberingEngine() {
  const inner = fakeEngine();
  const store = new RememberingGrantStore(inner.store);
  const vault = new RememberingDeliveryVault(inner.vault);
  return { inner, engine: { ...inner, store, vault } };
}

describe('LastWritten', () => {
  it('forgets the least recently written key past its capacity', () => {
    const memory = new LastWritten<number>(2);
    memory.remember('a', 1);
    memory.remember('b', 2);
    memory.remember('a', 3);
    memory.remember('c', 4);

    expect(memory.recall('a')).toBe(3);
    expect(memory.recall('b')).toBeUndefined();
    expect(memory.recall('c')).toBe(4);
    expect(memory.size).toBe(2);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new LastWritten(0)).toThrow(RangeError);
  });
});

describe('RememberingGrantStore and RememberingDeliveryVault', () => {
  it('revoke a task issued by this process without reading its grant or its delivery back', async () => {
    const { inner, engine } = rememberingEngine();
    await startTask(engine, taskStarted());
    const reads = vi.spyOn(inner.store, 'get');
    const deliveryReads = vi.spyOn(inner.vault, 'read');

    const result = await endTask(engine, ended);

    expect(result.outcome).toBe('verified');
    expect(reads).not.toHaveBeenCalled();
    expect(deliveryReads).not.toHaveBeenCalled();
    expect(inner.sessions.isLive(GRANT_ID)).toBe(false);
    expect(inner.vault.secrets.has(DELIVERY)).toBe(false);
  });

  it('forget a grant once it is finished, and a delivery once it is destroyed', async () => {
    const { engine } = rememberingEngine();
    await startTask(engine, taskStarted());
    expect(engine.store.recent(GRANT_ID)?.state).toBe('active');

    await endTask(engine, ended);

    expect(engine.store.recent(GRANT_ID)).toBeUndefined();
    expect(await engine.vault.read(DELIVERY)).toBeUndefined();
  });

  it('a stale copy costs a refused write and a read, never a wrong record: another process revoked the grant meanwhile', async () => {
    const { inner, engine } = rememberingEngine();
    await startTask(engine, taskStarted());
    // Another process (here: the unwrapped store) revokes it for a leak; this one still remembers it `active`.
    const leak = await revokeGrant(inner, GRANT_ID, {
      trigger: 'leaked',
      by: 'scanner',
      reason: 'found in a log',
      noticeAt: inner.clock.now().toISOString(),
    });
    expect(leak.outcome).toBe('verified');
    expect(engine.store.recent(GRANT_ID)?.state).toBe('active');
    const stored = await inner.store.get(GRANT_ID);

    const result = await endTask(engine, ended);

    expect(result.outcome).toBe('already-revoked');
    const after = await inner.store.get(GRANT_ID);
    expect(after).toEqual(stored);
    expect(after?.revocation?.trigger).toBe('leaked');
    expect(verifyChain(GRANT_ID, after!.audit)).toEqual({ ok: true });
    expect(engine.store.recent(GRANT_ID)).toBeUndefined();
  });

  it('read the delivery from the vault when its write failed: the secret alone knows what it holds', async () => {
    const inner = new FakeVault();
    const vault = new RememberingDeliveryVault(inner);
    const delivery: Delivery = {
      name: DELIVERY,
      grantId: GRANT_ID,
      agentId: 'release-bot',
      taskId: 'task-1',
      readerArn: 'arn:aws:iam::111122223333:role/release-bot',
      payload: { status: 'pending_approval', grantId: GRANT_ID, scopes: ['repo-read'] },
    };
    await vault.deliver(delivery);
    vi.spyOn(inner, 'deliver').mockRejectedValueOnce(new Error('timed out'));
    await expect(vault.deliver({ ...delivery, payload: { ...delivery.payload, status: 'denied', reason: 'no' } })).rejects.toThrow(
      'timed out',
    );
    const reads = vi.spyOn(inner, 'read');

    expect(await vault.read(DELIVERY)).toEqual(delivery.payload);
    expect(reads).toHaveBeenCalledOnce();
  });

  it('answer a batch read from memory for what it delivered, and ask the vault only for the rest', async () => {
    const inner = Object.assign(new FakeVault(), {
      readMany: vi.fn(async (names: readonly string[]) => new Map(names.map((name) => [name, undefined] as const))),
    });
    const vault = new RememberingDeliveryVault(inner);
    const payload = { status: 'pending_approval' as const, grantId: GRANT_ID, scopes: ['repo-read'] };
    await vault.deliver({
      name: DELIVERY,
      grantId: GRANT_ID,
      agentId: 'release-bot',
      taskId: 'task-1',
      readerArn: 'arn:aws:iam::111122223333:role/r',
      payload,
    });

    const answered = await vault.readMany!([DELIVERY, 'taskbound/release-bot/other']);

    expect(answered.get(DELIVERY)).toEqual(payload);
    expect(answered.has('taskbound/release-bot/other')).toBe(true);
    expect(inner.readMany).toHaveBeenCalledExactlyOnceWith(['taskbound/release-bot/other']);
  });
});
