// Tests (local engine, host): the invoke path a bus delivery takes, with the stack's default
// reservations, over the real event bus and its stored state. Handlers are held on promises the
// test settles, so the assertions are about order, never about time.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEventBus, type EventBus, type EventEnvelope } from '../../../../lambdas/local/emulated-aws/event-bus';
import { localInvoker } from '../../../../lambdas/local/host/function-invoker';
import type { LocalHandler } from '../../../../lambdas/local/host/lambda-context';
import { ReservedConcurrency } from '../../../../lambdas/local/host/reserved-concurrency';
import {
  DEFAULT_RESERVED_CONCURRENCY,
  HANDLERS,
  reservedConcurrencyPerFunction,
  ROUTES,
  type HandlerName,
} from '../../../../lambdas/routes';
import { startStateStore, type StateStore } from '../emulated-aws/state-store';

/** Handlers that record each task they see; `task-started` waits until the test releases its task. */
class HeldHandlers {
  readonly started: string[] = [];
  readonly ended: string[] = [];
  private readonly releases = new Map<string, () => void>();

  constructor(private readonly holdStarts: boolean) {}

  handlers(): Record<HandlerName, LocalHandler> {
    const idle: LocalHandler = async () => undefined;
    const all = Object.fromEntries(HANDLERS.map((name) => [name, idle])) as Record<HandlerName, LocalHandler>;
    all['task-started'] = async (event: EventEnvelope) => {
      const taskId = String(event.detail.taskId);
      this.started.push(taskId);
      if (this.holdStarts) await new Promise<void>((release) => this.releases.set(taskId, release));
    };
    all['task-ended'] = async (event: EventEnvelope) => void this.ended.push(String(event.detail.taskId));
    return all;
  }

  release(taskId: string): void {
    this.releases.get(taskId)?.();
  }
}

const taskStarted = (taskId: string) => ({
  source: 'agent.runtime',
  detailType: 'Task Started',
  detail: { agentId: 'deploy-bot', taskId },
});
const taskEnded = (taskId: string) => ({ source: 'agent.runtime', detailType: 'Task Ended', detail: { agentId: 'deploy-bot', taskId } });
const tasks = (count: number) => Array.from({ length: count }, (_, index) => `task-${index + 1}`);

/** Waits (without a deadline of its own: vitest's timeout bounds it) until `check` holds. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('localInvoker with the stack default reservations (10 issuing, 20 revoking)', () => {
  let state: StateStore;
  const opened: EventBus[] = [];

  async function busWith(held: HeldHandlers): Promise<{ bus: EventBus; concurrency: ReservedConcurrency }> {
    const bus = await openEventBus({ tables: { events: state.table('events'), deadLetters: state.table('deadLetters') } });
    opened.push(bus);
    const concurrency = new ReservedConcurrency(reservedConcurrencyPerFunction(DEFAULT_RESERVED_CONCURRENCY, false));
    const invoke = localInvoker(held.handlers(), concurrency);
    for (const route of ROUTES) bus.addRule(route.name, route.pattern, (envelope) => invoke(route.handler, envelope));
    bus.start();
    return { bus, concurrency };
  }

  beforeEach(async () => {
    state = await startStateStore();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((bus) => bus.close()));
    state.close();
  });

  it('handles a Task Ended at once while every task-started slot is busy, and starts the 11th start only when one of the ten finishes', async () => {
    const held = new HeldHandlers(true);
    const { bus, concurrency } = await busWith(held);

    await bus.put(tasks(11).map(taskStarted));
    await until(() => held.started.length >= 10);
    await bus.put([taskEnded('task-1')]);
    await until(() => held.ended.length === 1);

    expect(held.ended).toEqual(['task-1']);
    expect(held.started).toEqual(tasks(10));
    expect(concurrency.load()['task-started']).toMatchObject({ limit: 10, inFlight: 10, queued: 1 });

    held.release('task-4');
    await until(() => held.started.length === 11);
    expect(held.started.at(-1)).toBe('task-11');
    for (const taskId of tasks(11)) held.release(taskId);
    await bus.idle();
    expect(concurrency.load()['task-started']).toMatchObject({ inFlight: 0, queued: 0, peakInFlight: 10, peakQueued: 1, invocations: 11 });
  });

  it('delivers the starts that were queued, and those in flight, after a crash and a restart over the same state', async () => {
    const before = new HeldHandlers(true);
    const { bus: crashed } = await busWith(before);
    await crashed.put(tasks(11).map(taskStarted));
    await until(() => before.started.length >= 10);
    // The process dies: nothing in flight or queued finishes; the stored events are all that is left.
    await crashed.close();

    const after = new HeldHandlers(false);
    const { bus: restarted } = await busWith(after);
    await until(() => after.started.length === 11);
    await restarted.idle();

    expect([...after.started].sort()).toEqual([...tasks(11)].sort());
    expect(before.started).not.toContain('task-11');
    expect(restarted.deadLetters()).toEqual([]);
  });
});
