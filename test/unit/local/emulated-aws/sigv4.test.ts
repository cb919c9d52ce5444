import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AwsRequest } from '../../../../lambdas/local/emulated-aws/protocol';
import { NodeSha256, verifySigV4 } from '../../../../lambdas/local/emulated-aws/sigv4';

const SUITE = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const SUITE_TIME = new Date('2015-08-30T12:36:00Z');
const secretFor = (accessKeyId: string) => (accessKeyId === SUITE.accessKeyId ? SUITE.secretAccessKey : undefined);

/** A request exactly as the AWS SigV4 test suite writes it: signed headers only, no body hash header. */
function suiteRequest(method: string, authorization: string, query = ''): AwsRequest {
  return {
    method,
    path: '/',
    query: new URLSearchParams(query),
    headers: { host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z', authorization },
    body: Buffer.alloc(0),
  };
}

const suiteAuthorization = (signature: string) =>
  `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`;

interface Unsigned {
  readonly method?: string;
  readonly path?: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

async function signed(
  request: Unsigned,
  options: { signingDate?: Date; sessionToken?: string; secret?: string; declarePayloadHash?: boolean } = {},
): Promise<AwsRequest> {
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: SUITE.accessKeyId,
      secretAccessKey: options.secret ?? SUITE.secretAccessKey,
      ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
    },
    region: 'us-east-1',
    service: 'sts',
    sha256: NodeSha256,
    applyChecksum: options.declarePayloadHash ?? true,
  });
  const body = request.body ?? '';
  const result = await signer.sign(
    {
      method: request.method ?? 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: request.path ?? '/',
      query: request.query ?? {},
      headers: { host: '127.0.0.1:4010', 'content-type': 'application/x-www-form-urlencoded', ...request.headers },
      body,
    },
    { signingDate: options.signingDate ?? SUITE_TIME },
  );
  return toAwsRequest(result.headers, request.path ?? '/', result.query as Record<string, string>, body);
}

function toAwsRequest(
  headers: Record<string, string>,
  path: string,
  query: Record<string, string>,
  body: string,
  method = 'POST',
): AwsRequest {
  const lowered = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { method, path, query: new URLSearchParams(query), headers: lowered, body: Buffer.from(body) };
}

describe('verifySigV4', () => {
  it('accepts the AWS SigV4 test suite get-vanilla, post-vanilla and query-order requests', async () => {
    const vectors = [
      suiteRequest('GET', suiteAuthorization('5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31')),
      suiteRequest('POST', suiteAuthorization('5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b')),
      suiteRequest(
        'GET',
        suiteAuthorization('b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500'),
        'Param2=value2&Param1=value1',
      ),
    ];
    for (const request of vectors) {
      expect(await verifySigV4(request, { secretFor, now: SUITE_TIME })).toMatchObject({
        ok: true,
        auth: { service: 'service', region: 'us-east-1' },
      });
    }
  });

  it('refuses a test suite signature over a different method', async () => {
    const request = suiteRequest('DELETE', suiteAuthorization('5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'));
    expect(await verifySigV4(request, { secretFor, now: SUITE_TIME })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
  });

  it('accepts any request it signed, whatever its body, path and query', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string(),
        fc.stringMatching(/^\/[A-Za-z0-9._~-]{0,20}$/),
        fc.dictionary(fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,8}$/), fc.string()),
        async (body, path, query) => {
          const request = await signed({ body, path, query });
          expect(await verifySigV4(request, { secretFor, now: SUITE_TIME })).toMatchObject({ ok: true });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reads the session token the request carries', async () => {
    const request = await signed({ body: 'Action=GetCallerIdentity' }, { sessionToken: 'token-value' });
    expect(await verifySigV4(request, { secretFor, now: SUITE_TIME })).toMatchObject({ ok: true, auth: { sessionToken: 'token-value' } });
  });

  it('refuses a body changed after signing', async () => {
    const request = await signed({ body: 'Action=GetCallerIdentity&Version=2011-06-15' });
    const tampered = { ...request, body: Buffer.from('Action=AssumeRole&Version=2011-06-15') };
    expect(await verifySigV4(tampered, { secretFor, now: SUITE_TIME })).toEqual({
      ok: false,
      code: 'SignatureDoesNotMatch',
      message: expect.stringMatching(/^The request signature we calculated does not match/),
    });
  });

  it('refuses a body changed after signing when no payload hash was declared', async () => {
    const request = await signed({ body: 'Action=GetCallerIdentity&Version=2011-06-15' }, { declarePayloadHash: false });
    const tampered = { ...request, body: Buffer.from('Action=AssumeRole&Version=2011-06-15') };
    expect(request.headers['x-amz-content-sha256']).toBeUndefined();
    expect(await verifySigV4(request, { secretFor, now: SUITE_TIME })).toMatchObject({ ok: true });
    expect(await verifySigV4(tampered, { secretFor, now: SUITE_TIME })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
  });

  it('refuses a declared payload hash that is not the hash of the body', async () => {
    const request = await signed({ body: 'Action=GetCallerIdentity', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    expect(await verifySigV4(request, { secretFor, now: SUITE_TIME })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
  });

  it('refuses a signature made with another secret key', async () => {
    const request = await signed({ body: 'Action=GetCallerIdentity' }, { secret: 'not-the-secret-key-at-all-0000000000000000' });
    expect(await verifySigV4(request, { secretFor, now: SUITE_TIME })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
  });

  it('refuses a signed header changed after signing', async () => {
    const request = await signed({ body: 'Action=GetCallerIdentity' });
    const moved = { ...request, headers: { ...request.headers, host: 'other.example.com' } };
    expect(await verifySigV4(moved, { secretFor, now: SUITE_TIME })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
  });

  it('calls an unknown access key an invalid client token', async () => {
    const request = await signed({ body: 'Action=GetCallerIdentity' });
    expect(await verifySigV4(request, { secretFor: () => undefined, now: SUITE_TIME })).toEqual({
      ok: false,
      code: 'InvalidClientTokenId',
      message: 'The security token included in the request is invalid.',
    });
  });

  it('refuses a request signed more than 15 minutes ago as an expired signature', async () => {
    const request = await signed({ body: 'Action=GetCallerIdentity' });
    const now = new Date(SUITE_TIME.getTime() + 15 * 60_000 + 1000);
    expect(await verifySigV4(request, { secretFor, now })).toEqual({
      ok: false,
      code: 'SignatureDoesNotMatch',
      message: 'Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)',
    });
  });

  it('accepts a request signed just under 15 minutes ago', async () => {
    const request = await signed({ body: 'Action=GetCallerIdentity' });
    const now = new Date(SUITE_TIME.getTime() + 14 * 60_000);
    expect(await verifySigV4(request, { secretFor, now })).toMatchObject({ ok: true });
  });

  it('refuses a request signed more than 15 minutes in the future', async () => {
    const request = await signed({ body: 'Action=GetCallerIdentity' });
    const now = new Date(SUITE_TIME.getTime() - 16 * 60_000);
    expect(await verifySigV4(request, { secretFor, now })).toMatchObject({
      ok: false,
      code: 'SignatureDoesNotMatch',
      message: expect.stringMatching(/^Signature not yet current: 20150830T123600Z is still later than/),
    });
  });

  it.each([
    [
      'no Signature',
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date',
      /requires 'Signature'/,
    ],
    ['no Credential', `AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`, /requires 'Credential'/],
    [
      'a scope without its terminator',
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
      /Credential should be scoped/,
    ],
    [
      'host not signed',
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, SignedHeaders=x-amz-date, Signature=${'0'.repeat(64)}`,
      /'Host' .* must be a 'SignedHeader'/,
    ],
    [
      'another algorithm',
      `AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20150830/sts/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`,
      /Unsupported AWS 'algorithm'/,
    ],
  ])('calls an Authorization header with %s an incomplete signature', async (_case, authorization, message) => {
    const request = suiteRequest('POST', authorization);
    expect(await verifySigV4(request, { secretFor, now: SUITE_TIME })).toMatchObject({
      ok: false,
      code: 'IncompleteSignature',
      message: expect.stringMatching(message),
    });
  });

  it('calls a request without X-Amz-Date an incomplete signature', async () => {
    const request = await signed({ body: 'Action=GetCallerIdentity' });
    const { 'x-amz-date': _date, ...headers } = request.headers;
    expect(await verifySigV4({ ...request, headers }, { secretFor, now: SUITE_TIME })).toMatchObject({
      ok: false,
      code: 'IncompleteSignature',
    });
  });

  it('does not take a presigned URL (nothing local presigns): no Authorization header is an incomplete signature', async () => {
    const signer = new SignatureV4({ credentials: SUITE, region: 'us-east-1', service: 'sts', sha256: NodeSha256 });
    const query = { Action: 'GetCallerIdentity' };
    const url = { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: '/', query, headers: { host: '127.0.0.1:4010' } };
    const result = await signer.presign(url, { signingDate: SUITE_TIME, expiresIn: 900 });
    const request = toAwsRequest(result.headers, '/', result.query as Record<string, string>, '', 'GET');
    expect(await verifySigV4(request, { secretFor, now: SUITE_TIME })).toMatchObject({ ok: false, code: 'IncompleteSignature' });
  });
});
