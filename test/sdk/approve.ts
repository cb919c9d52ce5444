// Test helpers (sdk): the one place every SDK test approves or denies a grant: through the local
// engine's operator endpoint, SigV4-signed (service `lambda`) with the key the engine holds for
// the approving person, as `taskbound approve --as PERSON` does.
import type { LocalEngine } from '../../lambdas/local/engine';
import { signedOperatorPost } from '../helpers/signed-operator-post';

export async function approve(engine: LocalEngine, grantId: string, approver: string, reason = 'approved in a test'): Promise<void> {
  const key = engine.operatorCredentials.people[approver];
  if (!key) throw new Error(`the engine holds no operator key for ${approver}`);
  const { body: answer } = await signedOperatorPost(
    engine.operatorUrl,
    key,
    { action: 'approve', grantId, reason },
    {
      region: engine.operatorCredentials.region,
    },
  );
  if (answer.outcome !== 'counted' && answer.outcome !== 'issued')
    throw new Error(`the approval by ${approver} was ${answer.outcome}: ${answer.reason ?? ''}`);
}
