// Tests: the local operator endpoint refuses a body over the server's limit as it refuses any other
// request: it says why, records the refusal (with the body's size, never the body) and does nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsProtocolServer, type RunningServer } from '../../../../lambdas/local/emulated-aws/aws-protocol-server';
import { createOperatorService } from '../../../../lambdas/local/host/operator-service';
import type { OperatorKeyring } from '../../../../lambdas/local/host/operator-credentials';
import { fakeEngine } from '../../../helpers/fake-engine';
import { signedOperatorPost } from '../../../helpers/signed-operator-post';

const LIMIT = 4096;
const LEAD = { accessKeyId: 'AKIAOPERATORLEAD0001', secretAccessKey: 'operator-secret-of-lead-0000000000000000' };

describe('the local operator endpoint, for a body over the server limit', () => {
  const engine = fakeEngine();
  const keyring: OperatorKeyring = {
    credentials: { people: {} },
    personOf: (accessKeyId: string) =>
      accessKeyId === LEAD.accessKeyId ? { person: 'lead@example.com', secretAccessKey: LEAD.secretAccessKey } : undefined,
  } as unknown as OperatorKeyring;
  let server: RunningServer;
  beforeAll(async () => {
    server = await startAwsProtocolServer({
      services: [createOperatorService({ keyring, deps: () => engine, signatureClock: { now: () => new Date() } })],
      maxBodyBytes: LIMIT,
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('refuses it with the reason and records the refusal with its size and claimed key, never the body', async () => {
    const marker = 'PASTED-INTO-THE-BODY';
    const answer = await signedOperatorPost(`${server.url}/operator`, LEAD, {
      action: 'approve',
      grantId: 'g-abcdefghijklmnopqrstuvwxyz',
      reason: `${marker} ${'x'.repeat(LIMIT)}`,
    });

    expect(answer).toEqual({
      status: 413,
      body: {
        outcome: 'refused',
        reason: expect.stringMatching(/^request body is \d+ bytes, over the local operator endpoint's limit of 4096 bytes/),
      },
    });
    expect(engine.store.rejected).toEqual([
      {
        at: expect.any(String),
        detailType: 'Operator Request',
        source: 'operator-endpoint',
        reason: answer.body.reason,
        excerpt: expect.stringContaining(`"principal":"${LEAD.accessKeyId} (claimed, not verified)"`),
      },
    ]);
    expect(engine.store.rejected[0]?.excerpt).toMatch(/"bodyBytes":\d{4,}/);
    expect(JSON.stringify(engine.store.rejected)).not.toContain(marker);
    expect(engine.events.published).toEqual([]);
  });

  it('still answers a body within the limit as before', async () => {
    const answer = await signedOperatorPost(`${server.url}/operator`, LEAD, 'not json');
    expect(answer).toEqual({ status: 400, body: { outcome: 'refused', reason: 'request body is not JSON', person: 'lead@example.com' } });
  });
});
