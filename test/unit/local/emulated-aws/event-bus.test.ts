import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEventBus, type DeadLetter, type EventBus, type EventEnvelope } from '../../../../lambdas/local/emulated-aws/event-bus';
import { ROUTES } from '../../../../lambdas/routes';
import { startStateStore, type StateStore } from './state-store';

const FAST_RETRY = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 };
const never = () => new Promise<void>(() => undefined);

describe('event bus', () => {
  let state: StateStore;
  const opened: EventBus[] = [];

  async function open(options: Parameters<typeof openEventBus>[0] = {}): Promise<EventBus> {
    const tables = { events: state.table('events'), deadLetters: state.table('deadLetters') };
    const bus = await openEventBus({ tables, retry: FAST_RETRY, ...options });
    opened.push(bus);
    return bus;
  }

  beforeEach(async () => {
    state = await startStateStore();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((bus) => bus.close()));
    state.close();
  });

  it('hands targets an EventBridge envelope', async () => {
    const bus = await open({ region: 'eu-west-1' });
    const received: EventEnvelope[] = [];
    bus.addRule('all-task-started', { 'detail-type': ['Task Started'] }, async (envelope) => {
      received.push(envelope);
    });
    bus.start();
    const [accepted] = await bus.put([
      {
        source: 'agent.runtime',
        detailType: 'Task Started',
        detail: { taskId: 't1' },
        resources: ['arn:aws:x'],
        time: new Date('2030-01-01T00:00:00.123Z'),
      },
    ]);
    await bus.idle();

    expect(received).toEqual([
      {
        version: '0',
        id: accepted?.id,
        'detail-type': 'Task Started',
        source: 'agent.runtime',
        account: '000000000000',
        time: '2030-01-01T00:00:00Z',
        region: 'eu-west-1',
        resources: ['arn:aws:x'],
        detail: { taskId: 't1' },
      },
    ]);
  });

  it('routes each event to the handlers whose ROUTES pattern matches source, detail-type and detail fields', async () => {
    const bus = await open();
    const deliveries: string[] = [];
    for (const route of ROUTES) {
      bus.addRule(route.name, route.pattern, async (envelope) => {
        deliveries.push(`${envelope['detail-type']} -> ${route.handler}`);
      });
    }
    bus.start();
    await bus.put([
      { source: 'agent.runtime', detailType: 'Task Started', detail: {} },
      { source: 'aws.health', detailType: 'AWS Health Event', detail: { eventTypeCode: 'AWS_RISK_CREDENTIALS_EXPOSED' } },
      { source: 'aws.health', detailType: 'AWS Health Event', detail: { eventTypeCode: 'AWS_EC2_MAINTENANCE_SCHEDULED' } },
      { source: 'taskbound', detailType: 'Grant Issued', detail: {} },
      { source: 'someone.else', detailType: 'Grant Issued', detail: {} },
      { source: 'ops', detailType: 'Agent Suspended', detail: {} },
    ]);
    await bus.idle();

    expect(deliveries.sort()).toEqual(
      [
        'Task Started -> task-started',
        'AWS Health Event -> credential-leaked',
        'Grant Issued -> alerts',
        'Agent Suspended -> agent-status',
        'Agent Suspended -> alerts',
      ].sort(),
    );
  });

  it('tells subscribers about every accepted event', async () => {
    const bus = await open();
    const seen: string[] = [];
    const unsubscribe = bus.subscribe((envelope) => seen.push(envelope['detail-type']));
    await bus.put([{ source: 's', detailType: 'One', detail: {} }]);
    unsubscribe();
    await bus.put([{ source: 's', detailType: 'Two', detail: {} }]);
    expect(seen).toEqual(['One']);
  });

  it('retries a failing target until it succeeds', async () => {
    const bus = await open();
    let attempts = 0;
    bus.addRule('flaky', { source: ['s'] }, async () => {
      attempts += 1;
      if (attempts < 3) throw new Error('not yet');
    });
    bus.start();
    await bus.put([{ source: 's', detailType: 'Ping', detail: {} }]);
    await bus.idle();
    expect(attempts).toBe(3);
    expect(bus.deadLetters()).toEqual([]);
  });

  it('dead-letters an event after the last attempt, reports it and keeps it across a restart', async () => {
    const reported: DeadLetter[] = [];
    const bus = await open({ onDeadLetter: (deadLetter) => reported.push(deadLetter) });
    let attempts = 0;
    bus.addRule('broken', { source: ['s'] }, async () => {
      attempts += 1;
      throw new TypeError('handler broke');
    });
    bus.start();
    const [envelope] = await bus.put([{ source: 's', detailType: 'Ping', detail: {} }]);
    await bus.idle();

    expect(attempts).toBe(FAST_RETRY.maxAttempts);
    expect(reported).toEqual([{ rule: 'broken', envelope, attempts: 3, error: 'TypeError: handler broke' }]);
    await bus.close();

    const reopened = await open();
    let redelivered = 0;
    reopened.addRule('broken', { source: ['s'] }, async () => {
      redelivered += 1;
    });
    reopened.start();
    await reopened.idle();
    expect(reopened.deadLetters()).toEqual(reported);
    expect(redelivered).toBe(0);
  });

  it('after a crash, delivers again what was accepted but not delivered, and only to the rules still owed it', async () => {
    const crashed = await open();
    crashed.addRule('fast', { source: ['s'] }, async () => undefined);
    crashed.addRule('stuck', { source: ['s'] }, never);
    crashed.start();
    const [envelope] = await crashed.put([{ source: 's', detailType: 'Task Ended', detail: { taskId: 't1' } }]);
    await expect.poll(async () => (await state.items('events'))[0]?.done).toEqual(new Set(['fast']));

    const restarted = await open();
    const received: Array<[string, string]> = [];
    restarted.addRule('fast', { source: ['s'] }, async (event) => {
      received.push(['fast', event.id]);
    });
    restarted.addRule('stuck', { source: ['s'] }, async (event) => {
      received.push(['stuck', event.id]);
    });
    restarted.start();
    await restarted.idle();
    expect(received).toEqual([['stuck', envelope?.id]]);
    await restarted.close();

    const third = await open();
    third.addRule('stuck', { source: ['s'] }, async (event) => {
      received.push(['again', event.id]);
    });
    third.start();
    await third.idle();
    expect(received).toHaveLength(1);
  });

  it('holds accepted events until started, then delivers them', async () => {
    const bus = await open();
    const received: string[] = [];
    await bus.put([{ source: 's', detailType: 'Early', detail: {} }]);
    bus.addRule('late', { source: ['s'] }, async (envelope) => {
      received.push(envelope['detail-type']);
    });
    bus.start();
    await bus.idle();
    expect(received).toEqual(['Early']);
  });

  it('stores nothing for an event no rule wants once started, but still tells subscribers', async () => {
    const bus = await open();
    bus.addRule('sink', { source: ['s'] }, never);
    bus.start();
    const seen: string[] = [];
    bus.subscribe((envelope) => seen.push(envelope.source));

    await bus.put([{ source: 'nobody.listens', detailType: 'Ping', detail: {} }]);

    expect(seen).toEqual(['nobody.listens']);
    expect(await state.items('events')).toEqual([]);
  });

  it('keeps an event only until every matching rule has it, and a dead letter for good', async () => {
    const bus = await open();
    bus.addRule('sink', { source: ['s'] }, async () => undefined);
    bus.addRule('broken', { source: ['broken'] }, async () => {
      throw new Error('no');
    });
    bus.start();
    const accepted = await bus.put(Array.from({ length: 10 }, (_, n) => ({ source: 's', detailType: 'Bulk', detail: { n } })));
    const [failed] = await bus.put([{ source: 'broken', detailType: 'Bulk', detail: {} }]);
    await bus.idle();

    expect(accepted).toHaveLength(10);
    expect(await state.items('events')).toEqual([]);
    expect(await state.items('deadLetters')).toEqual([
      { id: `${failed?.id}/broken`, deadLetter: expect.stringContaining('"rule":"broken"') },
    ]);
  });
});
