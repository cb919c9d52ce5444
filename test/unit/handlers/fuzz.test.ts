import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';
import { envelope, handlersOver, invoke } from './handler-harness';
import type { HandlerName } from '../../../lambdas/routes';

/** Bus decisions are refused whatever they hold (test/unit/handlers/bus-decisions.test.ts). */
const EVENT_HANDLERS: ReadonlyArray<readonly [HandlerName, string]> = [
  ['task-started', 'Task Started'],
  ['task-ended', 'Task Ended'],
  ['credential-leaked', 'Credential Leaked'],
  ['agent-status', 'Agent Suspended'],
  ['revoke-requested', 'Grant Revocation Requested'],
];

/** A valid Task Started with one field broken: missing (if required), wrong type, out of range. */
const INVALID: Readonly<Record<string, fc.Arbitrary<unknown>>> = {
  taskId: fc.oneof(fc.constantFrom('', 'bad id!', '../etc', 'a'.repeat(129), null), fc.integer()),
  agentId: fc.oneof(fc.constantFrom('', 'Bad_Agent', '-x', null), fc.integer()),
  purpose: fc.oneof(fc.constantFrom('', '   ', null), fc.string({ minLength: 1025, maxLength: 1100 }).filter((text) => text.trim().length > 1024), fc.integer()),
  requestedBy: fc.oneof(fc.constantFrom('', '  ', null), fc.string({ minLength: 257, maxLength: 300 }).filter((text) => text.trim().length > 256)),
  scopes: fc.oneof(fc.constant([]), fc.constant('repo-read'), fc.array(fc.constant('repo-read'), { minLength: 11, maxLength: 15 }), fc.constant([42])),
  ttlSeconds: fc.oneof(fc.integer({ min: -1000, max: 59 }), fc.integer({ min: 43_201 }), fc.constantFrom(90.5, '900', null)),
  context: fc.oneof(fc.constantFrom('text', null, 7), fc.constant([1, 2]), fc.constant({ blob: 'x'.repeat(5000) })),
};
const REQUIRED = ['taskId', 'agentId', 'purpose', 'requestedBy', 'scopes'];

const brokenTaskStarted = fc
  .constantFrom(...Object.keys(INVALID))
  .chain((field) => fc.tuple(fc.constant(field), REQUIRED.includes(field) ? fc.oneof(fc.constant(undefined), INVALID[field]!) : INVALID[field]!))
  .map(([field, value]) => {
    const detail: Record<string, unknown> = taskStarted({ taskId: 'fuzz' });
    if (value === undefined) delete detail[field];
    else detail[field] = value;
    return detail;
  });

describe('handlers under malformed input', () => {
  it('reject thousands of random events without throwing or issuing anything, and still issue after', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...EVENT_HANDLERS), fc.anything(), async ([handler, detailType], detail) => {
        const result = await invoke(handlers, handler, envelope(detailType, detail));
        runs++;
        expect(result.outcome).toBe('rejected');
      }),
      { numRuns: 2000 },
    );
    expect(engine.sessions.issued.size + engine.keys.issued.size).toBe(0);
    expect(engine.store.rejected).toHaveLength(runs);
    expect(engine.store.rejected.every((entry) => entry.reason.length > 0)).toBe(true);
    // The storm left the engine working: a valid request right after it is issued.
    expect((await invoke(handlers, 'task-started', envelope('Task Started', taskStarted()))).outcome).toBe('issued');
  });

  it('refuse a Task Started with any one field broken, with a reason naming the field', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    await fc.assert(
      fc.asyncProperty(brokenTaskStarted, async (detail) => {
        const result = await invoke(handlers, 'task-started', envelope('Task Started', detail));
        expect(result.outcome).toBe('rejected');
        expect(engine.store.rejected.at(-1)?.reason).toMatch(/^[a-zA-Z.0-9()]+: /);
      }),
      { numRuns: 500 },
    );
    expect(engine.sessions.issued.size).toBe(0);
    // Each names an agent and a task, so each is answered with Grant Denied.
    expect(engine.events.of('Grant Denied').length).toBeGreaterThan(0);
  });

  it('reject envelopes that are not EventBridge events at all', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (event) => {
        expect((await invoke(handlers, 'task-started', event)).outcome).toBe('rejected');
      }),
      { numRuns: 500 },
    );
    expect(engine.sessions.issued.size).toBe(0);
  });
});

describe('events naming a grant that does not exist', () => {
  it('are refused, recorded and change nothing', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    const ghost = 'g-aaaaaaaaaaaaaaaaaaaaaaaaaa';
    const revoked = await invoke(handlers, 'revoke-requested', envelope('Grant Revocation Requested', { grantId: ghost, by: 'secops@example.com', reason: 'cleanup' }));
    expect(revoked.outcome).toBe('not-found');
    expect(engine.store.rejected.map((entry) => entry.detailType)).toEqual(['Grant Revocation Requested']);
    expect(engine.store.all()).toEqual([]);
  });
});
