import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { reuseSigner } from '../../../lambdas/composition/reused-signer';
import { verifySigV4 } from '../../../lambdas/local/emulated-aws/sigv4';

const KEYS: Readonly<Record<string, string>> = {
  AKIAFIRSTKEY00000000: 'first-secret-key-of-this-test-00000000000',
  AKIASECONDKEY0000000: 'second-secret-key-of-this-test-0000000000',
};

/** A loopback Secrets Manager that verifies every request's SigV4 signature and records who signed it. */
async function verifyingServer(signedBy: string[]): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, String(value)]));
      const request = { method: req.method ?? 'POST', path: url.pathname, query: url.searchParams, headers, body: Buffer.concat(chunks) };
      void verifySigV4(request, { secretFor: (id) => KEYS[id], now: new Date() }).then((verified) => {
        if (!verified.ok) {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ __type: verified.code }));
          return;
        }
        signedBy.push(verified.auth.accessKeyId);
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ Name: 'canary' }));
      });
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** A client at `url` holding one of KEYS for good. */
const fixedKeyClient = (url: string, accessKeyId: string, extra: { maxAttempts?: number } = {}) =>
  new SecretsManagerClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey: KEYS[accessKeyId]! },
    ...extra,
  });

let running: Server | undefined;
afterEach(() => new Promise<void>((closed) => (running ? running.close(() => closed()) : closed())));

describe('reuseSigner', () => {
  it('builds one signer for a client, and every request it signs still verifies', async () => {
    const signedBy: string[] = [];
    const { server, url } = await verifyingServer(signedBy);
    running = server;
    const accessKeyId = 'AKIAFIRSTKEY00000000';
    const client = fixedKeyClient(url, accessKeyId);
    const build = client.config.signer;
    let built = 0;
    client.config.signer = (authScheme) => {
      built += 1;
      return build(authScheme);
    };
    reuseSigner(client);

    for (let call = 0; call < 3; call += 1) await client.send(new DescribeSecretCommand({ SecretId: 'canary' }));

    expect(built).toBe(1);
    expect(signedBy).toEqual([accessKeyId, accessKeyId, accessKeyId]);
  });

  it('signs with the credentials the client holds at each request, so a refreshed credential is used at once', async () => {
    const signedBy: string[] = [];
    const { server, url } = await verifyingServer(signedBy);
    running = server;
    const issued = ['AKIAFIRSTKEY00000000', 'AKIAFIRSTKEY00000000', 'AKIASECONDKEY0000000'];
    let current = issued[0]!;
    // Each credential expires within the SDK's refresh window, so the client asks its provider again on every request.
    const credentials = async () => ({ accessKeyId: current, secretAccessKey: KEYS[current]!, expiration: new Date(Date.now() + 60_000) });
    const client = reuseSigner(new SecretsManagerClient({ endpoint: url, region: 'us-east-1', credentials }));

    for (const accessKeyId of issued) {
      current = accessKeyId;
      await client.send(new DescribeSecretCommand({ SecretId: 'canary' }));
    }

    expect(signedBy).toEqual(issued);
  });

  it('asks again after a signer could not be built, instead of keeping the failure', async () => {
    const signedBy: string[] = [];
    const { server, url } = await verifyingServer(signedBy);
    running = server;
    const accessKeyId = 'AKIAFIRSTKEY00000000';
    const client = fixedKeyClient(url, accessKeyId, { maxAttempts: 1 });
    const build = client.config.signer;
    let attempts = 0;
    client.config.signer = (authScheme) => (++attempts === 1 ? Promise.reject(new Error('region not resolved yet')) : build(authScheme));
    reuseSigner(client);

    await expect(client.send(new DescribeSecretCommand({ SecretId: 'canary' }))).rejects.toThrow('region not resolved yet');
    await client.send(new DescribeSecretCommand({ SecretId: 'canary' }));

    expect(signedBy).toEqual([accessKeyId]);
  });
});
