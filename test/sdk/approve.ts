// Test helpers (sdk): the one place every SDK test approves or denies a grant: through the local
// engine's operator endpoint, SigV4-signed (service `lambda`) with the key the engine holds for
// the approving person, as `taskbound approve --as PERSON` does.
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../lambdas/adapters/aws/node-sha256';
import type { LocalEngine } from '../../lambdas/local/engine';

export async function approve(engine: LocalEngine, grantId: string, approver: string, reason = 'approved in a test'): Promise<void> {
  const key = engine.operatorCredentials.people[approver];
  if (!key) throw new Error(`the engine holds no operator key for ${approver}`);
  const url = new URL(engine.operatorUrl);
  const body = JSON.stringify({ action: 'approve', grantId, reason });
  const signer = new SignatureV4({ credentials: key, region: engine.operatorCredentials.region, service: 'lambda', sha256: NodeSha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    headers: { host: url.host, 'content-type': 'application/json' },
    body,
  });
  const { host: _host, ...headers } = signed.headers;
  const answer = (await (await fetch(url, { method: 'POST', headers, body })).json()) as { outcome: string; reason?: string };
  if (answer.outcome !== 'counted' && answer.outcome !== 'issued')
    throw new Error(`the approval by ${approver} was ${answer.outcome}: ${answer.reason ?? ''}`);
}
