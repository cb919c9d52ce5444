import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { operatorGateway } from '../../../cli/operator';
import { UsageError } from '../../../cli/context';
import { verifySigV4 } from '../../../lambdas/local/emulated-aws/sigv4';

const KEY = { accessKeyId: 'AKIAOPERATORTEST0001', secretAccessKey: 'operator-test-secret-key-0000000000000000' };
const REQUEST = { action: 'approve' as const, grantId: 'g-abcdefghijklmnopqrstuvwxyz', reason: 'ok' };

/** A stand-in for the function URL: answers `reply`, and keeps what it received. */
async function endpoint(reply: { status: number; body: string }) {
  const received: { request: IncomingMessage; body: Buffer }[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ request, body: Buffer.concat(chunks) });
      response.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url, received, close: () => new Promise<void>((done) => server.close(() => done())) };
}

describe('operatorGateway', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('signs with the default credential chain for service lambda in the given region, and reads the answer', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', KEY.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', KEY.secretAccessKey);
    const server = await endpoint({ status: 200, body: JSON.stringify({ outcome: 'counted', remaining: 1, person: 'lead@example.com' }) });
    try {
      const reply = await operatorGateway({}).send(REQUEST, { operatorUrl: server.url, region: 'eu-west-1' });
      expect(reply).toEqual({ status: 200, body: { outcome: 'counted', remaining: 1, person: 'lead@example.com' } });
      const [{ request, body }] = server.received as [{ request: IncomingMessage; body: Buffer }];
      expect(JSON.parse(body.toString('utf8'))).toEqual(REQUEST);
      expect(request.headers.authorization).toMatch(/Credential=AKIAOPERATORTEST0001\/\d{8}\/eu-west-1\/lambda\/aws4_request/);
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)]));
      const verified = await verifySigV4(
        { method: 'POST', path: '/', query: new URLSearchParams(), headers, body },
        { now: new Date(), secretFor: (id) => (id === KEY.accessKeyId ? KEY.secretAccessKey : undefined) },
      );
      expect(verified.ok).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('says a request the endpoint took but never answered may have been recorded, and where to look', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', KEY.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', KEY.secretAccessKey);
    // The engine dies mid-call: the request arrives whole, the connection drops without an answer.
    const server: Server = createServer((request) => request.resume().on('end', () => request.socket.destroy()));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      await expect(operatorGateway({}).send(REQUEST, { operatorUrl: url })).rejects.toThrow(
        /did not answer \(\w+\): the request may or may not have been recorded; check with `taskbound grants show`/,
      );
    } finally {
      await new Promise<void>((done) => server.close(() => done()));
    }
  });

  it('leaves a refused connection (nothing listens, nothing was sent) to the CLI’s hint to start the engine', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', KEY.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', KEY.secretAccessKey);
    const server = await endpoint({ status: 200, body: '{}' });
    await server.close();

    await expect(operatorGateway({}).send(REQUEST, { operatorUrl: server.url })).rejects.toThrow(/^fetch failed$/);
  });

  it('turns AWS’s own refusal (IAM said no before the function ran) into a refusal with its words', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', KEY.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', KEY.secretAccessKey);
    const server = await endpoint({ status: 403, body: '{"Message":"Forbidden"}' });
    try {
      expect(await operatorGateway({}).send(REQUEST, { operatorUrl: server.url })).toEqual({
        status: 403,
        body: { outcome: 'refused', reason: 'HTTP 403: Forbidden' },
      });
    } finally {
      await server.close();
    }
  });

  it('says where to find the endpoint when none is given, and refuses --as without the local engine’s keys', async () => {
    await expect(operatorGateway({}).send(REQUEST, {})).rejects.toThrow(
      /--operator-url URL or set TASKBOUND_OPERATOR_URL \(the stack output OperatorUrl\)/,
    );
    await expect(operatorGateway({}).send(REQUEST, { as: 'lead@example.com', dataDir: '/nonexistent/taskbound' })).rejects.toBeInstanceOf(
      UsageError,
    );
  });
});
