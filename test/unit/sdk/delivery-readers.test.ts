// The SDK's Secrets Manager reader against a loopback endpoint answering as Secrets Manager does
// for a runtime a delivery's resource policy does not name yet (AccessDeniedException), through
// the AWS SDK's real client and error parsing.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NOT_YET_LOCKED_GRACE_MS, secretsManagerReader } from '../../../sdk/delivery-readers';

const TASK = { agentId: 'release-bot', taskId: 'task-1' };
const ISSUED = {
  status: 'issued',
  grantId: 'g-1',
  scopes: ['repo-read'],
  kind: 'aws-sts-session',
  accessKeyId: 'ASIAEXAMPLE',
  secretAccessKey: 's',
};

describe('secretsManagerReader', () => {
  let server: Server;
  let client: SecretsManagerClient;
  /** What the endpoint answers next: refused, or the delivery. */
  let answer: 'refused' | 'delivered';
  let now: number;

  beforeEach(async () => {
    answer = 'refused';
    now = 0;
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.setHeader('content-type', 'application/x-amz-json-1.1');
        if (answer === 'refused') {
          response.statusCode = 400;
          response.end(
            JSON.stringify({
              __type: 'AccessDeniedException',
              Message:
                'User: arn:aws:sts::111122223333:assumed-role/agent-runtime/r is not authorized to perform: secretsmanager:GetSecretValue',
            }),
          );
          return;
        }
        response.end(JSON.stringify({ Name: 'taskbound/release-bot/task-1', SecretString: JSON.stringify(ISSUED) }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' },
      maxAttempts: 1,
    });
  });
  afterEach(async () => {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('reads a refusal as not delivered yet while the delivery may still be on its way to its lock, then reads the delivery', async () => {
    const read = secretsManagerReader(client, () => now);

    expect((await read(TASK)).reading).toEqual({ status: 'absent' });
    now = NOT_YET_LOCKED_GRACE_MS - 1;
    expect((await read(TASK)).reading).toEqual({ status: 'absent' });
    answer = 'delivered';
    expect((await read(TASK)).reading).toMatchObject({ status: 'issued', grantId: 'g-1' });
  });

  it('throws the refusal once it has lasted longer than a lock takes: the runtime lacks the permission', async () => {
    const read = secretsManagerReader(client, () => now);

    expect((await read(TASK)).reading).toEqual({ status: 'absent' });
    now = NOT_YET_LOCKED_GRACE_MS;
    await expect(read(TASK)).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('times each task from its own first refusal', async () => {
    const read = secretsManagerReader(client, () => now);
    await read(TASK);
    now = NOT_YET_LOCKED_GRACE_MS + 1;

    expect((await read({ ...TASK, taskId: 'task-2' })).reading).toEqual({ status: 'absent' });
    await expect(read(TASK)).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
