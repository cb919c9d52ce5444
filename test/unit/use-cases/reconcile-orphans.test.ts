import { describe, expect, it } from 'vitest';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';

describe('reconcileOrphans', () => {
  it('removes a delivery and kills a credential that no live grant accounts for, and leaves live ones alone', async () => {
    const { reconcileOrphans } = await import('../../../lambdas/use-cases/reconcile-orphans');
    const engine = fakeEngine();
    const listIssued = async function* () {
      for (const [grantId, record] of engine.keys.issued) if (!record.revokedAt) yield { grantId };
    };
    Object.assign(engine.keys, { listIssued });
    await startTask(engine, taskStarted());
    await startTask(engine, taskStarted({ agentId: 'deploy-bot', taskId: 'keyed', scopes: ['bucket-read-key'] }));
    const keyedGrant = grantIdFor('deploy-bot', 'keyed');
    // The keyed grant's record is lost (say, a table restored from an old backup).
    engine.store.forget(keyedGrant);

    const report = await reconcileOrphans(engine);
    expect(report).toMatchObject({ deliveriesChecked: 2, credentialsChecked: 1, orphans: 2, errors: 0 });
    expect(engine.keys.isLive(keyedGrant)).toBe(false);
    expect(engine.vault.secrets.has('taskbound/deploy-bot/keyed')).toBe(false);
    expect(engine.vault.secrets.has('taskbound/release-bot/task-1')).toBe(true);
    expect(engine.events.of('Orphan Credential Found').map((event) => event.detail.grantId)).toEqual([keyedGrant, keyedGrant]);
  });

  it('removes an empty delivery a crash left before its grant settled, once no live grant accounts for it', async () => {
    const { reconcileOrphans } = await import('../../../lambdas/use-cases/reconcile-orphans');
    const engine = fakeEngine();
    const grantId = grantIdFor('release-bot', 'crashed');
    await engine.vault.prepare!({
      name: 'taskbound/release-bot/crashed',
      grantId,
      agentId: 'release-bot',
      taskId: 'crashed',
      readerArn: 'arn:aws:iam::111122223333:role/runtime',
    });

    const report = await reconcileOrphans(engine);

    expect(report).toMatchObject({ deliveriesChecked: 1, orphans: 1, errors: 0 });
    expect(engine.vault.destroyed).toEqual(['taskbound/release-bot/crashed']);
  });
});
