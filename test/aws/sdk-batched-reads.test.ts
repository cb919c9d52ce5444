// AWS emulator tier: the SDK's batched delivery reads (sdk/batched-delivery-reads.ts) against
// moto's Secrets Manager in authenticated mode, signed as a runtime with an IAM policy of its own.
// What a batch answers for a delivery that exists, one that does not, and a runtime whose policy
// lacks BatchGetSecretValue comes from moto, not from the SDK's own model of it.
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batchedSecretsManagerReader } from '../../sdk/batched-delivery-reads';
import { deliverySecretName } from '../../lambdas/domain/ids';
import { freshMoto, userWithKey, type FreshMoto } from './moto-world';
import { countCalls, jsonAccessDenied, type ApiCall } from './sdk-middleware';

const AGENT = 'release-bot';
const task = (taskId: string) => ({ agentId: AGENT, taskId });
// On `*`: moto matches an identity policy's actions against the resource `*` only (moto-world.ts).
const READ_DELIVERIES = { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' };
const BATCH = { Effect: 'Allow', Action: 'secretsmanager:BatchGetSecretValue', Resource: '*' };

describe('the SDK reading concurrent waits together, on moto', () => {
  let moto: FreshMoto;
  let clients: SecretsManagerClient[];

  beforeEach(async () => {
    moto = await freshMoto();
    clients = [];
    for (const taskId of ['t1', 't2', 't3']) {
      await moto.aws.secrets.send(
        new CreateSecretCommand({
          Name: deliverySecretName(AGENT, taskId),
          SecretString: JSON.stringify({
            status: 'issued',
            grantId: `g-${taskId}`,
            scopes: ['repo-read'],
            kind: 'aws-sts-session',
            accessKeyId: 'ASIAEXAMPLE',
            secretAccessKey: 's',
          }),
        }),
      );
    }
  });
  afterEach(() => {
    for (const client of clients) client.destroy();
  });

  /** A runtime signed by an IAM user of its own, allowed `statements`; its calls counted into `calls`. */
  const runtime = async (userName: string, statements: readonly object[], calls: ApiCall[]) => {
    const key = await userWithKey(moto.aws.iam, userName, { Version: '2012-10-17', Statement: statements });
    const client = new SecretsManagerClient({
      ...moto.engineConfig,
      credentials: key,
      maxAttempts: 1,
    });
    clients.push(client);
    // moto words an IAM denial of a JSON-protocol call in XML; this gives it as AWS does (sdk-middleware.ts).
    jsonAccessDenied(client as never);
    countCalls(client as never, calls, { count: 0 });
    return client;
  };

  it('reads the waits asked for while a read is on the wire in one BatchGetSecretValue, a missing delivery absent from its Errors', async () => {
    const calls: ApiCall[] = [];
    const read = batchedSecretsManagerReader(await runtime('agent-runtime', [READ_DELIVERIES, BATCH], calls));

    const readings = await Promise.all(['t1', 't2', 'missing', 't3'].map((taskId) => read(task(taskId))));

    expect(calls.map((call) => call.operation)).toEqual(['GetSecretValue', 'BatchGetSecretValue']);
    expect(readings.map((timed) => timed.reading)).toEqual([
      expect.objectContaining({ status: 'issued', grantId: 'g-t1' }),
      expect.objectContaining({ status: 'issued', grantId: 'g-t2' }),
      { status: 'absent' },
      expect.objectContaining({ status: 'issued', grantId: 'g-t3' }),
    ]);
    expect(readings.every((timed) => timed.refused === undefined)).toBe(true);
  });

  it('reads each wait alone, from the first refusal on, for a runtime whose IAM policy allows GetSecretValue but not BatchGetSecretValue', async () => {
    const calls: ApiCall[] = [];
    const read = batchedSecretsManagerReader(await runtime('narrow-runtime', [READ_DELIVERIES], calls));

    const first = await Promise.all(['t1', 't2', 't3'].map((taskId) => read(task(taskId))));
    const again = await Promise.all(['t1', 't2'].map((taskId) => read(task(taskId))));

    expect(calls.map((call) => call.operation)).toEqual([
      'GetSecretValue',
      'BatchGetSecretValue',
      'GetSecretValue',
      'GetSecretValue',
      'GetSecretValue',
      'GetSecretValue',
    ]);
    expect([...first, ...again].map((timed) => timed.reading.status)).toEqual(['issued', 'issued', 'issued', 'issued', 'issued']);
  });
});
