import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { afterEach, describe, expect, it } from 'vitest';
import { cloudTrailCalls, pacer, paceRequests } from '../../../cli/call-records';

/** Two LookupEvents pages shaped as AWS documents the answer and the record (see the fixture's `_comment`). */
const FIXTURE = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/cloudtrail-lookup-events.json'), 'utf8')) as {
  accessKeyId: string;
  grantId: string;
  pages: unknown[];
};
const FROM = new Date('2026-11-30T01:00:00.000Z');
const TO = new Date('2026-11-30T02:00:00.000Z');
const CREDENTIALS = { accessKeyId: 'AKIAOPERATOREXAMPLE0', secretAccessKey: 'operator-secret' };

interface Seen {
  readonly target: string | undefined;
  readonly body: Record<string, unknown>;
  readonly at: number;
}

/** CloudTrail's JSON protocol on loopback: the SDK's real serialization both ways, answers from `answer`. */
async function cloudTrail(answer: (seen: Seen, index: number) => { status: number; body: unknown }, maxAttempts = 1) {
  const seen: Seen[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = {
        target: request.headers['x-amz-target'] as string | undefined,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        at: Date.now(),
      };
      seen.push(entry);
      const { status, body } = answer(entry, seen.length - 1);
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  const client = new CloudTrailClient({ region: 'eu-west-1', endpoint: `http://127.0.0.1:${port}`, credentials: CREDENTIALS, maxAttempts });
  return { seen, client, close: () => new Promise<void>((done) => server.close(() => done())) };
}

describe('cloudTrailCalls', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => close?.());

  it('looks the calls up by access key id, page after page, and keeps name, time, IP, refusal and SourceIdentity', async () => {
    const trail = await cloudTrail((_, index) => ({ status: 200, body: FIXTURE.pages[index] }));
    close = trail.close;

    const answer = await cloudTrailCalls(trail.client)(FIXTURE.accessKeyId, FROM, TO);

    expect(trail.seen.map((s) => s.target)).toEqual(['CloudTrail_20131101.LookupEvents', 'CloudTrail_20131101.LookupEvents']);
    expect(trail.seen[0]?.body).toMatchObject({
      LookupAttributes: [{ AttributeKey: 'AccessKeyId', AttributeValue: FIXTURE.accessKeyId }],
      MaxResults: 50,
    });
    expect(trail.seen[1]?.body).toMatchObject({ NextToken: expect.any(String) });
    expect(answer).toEqual({
      source: 'cloudtrail',
      region: 'eu-west-1',
      truncated: false,
      calls: [
        {
          at: '2026-11-30T01:10:42.000Z',
          service: 'secretsmanager',
          operation: 'GetSecretValue',
          sourceIp: '203.0.113.24',
          userAgent: expect.stringContaining('aws-sdk-js'),
          errorCode: 'AccessDenied',
          sourceIdentity: FIXTURE.grantId,
        },
        expect.objectContaining({ at: '2026-11-30T01:05:17.000Z', operation: 'ListSecrets', sourceIdentity: FIXTURE.grantId }),
      ],
    });
    expect(JSON.stringify(answer)).not.toContain('stripe-key');
  });

  it('says it stopped at the cap rather than pretending the listing is whole', async () => {
    const trail = await cloudTrail(() => ({ status: 200, body: FIXTURE.pages[0] }));
    close = trail.close;

    const answer = await cloudTrailCalls(trail.client, 3)(FIXTURE.accessKeyId, FROM, TO);

    expect(answer).toMatchObject({ source: 'cloudtrail', truncated: true });
    expect(trail.seen).toHaveLength(3);
  });

  it('answers a refusal with what to do next instead of failing the command', async () => {
    const trail = await cloudTrail(() => ({
      status: 400,
      body: { __type: 'AccessDeniedException', message: 'not authorized to perform cloudtrail:LookupEvents' },
    }));
    close = trail.close;

    const answer = await cloudTrailCalls(trail.client)(FIXTURE.accessKeyId, FROM, TO);

    expect(answer).toEqual({
      source: 'unavailable',
      why: 'CloudTrail LookupEvents failed (AccessDeniedException: the caller needs cloudtrail:LookupEvents)',
    });
  });

  it('waits for the pacer before every request it sends, retries included', async () => {
    const order: string[] = [];
    const throttled = { status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } };
    const answer = (index: number) => (index === 0 ? throttled : { status: 200, body: FIXTURE.pages[index - 1] });
    const trail = await cloudTrail((_, index) => (order.push('request'), answer(index)), 2);
    close = trail.close;
    paceRequests(trail.client, async () => void order.push('pace'));

    const calls = await cloudTrailCalls(trail.client)(FIXTURE.accessKeyId, FROM, TO);

    expect(calls).toMatchObject({ source: 'cloudtrail', calls: [expect.anything(), expect.anything()] });
    expect(order).toEqual(['pace', 'request', 'pace', 'request', 'pace', 'request']);
  });
});

describe('pacer', () => {
  it('spaces callers that arrive together one interval apart, in order', async () => {
    let now = 0;
    const waits: number[] = [];
    const pace = pacer(
      500,
      async (ms) => void waits.push(ms),
      () => now,
    );

    await Promise.all([pace(), pace(), pace()]);
    now = 5000;
    await pace();

    expect(waits).toEqual([500, 1000]);
  });
});
