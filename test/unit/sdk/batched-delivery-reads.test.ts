// The SDK's batched delivery reads against a loopback endpoint answering as Secrets Manager does
// (GetSecretValue alone, BatchGetSecretValue with per-secret Errors), through the AWS SDK's real
// client, serialization and error parsing. What a batch's answers mean is checked against moto
// in test/aws/sdk-batched-reads.test.ts.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServerResponse } from 'node:http';
import { loopbackEndpoint, type LoopbackEndpoint } from '../../helpers/loopback-endpoint';
import { batchedSecretsManagerReader } from '../../../sdk/batched-delivery-reads';
import { TaskboundError } from '../../../sdk/errors';
import { deliverySecretName } from '../../../lambdas/domain/ids';

const AGENT = 'release-bot';
const task = (taskId: string) => ({ agentId: AGENT, taskId });
const issued = (grantId: string) =>
  JSON.stringify({
    status: 'issued',
    grantId,
    scopes: ['repo-read'],
    kind: 'aws-sts-session',
    accessKeyId: 'ASIAEXAMPLE',
    secretAccessKey: 's',
  });
/** How long the endpoint takes to answer: reads asked for meanwhile queue behind the one on the wire. */
const ANSWER_AFTER_MS = 30;

type Held = { readonly value: string } | { readonly error: string; readonly message: string };

describe('batchedSecretsManagerReader', () => {
  let endpoint: LoopbackEndpoint;
  let client: SecretsManagerClient;
  /** Each secret's value or the error GetSecretValue would answer; absent names are ResourceNotFoundException. */
  let secrets: Map<string, Held>;
  /** Each call as received: its operation and the secrets it named. */
  let calls: { operation: string; secretIds: string[] }[];
  /** What BatchGetSecretValue answers as a whole, when it does not read. */
  let batchFails: { status: number; type: string } | undefined;
  /** Secrets whose GetSecretValue answers only after this long (a hung call), by name. */
  let slowMs: Map<string, number>;

  const fail = (response: ServerResponse, status: number, type: string, message: string) => {
    response.statusCode = status;
    response.end(JSON.stringify({ __type: type, Message: message }));
  };

  beforeEach(async () => {
    secrets = new Map();
    calls = [];
    batchFails = undefined;
    slowMs = new Map();
    endpoint = await loopbackEndpoint((request, response, body) => {
      const operation = String(request.headers['x-amz-target']).replace('secretsmanager.', '');
      const input = JSON.parse(body) as { SecretId?: string; SecretIdList?: string[] };
      const secretIds = input.SecretIdList ?? [input.SecretId ?? ''];
      calls.push({ operation, secretIds });
      response.setHeader('content-type', 'application/x-amz-json-1.1');
      setTimeout(
        () => {
          if (operation === 'GetSecretValue') {
            const held = secrets.get(secretIds[0] ?? '');
            if (!held) return fail(response, 400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
            if ('error' in held) return fail(response, 400, held.error, held.message);
            return response.end(JSON.stringify({ Name: secretIds[0], SecretString: held.value, CreatedDate: 1_800_000_000 }));
          }
          if (batchFails)
            return fail(response, batchFails.status, batchFails.type, 'not authorized to perform: secretsmanager:BatchGetSecretValue');
          const values = [];
          const errors = [];
          for (const secretId of secretIds) {
            const held = secrets.get(secretId) ?? {
              error: 'ResourceNotFoundException',
              message: "Secrets Manager can't find the specified secret.",
            };
            if ('error' in held) errors.push({ SecretId: secretId, ErrorCode: held.error, Message: held.message });
            else values.push({ Name: secretId, SecretString: held.value, CreatedDate: 1_800_000_000 });
          }
          response.end(JSON.stringify({ SecretValues: values, Errors: errors }));
        },
        slowMs.get(secretIds[0] ?? '') ?? ANSWER_AFTER_MS,
      );
    });
    client = new SecretsManagerClient(endpoint.clientConfig);
  });
  afterEach(async () => {
    client.destroy();
    await endpoint.close();
  });

  const hold = (taskId: string, held: Held) => secrets.set(deliverySecretName(AGENT, taskId), held);
  const operations = () => calls.map((call) => `${call.operation}×${call.secretIds.length}`);

  it('reads a lone task with GetSecretValue, and the reads asked for while it is on the wire in one BatchGetSecretValue, each answered as its own read', async () => {
    hold('t1', { value: issued('g-1') });
    hold('t2', { value: issued('g-2') });
    hold('t4', {
      error: 'AccessDeniedException',
      message: 'User: agent-runtime is not authorized to perform: secretsmanager:GetSecretValue',
    });
    const read = batchedSecretsManagerReader(client);

    const [first, second, absent, refused] = await Promise.all([read(task('t1')), read(task('t2')), read(task('t3')), read(task('t4'))]);

    expect(operations()).toEqual(['GetSecretValue×1', 'BatchGetSecretValue×3']);
    expect(first).toEqual({ reading: expect.objectContaining({ status: 'issued', grantId: 'g-1' }), deliveredAtMs: 1_800_000_000_000 });
    expect(second).toEqual({ reading: expect.objectContaining({ status: 'issued', grantId: 'g-2' }), deliveredAtMs: 1_800_000_000_000 });
    expect(absent).toEqual({ reading: { status: 'absent' } });
    // Refused as GetSecretValue is refused: not delivered yet, and said to be a refusal.
    expect(refused.reading).toEqual({ status: 'absent' });
    expect(refused.refused).toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('GetSecretValue') });
  });

  it('sends a full call of 20 at once, the rest once a call answers, and names each task once however many wait for it', async () => {
    const read = batchedSecretsManagerReader(client);
    const taskIds = Array.from({ length: 26 }, (_, index) => `t${index}`);
    for (const taskId of taskIds) hold(taskId, { value: issued(`g-${taskId}`) });

    const readings = await Promise.all([...taskIds, 't25'].map((taskId) => read(task(taskId))));

    expect(operations()).toEqual(['GetSecretValue×1', 'BatchGetSecretValue×20', 'BatchGetSecretValue×5']);
    expect(calls[2]?.secretIds).toEqual(taskIds.slice(21).map((taskId) => deliverySecretName(AGENT, taskId)));
    expect(readings.map((timed) => (timed.reading.status === 'absent' ? undefined : timed.reading.grantId))).toEqual([
      ...taskIds.map((taskId) => `g-${taskId}`),
      'g-t25',
    ]);
  });

  it('reads each task alone, now and from then on, once the runtime is refused BatchGetSecretValue itself (its IAM policy lacks it)', async () => {
    batchFails = { status: 400, type: 'AccessDeniedException' };
    for (const taskId of ['t1', 't2', 't3', 't4', 't5']) hold(taskId, { value: issued(`g-${taskId}`) });
    const read = batchedSecretsManagerReader(client);

    const firstWave = await Promise.all(['t1', 't2', 't3'].map((taskId) => read(task(taskId))));
    const secondWave = await Promise.all(['t4', 't5'].map((taskId) => read(task(taskId))));

    expect(operations()).toEqual([
      'GetSecretValue×1',
      'BatchGetSecretValue×2',
      'GetSecretValue×1',
      'GetSecretValue×1',
      'GetSecretValue×1',
      'GetSecretValue×1',
    ]);
    expect([...firstWave, ...secondWave].map((timed) => timed.reading.status)).toEqual(['issued', 'issued', 'issued', 'issued', 'issued']);
  });

  it('fails every read of a batch that failed as a whole for another reason, and reads again at the next ask', async () => {
    batchFails = { status: 500, type: 'InternalServiceError' };
    hold('t1', { value: issued('g-1') });
    const read = batchedSecretsManagerReader(client);

    const outcomes = await Promise.allSettled(['t1', 't2', 't3'].map((taskId) => read(task(taskId))));

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect(outcomes[1]).toMatchObject({ reason: { name: 'InternalServiceError' } });
    batchFails = undefined;
    expect((await read(task('t1'))).reading).toMatchObject({ status: 'issued' });
  });

  it('does not hold the other waits behind a call that hangs: they go together after a few milliseconds', async () => {
    for (const taskId of ['t1', 't2', 't3']) hold(taskId, { value: issued(`g-${taskId}`) });
    slowMs.set(deliverySecretName(AGENT, 't1'), 2_000);
    const read = batchedSecretsManagerReader(client);
    const started = Date.now();

    const hung = read(task('t1'));
    const others = await Promise.all([read(task('t2')), read(task('t3'))]);

    expect(Date.now() - started).toBeLessThan(500);
    expect(others.map((timed) => timed.reading.status)).toEqual(['issued', 'issued']);
    expect(operations()).toEqual(['GetSecretValue×1', 'BatchGetSecretValue×2']);
    expect((await hung).reading).toMatchObject({ status: 'issued', grantId: 'g-t1' });
  });

  it('fails only the read whose delivery is malformed, naming no value', async () => {
    hold('t1', { value: issued('g-1') });
    hold('t2', { value: 'not json {secret' });
    hold('t3', { value: issued('g-3') });
    const read = batchedSecretsManagerReader(client);

    const outcomes = await Promise.allSettled(['t1', 't2', 't3'].map((taskId) => read(task(taskId))));

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const reason = (outcomes[1] as PromiseRejectedResult).reason as Error;
    expect(reason).toBeInstanceOf(TaskboundError);
    expect(reason.message).toBe('the delivery for release-bot/t2 is not JSON');
  });
});
