// Tests: the local engine answers only requests naming a loopback host with its own port, so a
// DNS-rebinding web page in the developer's browser cannot read deliveries.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackHost, startAwsProtocolServer, type RunningServer } from '../../../../lambdas/local/emulated-aws/aws-protocol-server';

/** A raw request with the given Host header, over a real loopback socket (a GET unless other headers say more). */
function get(
  port: number,
  host: string,
  path = '/healthz',
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const method = headers['content-type'] ? 'POST' : 'GET';
    const req = request({ host: '127.0.0.1', port, path, method, headers: { ...headers, host } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('local engine Host header check', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startAwsProtocolServer({ services: [], health: () => ({ ready: true }) });
  });
  afterAll(async () => {
    await server.close();
  });

  it.each(['127.0.0.1', 'localhost', 'LOCALHOST', '127.0.0.2', '[::1]'])("answers a request to %s with the engine's port", async (name) => {
    const response = await get(server.port, `${name}:${server.port}`);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ ready: true });
  });

  it.each([
    ['a rebound domain name', 'evil.example'],
    ["a domain under localhost's name", 'localhost.evil.example'],
    ['a private address', '192.168.1.10'],
  ])('refuses %s with 403, before any service sees it', async (_what, name) => {
    const response = await get(server.port, `${name}:${server.port}`);
    expect(response.status).toBe(403);
    expect(response.body).toContain('loopback address with its port');
  });

  it('refuses an STS (query protocol) caller in XML, so botocore names the refusal instead of failing to parse JSON', async () => {
    const response = await get(server.port, `evil.example:${server.port}`, '/', { 'content-type': 'application/x-www-form-urlencoded' });

    expect(response.status).toBe(403);
    expect(response.body).toMatch(
      /^<ErrorResponse><Error><Type>Sender<\/Type><Code>AccessDenied<\/Code><Message>The local engine answers only/,
    );
  });

  it('refuses a loopback name without the port or with another port', async () => {
    expect((await get(server.port, '127.0.0.1')).status).toBe(403);
    expect((await get(server.port, `127.0.0.1:${server.port + 1}`)).status).toBe(403);
  });

  it('accepts only well-formed loopback hosts', () => {
    expect(isLoopbackHost(undefined, 4010)).toBe(false);
    expect(isLoopbackHost('127.0.0.1:4010', 4010)).toBe(true);
    expect(isLoopbackHost('127.0.0.1.evil.example:4010', 4010)).toBe(false);
  });
});
