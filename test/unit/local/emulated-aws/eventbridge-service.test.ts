import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAwsProtocolServer, type RunningServer } from '../../../../lambdas/local/emulated-aws/aws-protocol-server';
import { openEventBus, type EventBus, type EventEnvelope } from '../../../../lambdas/local/emulated-aws/event-bus';
import { createEventBridgeService, type ReservedSourceRefusal } from '../../../../lambdas/local/emulated-aws/eventbridge-service';
import { requestCaller } from '../../../../lambdas/local/emulated-aws/request-caller';
import { LOCAL_CREDENTIALS, localClientConfig } from '../../../../lambdas/local/host/sdk-clients';
import { startStateStore, type StateStore } from './state-store';

const valid = (overrides: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
  EventBusName: 'taskbound',
  Source: 'agent.runtime',
  DetailType: 'Task Started',
  Detail: JSON.stringify({ taskId: 't1', agentId: 'release-bot' }),
  ...overrides,
});

describe('eventbridge service', () => {
  let state: StateStore;
  let bus: EventBus;
  let server: RunningServer;
  let client: EventBridgeClient;
  let received: EventEnvelope[];
  let refused: ReservedSourceRefusal[];

  const tables = () => ({ events: state.table('events'), deadLetters: state.table('deadLetters') });

  async function serve(target: EventBus): Promise<void> {
    refused = [];
    const callerOf = requestCaller({ engineKey: LOCAL_CREDENTIALS, signatureClock: { now: () => new Date() } });
    server = await startAwsProtocolServer({
      services: [createEventBridgeService(target, { callerOf, onRefused: (refusal) => refused.push(refusal) })],
    });
    client = new EventBridgeClient(localClientConfig(server.url));
  }

  /** A client signing with a key of its own, as a runtime does. */
  const clientAs = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
    new EventBridgeClient({ ...localClientConfig(server.url), credentials, maxAttempts: 1 });

  beforeEach(async () => {
    state = await startStateStore();
    received = [];
    bus = await openEventBus({ tables: tables() });
    bus.addRule('task-started', { 'detail-type': ['Task Started'] }, async (envelope) => {
      received.push(envelope);
    });
    bus.start();
    await serve(bus);
  });
  afterEach(async () => {
    client.destroy();
    await server.close();
    await bus.close();
    state.close();
  });

  it('accepts valid entries, answers their event ids and delivers them to matching rules', async () => {
    const result = await client.send(new PutEventsCommand({ Entries: [valid(), valid({ Time: new Date('2030-01-01T00:00:00Z') })] }));
    await bus.idle();

    expect(result.FailedEntryCount).toBe(0);
    expect(received.map((envelope) => envelope.id)).toEqual(result.Entries?.map((entry) => entry.EventId));
    expect(received[0]?.detail).toEqual({ taskId: 't1', agentId: 'release-bot' });
    expect(received[1]?.time).toBe('2030-01-01T00:00:00Z');
  });

  it('accepts the bus by its ARN', async () => {
    const result = await client.send(
      new PutEventsCommand({ Entries: [valid({ EventBusName: 'arn:aws:events:us-east-1:000000000000:event-bus/taskbound' })] }),
    );
    expect(result.FailedEntryCount).toBe(0);
  });

  it('answers each invalid entry with its own error and still accepts the valid ones', async () => {
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          valid({ Source: undefined }),
          valid({ DetailType: undefined }),
          valid({ Detail: undefined }),
          valid({ Detail: '{not json' }),
          valid({ Detail: '["an array"]' }),
          valid({ EventBusName: undefined }),
          valid({ EventBusName: 'default' }),
          valid(),
        ],
      }),
    );
    await bus.idle();

    expect(result.FailedEntryCount).toBe(7);
    expect(result.Entries?.slice(0, 5)).toEqual([
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.' },
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.' },
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Detail is not valid. Reason: Detail is a required argument.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
    ]);
    expect(result.Entries?.[5]).toMatchObject({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: expect.stringContaining('Event bus default does not exist locally'),
    });
    expect(result.Entries?.[6]).toMatchObject({ ErrorCode: 'InvalidArgument' });
    expect(result.Entries?.[7]).toEqual({ EventId: received[0]?.id });
    expect(received).toHaveLength(1);
  });

  it('refuses a Detail nested 20,000 levels deep as malformed, on its own, and still accepts the valid entries beside it', async () => {
    const deep = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;

    const result = await client.send(new PutEventsCommand({ Entries: [valid({ Detail: deep }), valid()] }));
    await bus.idle();

    expect(result.FailedEntryCount).toBe(1);
    expect(result.Entries?.[0]).toEqual({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' });
    expect(received.map((envelope) => envelope.id)).toEqual([result.Entries?.[1]?.EventId]);
  });

  it('refuses an entry beyond the API constraints on its own: a Source over 256 characters, a DetailType over 128', async () => {
    const result = await client.send(
      new PutEventsCommand({ Entries: [valid({ Source: 's'.repeat(257) }), valid({ DetailType: 'd'.repeat(129) }), valid()] }),
    );
    await bus.idle();

    expect(result.FailedEntryCount).toBe(2);
    expect(result.Entries?.[0]).toMatchObject({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: expect.stringMatching(/^Parameter Source is not valid/),
    });
    expect(result.Entries?.[1]).toMatchObject({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: expect.stringMatching(/^Parameter DetailType is not valid/),
    });
    expect(received).toHaveLength(1);
  });

  it('tells a caller sending Detail as a JSON object (curl, hand-built JSON) that it must be a string, not that it is missing', async () => {
    const entry = { ...valid(), Detail: { taskId: 't1', agentId: 'release-bot' } };
    const response = await fetch(`${server.url}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSEvents.PutEvents',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIALOCALRUNTIME0000/20261201/us-east-1/events/aws4_request, SignedHeaders=host, Signature=00',
      },
      body: JSON.stringify({ Entries: [entry] }),
    });

    expect(await response.json()).toEqual({
      FailedEntryCount: 1,
      Entries: [
        {
          ErrorCode: 'InvalidArgument',
          ErrorMessage:
            "Parameter Detail is not valid. Reason: Detail must be a string: the event's JSON object, serialised (JSON.stringify, json.dumps), not the object itself.",
        },
      ],
    });
    expect(received).toHaveLength(0);
  });

  it("refuses a source under AWS's reserved aws. prefix as AWS does, except aws.health (to rehearse an exposure)", async () => {
    const result = await client.send(
      new PutEventsCommand({ Entries: [valid({ Source: 'aws.myapp' }), valid({ Source: 'aws.health', DetailType: 'AWS Health Event' })] }),
    );

    expect(result.FailedEntryCount).toBe(1);
    expect(result.Entries?.[0]).toEqual({ ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' });
    expect(result.Entries?.[1]?.EventId).toBeDefined();
  });

  describe('sources only the engine may send', () => {
    beforeEach(() => {
      bus.addRule('engine-events', { source: ['taskbound', 'taskbound.slack'] }, async (envelope) => {
        received.push(envelope);
      });
    });

    it('refuses a whole call with any taskbound or taskbound.slack entry from another key: AccessDeniedException', async () => {
      const runtime = clientAs({ accessKeyId: 'AKIAEXAMPLERUNTIME00', secretAccessKey: 'runtime-secret' });
      try {
        for (const source of ['taskbound', 'taskbound.slack']) {
          await expect(
            runtime.send(new PutEventsCommand({ Entries: [valid(), valid({ Source: source, DetailType: 'Grant Issued' })] })),
          ).rejects.toMatchObject({
            name: 'AccessDeniedException',
            $metadata: { httpStatusCode: 400 },
            message: `User: arn:aws:iam::000000000000:user/AKIAEXAMPLERUNTIME00 is not authorized to perform: events:PutEvents on resource: ${bus.arn} with an explicit deny in a resource-based policy (only the engine may send events with source ${source})`,
          });
        }
      } finally {
        runtime.destroy();
      }
      await bus.idle();

      expect(received).toEqual([]);
      expect(refused).toEqual([
        { principal: 'arn:aws:iam::000000000000:user/AKIAEXAMPLERUNTIME00', sources: ['taskbound'] },
        { principal: 'arn:aws:iam::000000000000:user/AKIAEXAMPLERUNTIME00', sources: ['taskbound.slack'] },
      ]);
    });

    it("refuses a caller claiming the engine's key id without its secret key", async () => {
      const forger = clientAs({ accessKeyId: LOCAL_CREDENTIALS.accessKeyId, secretAccessKey: 'guessed' });
      try {
        await expect(forger.send(new PutEventsCommand({ Entries: [valid({ Source: 'taskbound' })] }))).rejects.toMatchObject({
          name: 'AccessDeniedException',
        });
      } finally {
        forger.destroy();
      }
      expect(received).toEqual([]);
    });

    it("accepts them signed with the engine's key, and any other source from anyone (taskbound.cli included)", async () => {
      const engine = await client.send(
        new PutEventsCommand({
          Entries: [
            valid({ Source: 'taskbound', DetailType: 'Grant Issued' }),
            valid({ Source: 'taskbound.slack', DetailType: 'Grant Issued' }),
          ],
        }),
      );
      const runtime = clientAs({ accessKeyId: 'AKIAEXAMPLERUNTIME00', secretAccessKey: 'runtime-secret' });
      const cli = await runtime
        .send(new PutEventsCommand({ Entries: [valid({ Source: 'taskbound.cli' })] }))
        .finally(() => runtime.destroy());
      await bus.idle();

      expect([engine.FailedEntryCount, cli.FailedEntryCount]).toEqual([0, 0]);
      expect(received.map((envelope) => envelope.source).sort()).toEqual(['taskbound', 'taskbound.cli', 'taskbound.slack']);
      expect(refused).toEqual([]);
    });

    it('leaves an entry for another bus to its own per-entry refusal, as that bus has no such policy', async () => {
      const runtime = clientAs({ accessKeyId: 'AKIAEXAMPLERUNTIME00', secretAccessKey: 'runtime-secret' });
      const result = await runtime
        .send(new PutEventsCommand({ Entries: [valid({ Source: 'taskbound', EventBusName: 'default' })] }))
        .finally(() => runtime.destroy());

      expect(result.Entries?.[0]?.ErrorCode).toBe('InvalidArgument');
      expect(refused).toEqual([]);
    });
  });

  it('refuses a request of no entries or more than ten: ValidationException', async () => {
    await expect(client.send(new PutEventsCommand({ Entries: [] }))).rejects.toMatchObject({
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(client.send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => valid()) }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    expect(received).toHaveLength(0);
  });

  it('refuses entries over 256 KB in total: ValidationException', async () => {
    const big = JSON.stringify({ padding: 'x'.repeat(256 * 1024) });
    await expect(client.send(new PutEventsCommand({ Entries: [valid({ Detail: big })] }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Total size of the entries in the request is over the limit.',
    });
  });

  it('stores accepted entries before answering, so a crash right after still delivers them', async () => {
    await bus.close();
    const unstarted = await openEventBus({ tables: tables() });
    client.destroy();
    await server.close();
    await serve(unstarted);
    const result = await client.send(new PutEventsCommand({ Entries: [valid()] }));

    const restarted = await openEventBus({ tables: tables() });
    const redelivered: string[] = [];
    restarted.addRule('task-started', { 'detail-type': ['Task Started'] }, async (envelope) => {
      redelivered.push(envelope.id);
    });
    restarted.start();
    await restarted.idle();
    await Promise.all([restarted.close(), unstarted.close()]);

    expect(redelivered).toEqual([result.Entries?.[0]?.EventId]);
  });
});
