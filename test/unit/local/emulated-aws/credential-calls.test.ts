import { describe, expect, it } from 'vitest';
import { CredentialCallLog, CredentialCallMemory } from '../../../../lambdas/local/emulated-aws/credential-calls';
import type { AwsRequest } from '../../../../lambdas/local/emulated-aws/protocol';

const ISSUED = 'ASIALOCALISSUED00001';
const request = (accessKeyId: string, extra: Partial<AwsRequest>): AwsRequest => ({
  method: 'POST',
  path: '/',
  query: new URLSearchParams(),
  headers: {},
  body: Buffer.from(''),
  accessKeyId,
  ...extra,
});

describe('the local record of what each credential did', () => {
  const log = () =>
    new CredentialCallLog(
      (key) => key === ISSUED,
      () => new Date('2026-11-28T12:00:00.000Z'),
      2,
    );

  it('records calls made with issued credentials, by operation and outcome, and ignores other keys', async () => {
    const calls = log();
    calls.record(request(ISSUED, { signingService: 'sts', body: Buffer.from('Action=GetCallerIdentity&Version=2011-06-15') }), {
      status: 200,
      body: '',
    });
    calls.record(request(ISSUED, { signingService: 'secretsmanager', target: 'secretsmanager.GetSecretValue' }), {
      status: 400,
      headers: { 'x-amzn-errortype': 'AccessDeniedException' },
      body: '',
    });
    calls.record(request('AKIALOCALTASKBOUND00', { signingService: 'events', target: 'AWSEvents.PutEvents' }), { status: 200, body: '' });

    expect(await calls.callsOf(ISSUED)).toEqual([
      { at: '2026-11-28T12:00:00.000Z', service: 'sts', operation: 'GetCallerIdentity', status: 200 },
      {
        at: '2026-11-28T12:00:00.000Z',
        service: 'secretsmanager',
        operation: 'GetSecretValue',
        status: 400,
        errorCode: 'AccessDeniedException',
      },
    ]);
    expect(await calls.callsOf('AKIALOCALTASKBOUND00')).toEqual([]);
  });

  it('reads the error code of an XML (query protocol) refusal and keeps only the newest calls', async () => {
    const calls = log();
    for (const code of ['A', 'B', 'InvalidClientTokenId']) {
      calls.record(request(ISSUED, { signingService: 'sts', query: new URLSearchParams('Action=GetCallerIdentity') }), {
        status: 403,
        body: `<ErrorResponse><Error><Code>${code}</Code></Error></ErrorResponse>`,
      });
    }
    expect((await calls.callsOf(ISSUED)).map((call) => call.errorCode)).toEqual(['B', 'InvalidClientTokenId']);
  });

  it('forgets the oldest credential first once it holds the most it keeps in memory', async () => {
    const calls = new CredentialCallLog(
      () => true,
      () => new Date('2026-11-28T12:00:00.000Z'),
      10,
      new CredentialCallMemory(10, 2),
    );
    for (const key of ['ASIALOCALKEY00000001', 'ASIALOCALKEY00000002', 'ASIALOCALKEY00000003'])
      calls.record(request(key, { signingService: 'sts', target: 'x.Op' }), { status: 200, body: '' });
    const kept = await Promise.all(
      ['ASIALOCALKEY00000001', 'ASIALOCALKEY00000002', 'ASIALOCALKEY00000003'].map(async (key) => (await calls.callsOf(key)).length),
    );
    expect(kept).toEqual([0, 1, 1]);
  });

  it('answers GET /credential-calls/ID, refuses what is not an access key id, and leaves other paths alone', async () => {
    const calls = log();
    expect(JSON.parse(String((await calls.answer(`/credential-calls/${ISSUED}`))?.body))).toEqual({ accessKeyId: ISSUED, calls: [] });
    expect((await calls.answer('/credential-calls/..%2Fetc'))?.status).toBe(400);
    expect(await calls.answer('/healthz')).toBeUndefined();
  });
});
