import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgePublisher, SecretInEventError } from '../../../../lambdas/adapters/aws/eventbridge-publisher';
import type { OutboundEvent, OutboundType } from '../../../../lambdas/domain/events';
import { grantIdFor } from '../../../../lambdas/domain/ids';
import { startAwsProtocolServer, type RunningServer } from '../../../../lambdas/local/emulated-aws/aws-protocol-server';
import { openEventBus, type EventBus, type EventEnvelope } from '../../../../lambdas/local/emulated-aws/event-bus';
import { createEventBridgeService } from '../../../../lambdas/local/emulated-aws/eventbridge-service';
import { requestCaller } from '../../../../lambdas/local/emulated-aws/request-caller';
import { LOCAL_CREDENTIALS, localClientConfig } from '../../../../lambdas/local/host/sdk-clients';

const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

function event(detailType: OutboundType, taskId: string, extra: Record<string, unknown> = {}): OutboundEvent {
  return {
    detailType,
    detail: { grantId: grantIdFor('release-bot', taskId), taskId, agentId: 'release-bot', at: '2030-01-01T00:00:00.000Z', ...extra },
  };
}

const many = (count: number) => Array.from({ length: count }, (_, index) => event('Grant Issued', `task-${index}`));

describe('EventBridgePublisher', () => {
  let client: EventBridgeClient;
  let sends: number;
  let publisher: EventBridgePublisher;

  // What reaches EventBridge is tested against moto (test/aws/eventbridge-publisher.test.ts);
  // these refusals happen before any call, so the client only has to show none was made.
  beforeEach(() => {
    client = new EventBridgeClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIDUNUSED', secretAccessKey: 'unused' },
    });
    sends = 0;
    client.middlewareStack.add(
      (next) => async (args) => {
        sends += 1;
        return next(args);
      },
      { step: 'initialize', name: 'countSends' },
    );
    publisher = new EventBridgePublisher(client, { eventBusName: 'taskbound', sleep: async () => undefined });
  });
  afterEach(() => client.destroy());

  it('makes no call for no events', async () => {
    await publisher.publish([]);
    expect(sends).toBe(0);
  });

  it.each([['secretAccessKey'], ['session_token'], ['SecretString'], ['slackWebhookUrl']])(
    'refuses any event whose detail has a field named like %s, sending nothing',
    async (field) => {
      const leaky = event('Grant Issued', 'task-2', { credential: { accessKeyId: 'AKIAEXAMPLE', [field]: SECRET_ACCESS_KEY } });

      const error = (await publisher.publish([event('Grant Issued', 'task-1'), leaky]).catch((caught: unknown) => caught)) as Error;

      expect(error).toBeInstanceOf(SecretInEventError);
      expect(error.message).toBe(`refusing to publish Grant Issued: detail.credential.${field} is named like secret material`);
      expect(error.message).not.toContain(SECRET_ACCESS_KEY);
      expect(sends).toBe(0);
    },
  );

  it.each([['botToken'], ['privateKey'], ['apiKey'], ['client_secret']])('refuses a field named %s too', async (field) => {
    await expect(publisher.publish([event('Grant Issued', 'task-1', { [field]: 'x' })])).rejects.toThrow(
      `detail.${field} is named like secret material`,
    );
    expect(sends).toBe(0);
  });

  it.each([
    ['an AWS secret access key', `the key is ${SECRET_ACCESS_KEY} here`],
    ['a session token or other long encoded secret', `FwoGZXIvYXdzE${'A1b2C3d4'.repeat(20)}==`],
    ['a private key', '-----BEGIN RSA PRIVATE KEY-----\nMIIEow...'],
    ['a Slack token', 'token xoxb-1234567890-abcdefghij'],
    ['a Slack webhook URL', 'https://hooks.slack.com/services/T000/B000/XXXX'],
    ['a bearer token', 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload'],
    ['a GitHub token', `ghp_${'a1B2'.repeat(9)}`],
  ])('refuses a value that looks like %s, whatever its field is called, without quoting it', async (kind, value) => {
    const error = (await publisher
      .publish([event('Grant Revoked', 'task-1', { reason: value })])
      .catch((caught: unknown) => caught)) as Error;

    expect(error).toBeInstanceOf(SecretInEventError);
    expect(error.message).toBe(`refusing to publish Grant Revoked: detail.reason holds what looks like ${kind}`);
    expect(error.message).not.toContain(value);
    expect(sends).toBe(0);
  });

  it('refuses the shortest value a secret shape can match (a 13-character Slack token), and passes shorter ones', async () => {
    await expect(publisher.publish([event('Grant Revoked', 'task-1', { reason: 'xoxb-12345678' })])).rejects.toThrow(
      'detail.reason holds what looks like a Slack token',
    );
    // One character shorter passes the check and is sent (to an endpoint that is not there, hence the failure).
    await publisher.publish([event('Grant Revoked', 'task-1', { reason: 'xoxb-1234567' })]).catch(() => undefined);
    expect(sends).toBe(1);
  });

  it('does not judge a task id by its shape (a random one may look like a key), but still judges every other field', async () => {
    const randomTaskId = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCd';
    await publisher.publish([event('Grant Revoked', randomTaskId)]).catch(() => undefined);
    expect(sends).toBe(1);
    await expect(publisher.publish([event('Grant Revoked', 'task-1', { note: randomTaskId })])).rejects.toThrow(
      'detail.note holds what looks like an AWS secret access key',
    );
    await expect(
      publisher.publish([event('Grant Revoked', 'task-1', { taskId: `${SECRET_ACCESS_KEY} is not a task id` })]),
    ).rejects.toThrow('detail.taskId holds what looks like an AWS secret access key');
  });

  it('finds a secret value inside a list', async () => {
    const leaky = event('Orphan Credential Found', 'task-1', { found: ['fine', { note: `ghp_${'a1B2'.repeat(9)}` }] });
    await expect(publisher.publish([leaky])).rejects.toThrow('detail.found[1].note holds what looks like a GitHub token');
    expect(sends).toBe(0);
  });

  it('finds a secret field inside a list', async () => {
    const leaky = event('Orphan Credential Found', 'task-1', { found: [{ sessionToken: 'x' }] });
    await expect(publisher.publish([leaky])).rejects.toThrow('detail.found[0].sessionToken');
    expect(sends).toBe(0);
  });
});

describe('EventBridgePublisher against the local engine', () => {
  let bus: EventBus;
  let server: RunningServer;
  let client: EventBridgeClient;
  let received: EventEnvelope[];

  beforeEach(async () => {
    bus = await openEventBus({ name: 'taskbound' });
    received = [];
    bus.subscribe((envelope) => received.push(envelope));
    // The publisher signs as the engine (localClientConfig), the one caller the local bus lets speak as `taskbound`.
    const callerOf = requestCaller({ engineKey: LOCAL_CREDENTIALS, signatureClock: { now: () => new Date() } });
    server = await startAwsProtocolServer({ services: [createEventBridgeService(bus, { callerOf })] });
    client = new EventBridgeClient(localClientConfig(server.url));
  });
  afterEach(async () => {
    client.destroy();
    await server.close();
    await bus.close();
  });

  it('puts events on the local bus over the wire', async () => {
    const publisher = new EventBridgePublisher(client, { eventBusName: 'taskbound' });

    await publisher.publish(many(11));

    expect(received).toHaveLength(11);
    expect(received[0]).toMatchObject({ source: 'taskbound', 'detail-type': 'Grant Issued', detail: many(1)[0]!.detail });
  });

  it('throws when the local engine refuses the entries', async () => {
    const publisher = new EventBridgePublisher(client, { eventBusName: 'default', sleep: async () => undefined });

    await expect(publisher.publish([event('Grant Issued', 'task-1')])).rejects.toThrow('Grant Issued (InvalidArgument)');
    expect(received).toEqual([]);
  });
});
