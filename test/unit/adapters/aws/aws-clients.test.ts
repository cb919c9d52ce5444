import { createServer, type Server } from 'node:http';
import { ListUsersCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import { createIamClient, createStsClient } from '../../../../lambdas/adapters/aws/aws-clients';

const CREDENTIALS = { accessKeyId: 'AKIAENGINEEXAMPLE000', secretAccessKey: 'engine-secret' };

interface Answer {
  readonly status: number;
  readonly body: string;
}

const iamError = (code: string, status: number): Answer => ({
  status,
  body: `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${code}</Code><Message>${code}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`,
});
const LIST_USERS: Answer = {
  status: 200,
  body: '<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListUsersResult><IsTruncated>false</IsTruncated><Users/></ListUsersResult><ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata></ListUsersResponse>',
};

let server: Server | undefined;

/** An AWS query-protocol endpoint on loopback that answers with the next scripted answer. */
async function scriptedEndpoint(answers: Answer[]): Promise<{ endpoint: string; requests: () => number }> {
  let requests = 0;
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      requests += 1;
      const answer = answers.shift() ?? iamError('InternalFailure', 500);
      response.writeHead(answer.status, { 'content-type': 'text/xml' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { endpoint: `http://127.0.0.1:${address.port}`, requests: () => requests };
}

afterEach(async () => {
  const running = server;
  server = undefined;
  if (running) await new Promise((resolve) => running.close(resolve));
});

describe('createIamClient', () => {
  it('retries IAM throttling with backoff until the call succeeds', async () => {
    const { endpoint, requests } = await scriptedEndpoint([iamError('Throttling', 400), iamError('Throttling', 400), LIST_USERS]);
    const iam = createIamClient({ region: 'us-east-1', endpoint, credentials: CREDENTIALS });

    const response = await iam.send(new ListUsersCommand({ PathPrefix: '/taskbound/' }));

    expect(response.Users).toEqual([]);
    expect(response.$metadata.attempts).toBe(3);
    expect(requests()).toBe(3);
  });

  it('retries 5xx, then lets the error out once the attempts are spent', async () => {
    const { endpoint, requests } = await scriptedEndpoint([]);
    const iam = createIamClient({ region: 'us-east-1', endpoint, credentials: CREDENTIALS, maxAttempts: 3 });

    await expect(iam.send(new ListUsersCommand({}))).rejects.toMatchObject({
      name: 'InternalFailure',
      $metadata: { httpStatusCode: 500, attempts: 3 },
    });
    expect(requests()).toBe(3);
  });

  it('does not retry an error that retrying cannot fix', async () => {
    const { endpoint, requests } = await scriptedEndpoint([iamError('NoSuchEntity', 404)]);
    const iam = createIamClient({ region: 'us-east-1', endpoint, credentials: CREDENTIALS });

    await expect(iam.send(new ListUsersCommand({}))).rejects.toMatchObject({ name: 'NoSuchEntityException', Code: 'NoSuchEntity' });
    expect(requests()).toBe(1);
  });

  it('configures the standard retry mode with the control-plane attempts by default', async () => {
    const iam = createIamClient({ region: 'us-east-1' });
    const sts = createStsClient({ region: 'eu-west-1' });

    expect(await iam.config.maxAttempts()).toBe(5);
    expect(await iam.config.retryStrategy()).toMatchObject({ mode: 'standard' });
    expect(await sts.config.maxAttempts()).toBe(5);
    expect(await sts.config.region()).toBe('eu-west-1');
  });

  it('builds an STS client that retries throttling too', async () => {
    const { endpoint, requests } = await scriptedEndpoint([
      iamError('Throttling', 400),
      {
        status: 200,
        body: '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/engine</Arn><UserId>AIDAEXAMPLE</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r-3</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
      },
    ]);
    const sts = createStsClient({ region: 'us-east-1', endpoint, credentials: CREDENTIALS });

    expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe('111122223333');
    expect(requests()).toBe(2);
  });
});
