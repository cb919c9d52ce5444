// Tests: what the local engine answers a request that is unsigned, signed in a shape it cannot read,
// or signed for another service than the one it calls: refused in the caller's protocol (an XML
// error for STS, which botocore could not parse from JSON), as AWS would refuse it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsProtocolServer, type RunningServer } from '../../../../lambdas/local/emulated-aws/aws-protocol-server';
import type { AwsService } from '../../../../lambdas/local/emulated-aws/protocol';

/** Answers every request it is handed: what reaches it got past the server's checks. */
const reached: AwsService = {
  name: 'reached',
  matches: () => true,
  handle: () => Promise.resolve({ status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: '{"reached":true}' }),
};

const signedFor = (service: string) =>
  `AWS4-HMAC-SHA256 Credential=AKIALOCALRUNTIME0000/20261201/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`;

const JSON_CALL = { 'content-type': 'application/x-amz-json-1.1' };
const QUERY_CALL = { 'content-type': 'application/x-www-form-urlencoded' };

describe('the local engine refusing a request it cannot authenticate', () => {
  let server: RunningServer;
  const post = async (headers: Record<string, string>, body: string) => {
    const response = await fetch(`${server.url}/`, { method: 'POST', headers, body });
    return { status: response.status, headers: response.headers, body: await response.text() };
  };
  beforeAll(async () => {
    server = await startAwsProtocolServer({ services: [reached] });
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers an unsigned STS (query protocol) call with an XML ErrorResponse botocore parses, not JSON', async () => {
    const answer = await post(QUERY_CALL, 'Action=GetCallerIdentity&Version=2011-06-15');

    expect(answer.status).toBe(403);
    expect(answer.headers.get('content-type')).toBe('text/xml');
    expect(answer.body).toMatch(/^<ErrorResponse><Error><Type>Sender<\/Type><Code>MissingAuthenticationToken<\/Code>/);
    expect(answer.body).toContain(`<RequestId>${answer.headers.get('x-amzn-requestid')}</RequestId>`);
  });

  it('answers an unsigned JSON-protocol call in JSON, naming the missing signature', async () => {
    const answer = await post({ ...JSON_CALL, 'x-amz-target': 'secretsmanager.GetSecretValue' }, '{}');

    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({
      __type: 'MissingAuthenticationTokenException',
      message: 'Request is missing a SigV4 Authorization header.',
    });
  });

  it('calls a present but unreadable Authorization header an incomplete signature, not a missing one', async () => {
    const answer = await post({ ...QUERY_CALL, authorization: 'AWS4-HMAC-SHA256 garbage' }, 'Action=GetCallerIdentity');

    expect(answer.status).toBe(400);
    expect(answer.body).toContain('<Code>IncompleteSignature</Code>');
    expect(answer.body).toContain('expected AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request');
  });

  it.each([
    ['AWSEvents.PutEvents', 'secretsmanager', 'events'],
    ['secretsmanager.GetSecretValue', 'events', 'secretsmanager'],
    ['DynamoDB_20120810.Query', 'sts', 'dynamodb'],
    ['TrentService.Decrypt', 'secretsmanager', 'kms'],
  ])('refuses %s signed for %s, as AWS does, naming the service it must be signed for', async (target, signed, expected) => {
    const answer = await post({ ...JSON_CALL, 'x-amz-target': target, authorization: signedFor(signed) }, '{}');

    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({
      __type: 'InvalidSignatureException',
      message: `Credential should be scoped to correct service: '${expected}'. `,
    });
  });

  it('passes a call signed for its own service on to the service', async () => {
    const answer = await post({ ...JSON_CALL, 'x-amz-target': 'AWSEvents.PutEvents', authorization: signedFor('events') }, '{}');

    expect(answer).toMatchObject({ status: 200, body: '{"reached":true}' });
  });
});
