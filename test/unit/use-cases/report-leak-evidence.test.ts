// Tests: a leak report's evidence (often the leaked secret itself) never reaches the grant's
// reason, its audit chain or the events the revocation publishes.
import { describe, expect, it } from 'vitest';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { reportLeak } from '../../../lambdas/use-cases/report-leak';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';

describe('reportLeak', () => {
  it('records that evidence was given, never the evidence', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted({ agentId: 'deploy-bot', scopes: ['bucket-read-key'] }));
    const keyId = engine.vault.secrets.get('taskbound/deploy-bot/task-1')!.payload.accessKeyId!;
    const evidence = 'pasted in a gist: aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

    await reportLeak(engine, { credentialId: keyId, reportedBy: 'scanner', evidence });

    const grant = await engine.store.get(grantIdFor('deploy-bot', 'task-1'));
    expect(grant?.revocation?.reason).toBe(`reported leaked by scanner (evidence given, ${evidence.length} characters, not recorded)`);
    expect(JSON.stringify(grant)).not.toContain('wJalrXUtnFEMI');
    expect(JSON.stringify(engine.events.published)).not.toContain('wJalrXUtnFEMI');
  });
});
