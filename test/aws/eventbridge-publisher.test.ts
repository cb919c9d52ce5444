// AWS emulator tier: the EventBridge publisher against moto's EventBridge. Partial failures
// (per-entry error codes) and a throttled call are injected as SDK middleware shaped as
// EventBridge answers them; moto stages neither.
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgePublisher, EventPublishError } from '../../lambdas/adapters/aws/eventbridge-publisher';
import type { OutboundEvent, OutboundType } from '../../lambdas/domain/events';
import { grantIdFor } from '../../lambdas/domain/ids';
import { expectJitteredWaits } from '../helpers/backoff';
import { BUS, freshMoto } from './moto-world';
import { awsServiceError, failPutEventsEntries, injectFaults, recordAcceptedEvents, type AcceptedEvent } from './sdk-middleware';

function event(detailType: OutboundType, taskId: string, extra: Record<string, unknown> = {}): OutboundEvent {
  return {
    detailType,
    detail: { grantId: grantIdFor('release-bot', taskId), taskId, agentId: 'release-bot', at: '2030-01-01T00:00:00.000Z', ...extra },
  };
}

const many = (count: number) => Array.from({ length: count }, (_, index) => event('Grant Issued', `task-${index}`));

describe('EventBridgePublisher on moto', () => {
  let client: EventBridgeClient;
  let accepted: AcceptedEvent[];
  let sent: Array<Array<{ DetailType?: string; Source?: string; EventBusName?: string; Detail?: string }>>;
  let waits: number[];
  let publisher: EventBridgePublisher;

  beforeEach(async () => {
    const moto = await freshMoto();
    client = new EventBridgeClient(moto.engineConfig);
    accepted = [];
    sent = [];
    recordAcceptedEvents(client as never, accepted, sent);
    waits = [];
    publisher = new EventBridgePublisher(client, {
      eventBusName: BUS,
      retry: { attempts: 3, delayMs: 50 },
      sleep: async (ms) => void waits.push(ms),
    });
  });
  afterEach(() => client.destroy());

  const types = () => sent.map((entries) => entries.map((entry) => entry.DetailType));

  it('puts each event on the configured bus with source taskbound, its detail-type and its detail as JSON', async () => {
    const issued = event('Grant Issued', 'task-1', { credentialId: 'ASIAEXAMPLE' });

    await publisher.publish([issued]);

    expect(sent).toEqual([[{ Source: 'taskbound', DetailType: 'Grant Issued', Detail: JSON.stringify(issued.detail), EventBusName: BUS }]]);
    expect(accepted).toMatchObject([{ busName: BUS, source: 'taskbound', detailType: 'Grant Issued', detail: issued.detail }]);
  });

  it('sends at most 10 entries per call, and no call for no events', async () => {
    await publisher.publish([]);
    await publisher.publish(many(23));

    expect(sent.map((entries) => entries.length)).toEqual([10, 10, 3]);
    expect(accepted).toHaveLength(23);
  });

  it('resends only the entries that failed transiently, after a backoff', async () => {
    failPutEventsEntries(client as never, (entry) => entry.DetailType === 'Grant Revoked', 'InternalFailure', 2);

    await publisher.publish([event('Grant Issued', 'task-1'), event('Grant Revoked', 'task-2'), event('Grant Issued', 'task-3')]);

    expect(types()).toEqual([['Grant Issued', 'Grant Revoked', 'Grant Issued'], ['Grant Revoked'], ['Grant Revoked']]);
    expectJitteredWaits(waits, [50, 100]);
    expect(accepted.map((event) => event.detailType).sort()).toEqual(['Grant Issued', 'Grant Issued', 'Grant Revoked']);
  });

  it('throws naming the detail-types still failing after the last attempt, having published the rest', async () => {
    failPutEventsEntries(client as never, (entry) => entry.DetailType === 'Revocation Failed', 'ThrottlingException');

    const error = (await publisher
      .publish([event('Grant Revoked', 'task-1'), event('Revocation Failed', 'task-2')])
      .catch((caught: unknown) => caught)) as EventPublishError;

    expect(error).toBeInstanceOf(EventPublishError);
    expect(error.message).toBe('1 of 2 events were not published: Revocation Failed (ThrottlingException)');
    expect(error.failed).toEqual([
      { detailType: 'Revocation Failed', grantId: grantIdFor('release-bot', 'task-2'), code: 'ThrottlingException' },
    ]);
    expect(sent).toHaveLength(3);
    expect(accepted.map((event) => event.detailType)).toEqual(['Grant Revoked']);
  });

  it('does not retry an entry EventBridge refused for good', async () => {
    failPutEventsEntries(client as never, (entry) => entry.DetailType === 'Grant Denied', 'MalformedDetail');

    await expect(publisher.publish([event('Grant Denied', 'task-1')])).rejects.toThrow('Grant Denied (MalformedDetail)');
    expect(sent).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('reports a bus that does not exist instead of losing the events', async () => {
    publisher = new EventBridgePublisher(client, { eventBusName: 'missing', sleep: async () => undefined });
    await expect(publisher.publish([event('Grant Issued', 'task-1')])).rejects.toThrow('Grant Issued (ResourceNotFoundException)');
  });

  it('still publishes the other batches when one call fails as a whole (every SDK attempt throttled), then throws with the cause', async () => {
    injectFaults(client as never, [
      { operation: 'PutEvents', error: () => awsServiceError('ThrottlingException', 400, 'Rate exceeded'), times: 3 },
    ]);

    const error = (await publisher.publish(many(12)).catch((caught: unknown) => caught)) as EventPublishError;

    expect(error).toBeInstanceOf(EventPublishError);
    expect(error.failed).toHaveLength(10);
    expect(error.failed.every((failed) => failed.code === 'ThrottlingException')).toBe(true);
    expect(error.cause).toBeInstanceOf(Error);
    expect(accepted).toHaveLength(2);
  });

  it('publishes identifiers that only mention secrets, such as a brokered secret’s ARN', async () => {
    await publisher.publish([
      event('Revocation Failed', 'task-1', { secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:stripe-key' }),
    ]);
    expect(accepted).toHaveLength(1);
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
    expect(accepted).toHaveLength(1);
  });
});
