import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgePublisher, EventPublishError, SecretInEventError } from '../../../../lambdas/adapters/aws/eventbridge-publisher';
import type { OutboundEvent, OutboundType } from '../../../../lambdas/domain/events';
import { grantIdFor } from '../../../../lambdas/domain/ids';
import { startAwsProtocolServer, type RunningServer } from '../../../../lambdas/local/aws-protocol-server';
import { openEventBus, type EventBus, type EventEnvelope } from '../../../../lambdas/local/event-bus';
import { createEventBridgeService } from '../../../../lambdas/local/eventbridge-service';
import { localClientConfig } from '../../../../lambdas/local/sdk-clients';
import { FakeEventBridge, throttling } from '../../../helpers/fake-eventbridge';
import { expectJitteredWaits } from '../../../helpers/backoff';

const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

function event(detailType: OutboundType, taskId: string, extra: Record<string, unknown> = {}): OutboundEvent {
  return {
    detailType,
    detail: { grantId: grantIdFor('release-bot', taskId), taskId, agentId: 'release-bot', at: '2030-01-01T00:00:00.000Z', ...extra },
  };
}

const many = (count: number) => Array.from({ length: count }, (_, index) => event('Grant Issued', `task-${index}`));

describe('EventBridgePublisher', () => {
  let fake: FakeEventBridge;
  let waits: number[];
  let publisher: EventBridgePublisher;

  beforeEach(() => {
    fake = new FakeEventBridge(['taskbound']);
    waits = [];
    publisher = new EventBridgePublisher(fake.client, { eventBusName: 'taskbound', retry: { attempts: 3, delayMs: 50 }, sleep: async (ms) => void waits.push(ms) });
  });
  afterEach(() => fake.restore());

  it('puts each event on the configured bus with source taskbound, its detail-type and its detail as JSON', async () => {
    const issued = event('Grant Issued', 'task-1', { credentialId: 'ASIAEXAMPLE' });

    await publisher.publish([issued]);

    expect(fake.calls).toEqual([[{ Source: 'taskbound', DetailType: 'Grant Issued', Detail: JSON.stringify(issued.detail), EventBusName: 'taskbound' }]]);
    expect(fake.accepted).toMatchObject([{ busName: 'taskbound', source: 'taskbound', detailType: 'Grant Issued', detail: issued.detail }]);
  });

  it('sends at most 10 entries per call', async () => {
    await publisher.publish(many(23));

    expect(fake.calls.map((entries) => entries.length)).toEqual([10, 10, 3]);
    expect(fake.accepted).toHaveLength(23);
  });

  it('makes no call for no events', async () => {
    await publisher.publish([]);
    expect(fake.calls).toEqual([]);
  });

  it('resends only the entries that failed transiently, after a backoff', async () => {
    fake.failEntries((entry) => entry.DetailType === 'Grant Revoked', 'InternalFailure', 2);

    await publisher.publish([event('Grant Issued', 'task-1'), event('Grant Revoked', 'task-2'), event('Grant Issued', 'task-3')]);

    expect(fake.calls.map((entries) => entries.map((entry) => entry.DetailType))).toEqual([
      ['Grant Issued', 'Grant Revoked', 'Grant Issued'],
      ['Grant Revoked'],
      ['Grant Revoked'],
    ]);
    expectJitteredWaits(waits, [50, 100]);
    expect(fake.accepted.map((accepted) => accepted.detailType).sort()).toEqual(['Grant Issued', 'Grant Issued', 'Grant Revoked']);
  });

  it('throws naming the detail-types still failing after the last attempt, having published the rest', async () => {
    fake.failEntries((entry) => entry.DetailType === 'Revocation Failed', 'ThrottlingException', 99);

    const error = (await publisher.publish([event('Grant Revoked', 'task-1'), event('Revocation Failed', 'task-2')]).catch((caught: unknown) => caught)) as EventPublishError;

    expect(error).toBeInstanceOf(EventPublishError);
    expect(error.message).toBe('1 of 2 events were not published: Revocation Failed (ThrottlingException)');
    expect(error.failed).toEqual([{ detailType: 'Revocation Failed', grantId: grantIdFor('release-bot', 'task-2'), code: 'ThrottlingException' }]);
    expect(fake.calls).toHaveLength(3);
    expect(fake.accepted.map((accepted) => accepted.detailType)).toEqual(['Grant Revoked']);
  });

  it('does not retry an entry EventBridge refused for good', async () => {
    fake.failEntries((entry) => entry.DetailType === 'Grant Denied', 'MalformedDetail');

    await expect(publisher.publish([event('Grant Denied', 'task-1')])).rejects.toThrow('Grant Denied (MalformedDetail)');
    expect(fake.calls).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('reports a bus that does not exist instead of losing the events', async () => {
    publisher = new EventBridgePublisher(fake.client, { eventBusName: 'missing', sleep: async () => undefined });
    await expect(publisher.publish([event('Grant Issued', 'task-1')])).rejects.toThrow('Grant Issued (ResourceNotFoundException)');
  });

  it('still publishes the other batches when one call fails as a whole, then throws with the cause', async () => {
    fake.failNextCall(throttling());

    const error = (await publisher.publish(many(12)).catch((caught: unknown) => caught)) as EventPublishError;

    expect(error).toBeInstanceOf(EventPublishError);
    expect(error.failed).toHaveLength(10);
    expect(error.failed.every((failed) => failed.code === 'ThrottlingException')).toBe(true);
    expect(error.cause).toBeInstanceOf(Error);
    expect(fake.accepted).toHaveLength(2);
  });

  it.each([['secretAccessKey'], ['session_token'], ['SecretString'], ['slackWebhookUrl']])('refuses any event whose detail has a field named like %s, sending nothing', async (field) => {
    const leaky = event('Grant Issued', 'task-2', { credential: { accessKeyId: 'AKIAEXAMPLE', [field]: SECRET_ACCESS_KEY } });

    const error = (await publisher.publish([event('Grant Issued', 'task-1'), leaky]).catch((caught: unknown) => caught)) as Error;

    expect(error).toBeInstanceOf(SecretInEventError);
    expect(error.message).toBe(`refusing to publish Grant Issued: detail.credential.${field} is named like secret material`);
    expect(error.message).not.toContain(SECRET_ACCESS_KEY);
    expect(fake.calls).toEqual([]);
  });

  it.each([['botToken'], ['privateKey'], ['apiKey'], ['client_secret']])('refuses a field named %s too', async (field) => {
    await expect(publisher.publish([event('Grant Issued', 'task-1', { [field]: 'x' })])).rejects.toThrow(`detail.${field} is named like secret material`);
    expect(fake.calls).toEqual([]);
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
    const error = (await publisher.publish([event('Grant Revoked', 'task-1', { reason: value })]).catch((caught: unknown) => caught)) as Error;

    expect(error).toBeInstanceOf(SecretInEventError);
    expect(error.message).toBe(`refusing to publish Grant Revoked: detail.reason holds what looks like ${kind}`);
    expect(error.message).not.toContain(value);
    expect(fake.calls).toEqual([]);
  });

  it('publishes access key ids, grant ids, policy hashes and hex digests: identifiers, not secrets', async () => {
    await publisher.publish([
      event('Grant Issued', 'task-1', {
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        sessionKeyId: 'ASIAIOSFODNN7EXAMPLE',
        policyVersion: `sha256:${'0123456789abcdef'.repeat(4)}`,
        commit: 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3',
        reason: 'reported leaked by scanner (evidence given, 62 characters, not recorded)',
      }),
    ]);
    expect(fake.accepted).toHaveLength(1);
  });

  it('finds a secret field inside a list', async () => {
    const leaky = event('Orphan Credential Found', 'task-1', { found: [{ sessionToken: 'x' }] });
    await expect(publisher.publish([leaky])).rejects.toThrow('detail.found[0].sessionToken');
  });

  it('publishes identifiers that only mention secrets, such as a brokered secret’s ARN', async () => {
    await publisher.publish([event('Revocation Failed', 'task-1', { secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:stripe-key' })]);
    expect(fake.accepted).toHaveLength(1);
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
    server = await startAwsProtocolServer({ services: [createEventBridgeService(bus)] });
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
