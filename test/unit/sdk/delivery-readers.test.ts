// The SDK's Secrets Manager reader against a loopback endpoint answering as Secrets Manager does
// for a runtime a delivery's resource policy does not name yet (AccessDeniedException), through
// the AWS SDK's real client and error parsing.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loopbackEndpoint, type LoopbackEndpoint } from '../../helpers/loopback-endpoint';
import { secretsManagerReader } from '../../../sdk/delivery-readers';
import { WaitTimeoutError } from '../../../sdk/errors';
import { waitForDelivery } from '../../../sdk/wait';

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
  let endpoint: LoopbackEndpoint;
  let client: SecretsManagerClient;
  /** What the endpoint answers next: refused, or the delivery. */
  let answer: 'refused' | 'delivered';
  /** Reads refused before the endpoint answers with the delivery (when `answer` is 'refused'). */
  let refusalsLeft: number;

  beforeEach(async () => {
    answer = 'refused';
    refusalsLeft = Number.POSITIVE_INFINITY;
    endpoint = await loopbackEndpoint((_request, response) => {
      if (answer === 'refused' && --refusalsLeft < 0) answer = 'delivered';
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
    client = new SecretsManagerClient(endpoint.clientConfig);
  });
  afterEach(async () => {
    client.destroy();
    await endpoint.close();
  });

  it('reads a refusal as not delivered yet, said to be a refusal, then reads the delivery once it is locked', async () => {
    const read = secretsManagerReader(client);

    const refused = await read(TASK);
    expect(refused.reading).toEqual({ status: 'absent' });
    expect(refused.refused).toMatchObject({ name: 'AccessDeniedException' });
    // Ten minutes of refusals later (an issue queued behind a quota), still not delivered yet, not an error.
    const later = Date.now() + 600_000;
    vi.spyOn(Date, 'now').mockReturnValue(later);
    expect((await read(TASK)).refused).toMatchObject({ name: 'AccessDeniedException' });
    vi.restoreAllMocks();
    answer = 'delivered';
    const found = await read(TASK);
    expect(found.reading).toMatchObject({ status: 'issued', grantId: 'g-1' });
    expect(found.refused).toBeUndefined();
  });

  it('waits through refusals for as long as the issue takes (on AWS, from the first read until the lock), then has the credential', async () => {
    // A runtime the resource policy alone admits is refused until the delivery exists and is locked.
    refusalsLeft = 4;

    const credential = await waitForDelivery(secretsManagerReader(client), client, TASK);

    expect(credential.accessKeyId).toBe('ASIAEXAMPLE');
    expect(refusalsLeft).toBeLessThan(0);
  });

  it('says at the end of its wait that every read was refused, and what to check, when the runtime may never read', async () => {
    const waiting = waitForDelivery(secretsManagerReader(client), client, TASK, { strategy: { deliveryTimeoutMs: 400 } });

    const error = await waiting.catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as WaitTimeoutError).refusal).toMatchObject({ name: 'AccessDeniedException' });
    expect((error as Error).message).toMatch(/refused \(AccessDeniedException: User: arn:aws:sts::111122223333.*runtimePrincipal/);
  });
});
