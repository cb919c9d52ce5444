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
  ['prove-revocation', 'Grant Revoked'],
];

/** A valid Task Started with one field broken: missing (if required), wrong type, out of range. */
const INVALID: Readonly<Record<string, fc.Arbitrary<unknown>>> = {
  taskId: fc.oneof(fc.constantFrom('', 'bad id!', '../etc', 'a'.repeat(129), null), fc.integer()),
  agentId: fc.oneof(fc.constantFrom('', 'Bad_Agent', '-x', null), fc.integer()),
  purpose: fc.oneof(
    fc.constantFrom('', '   ', null),
    fc.string({ minLength: 1025, maxLength: 1100 }).filter((text) => text.trim().length > 1024),
    fc.integer(),
  ),
  requestedBy: fc.oneof(
    fc.constantFrom('', '  ', null),
    fc.string({ minLength: 257, maxLength: 300 }).filter((text) => text.trim().length > 256),
  ),
  scopes: fc.oneof(
    fc.constant([]),
    fc.constant('repo-read'),
    fc.array(fc.constant('repo-read'), { minLength: 11, maxLength: 15 }),
    fc.constant([42]),
  ),
  ttlSeconds: fc.oneof(fc.integer({ min: -1000, max: 59 }), fc.integer({ min: 43_201 }), fc.constantFrom(90.5, '900', null)),
  context: fc.oneof(fc.constantFrom('text', null, 7), fc.constant([1, 2]), fc.constant({ blob: 'x'.repeat(5000) })),
};
const REQUIRED = ['taskId', 'agentId', 'purpose', 'requestedBy', 'scopes'];

const brokenTaskStarted = fc
  .constantFrom(...Object.keys(INVALID))
  .chain((field) =>
    fc.tuple(fc.constant(field), REQUIRED.includes(field) ? fc.oneof(fc.constant(undefined), INVALID[field]!) : INVALID[field]!),
  )
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

describe('a proof request for a grant that is not revoked (forged, repeated or late)', () => {
  it('proves nothing and touches nothing: the grant decides, not the event', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    await invoke(handlers, 'task-started', envelope('Task Started', taskStarted()));
    const [live] = engine.store.all();
    const result = await invoke(
      handlers,
      'prove-revocation',
      envelope('Grant Revoked', { grantId: live!.grantId, proof: 'pending' }, 'taskbound'),
    );
    expect(result.outcome).toBe('nothing-to-prove');
    expect(engine.store.all()).toEqual([live]);
    expect(engine.sessions.revokeCalls).toEqual([]);
    expect(engine.sessions.verifyPatience).toEqual([]);
  });
});

describe('events naming a grant that does not exist', () => {
  it('are refused, recorded and change nothing', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    const ghost = 'g-aaaaaaaaaaaaaaaaaaaaaaaaaa';
    const revoked = await invoke(
      handlers,
      'revoke-requested',
      envelope('Grant Revocation Requested', { grantId: ghost, by: 'secops@example.com', reason: 'cleanup' }),
    );
    expect(revoked.outcome).toBe('not-found');
    expect(engine.store.rejected.map((entry) => entry.detailType)).toEqual(['Grant Revocation Requested']);
    expect(engine.store.all()).toEqual([]);
  });
});

/** Values an attacker or a broken runtime sends, by the kind of field they land in. */
const HOSTILE_IDS = [
  '../../etc/passwd',
  '*',
  'a#b',
  'GRANT#g-aaaaaaaaaaaaaaaaaaaaaaaaaa',
  '\u202eksat',
  'task\u200b',
  'task\u0000',
  '\ud800',
  'x'.repeat(300_000),
];
/** C1 controls too: `\u009b` is the 8-bit form of a terminal's escape sequence introducer, `\u0085` a line break. */
const HOSTILE_TEXT = [
  '\u0000',
  'ok\u0000hidden',
  'csi \u009b31m red',
  'next\u0085line',
  'half \ud800 pair',
  '\udc00 reversed',
  'x'.repeat(300_000),
];
/** Principals also must not hide or reorder characters: `lead\u200b@` is not `lead@`, but looks it. */
const HOSTILE_PRINCIPALS = [
  ...HOSTILE_TEXT,
  'lead\u200b@example.com',
  'dev\u202e@example.com',
  'sre\u2066@example.com',
  // A soft hyphen is as invisible as a zero-width space; the Arabic letter mark changes direction as U+202E does.
  'lead\u00ad@example.com',
  'dev\u061c@example.com',
  // Look-alikes: a Cyrillic а, a Greek ο in a Latin word.
  '\u0430lice@example.com',
  'sec\u03bfps@example.com',
];

const VALID: ReadonlyArray<{
  readonly handler: HandlerName;
  readonly detailType: string;
  readonly source?: string;
  readonly detail: Record<string, unknown>;
}> = [
  { handler: 'task-started', detailType: 'Task Started', detail: taskStarted({ taskId: 'hostile' }) },
  {
    handler: 'task-ended',
    detailType: 'Task Ended',
    detail: { agentId: 'release-bot', taskId: 'hostile', outcome: 'succeeded', systemsTouched: ['codecommit:web'] },
  },
  {
    handler: 'credential-leaked',
    detailType: 'Credential Leaked',
    detail: { credentialId: 'AKIAEXAMPLE000000001', reportedBy: 'scanner', evidence: 'gist' },
  },
  { handler: 'agent-status', detailType: 'Agent Suspended', detail: { agentId: 'release-bot', by: 'secops@example.com', reason: 'drill' } },
  {
    handler: 'revoke-requested',
    detailType: 'Grant Revocation Requested',
    detail: { grantId: 'g-aaaaaaaaaaaaaaaaaaaaaaaaaa', by: 'secops@example.com', reason: 'cleanup' },
  },
];
const FIELD_KIND: Readonly<Record<string, 'id' | 'text' | 'principal'>> = {
  taskId: 'id',
  agentId: 'id',
  grantId: 'id',
  purpose: 'text',
  reason: 'text',
  evidence: 'text',
  requestedBy: 'principal',
  approver: 'principal',
  by: 'principal',
  reportedBy: 'principal',
};
const hostileFor = (kind: 'id' | 'text' | 'principal') =>
  kind === 'id' ? HOSTILE_IDS : kind === 'text' ? HOSTILE_TEXT : HOSTILE_PRINCIPALS;

const CASES = VALID.flatMap((valid) =>
  Object.keys(valid.detail)
    .filter((field) => FIELD_KIND[field])
    .flatMap((field) => hostileFor(FIELD_KIND[field]!).map((value) => ({ ...valid, field, value }))),
);

/** `n` levels of `{ a: … }` or `[…]`: deeper than any schema walks or stringifies without care. */
function nested(depth: number, array = false): unknown {
  let value: unknown = 'leaf';
  for (let level = 0; level < depth; level++) value = array ? [value] : { a: value };
  return value;
}

describe('handlers under hostile values', () => {
  it.each(CASES.map((c) => [c.handler, c.field, JSON.stringify(c.value.slice(0, 24)), c] as const))(
    '%s refuses %s = %s, naming the field, and issues nothing',
    async (_handler, field, _shown, c) => {
      const engine = fakeEngine();
      const handlers = handlersOver(engine);

      const result = await invoke(handlers, c.handler, envelope(c.detailType, { ...c.detail, [field]: c.value }, c.source));

      expect(result.outcome).toBe('rejected');
      expect(result.reason).toContain(field);
      expect(engine.sessions.issued.size + engine.keys.issued.size).toBe(0);
      expect(engine.store.rejected.at(-1)?.reason).toBe(result.reason);
    },
  );

  it('refuse a detail nested 20,000 levels deep, and a context nested as deep, without throwing', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    const deepDetail = await invoke(handlers, 'task-started', envelope('Task Started', nested(20_000)));
    const deepContext = await invoke(
      handlers,
      'task-started',
      envelope('Task Started', taskStarted({ taskId: 'deep-ctx', context: { x: nested(20_000) } })),
    );
    const deepArray = await invoke(
      handlers,
      'task-started',
      envelope('Task Started', taskStarted({ taskId: 'deep-arr', context: { x: nested(20_000, true) } })),
    );
    const deepEnd = await invoke(
      handlers,
      'task-ended',
      envelope('Task Ended', { agentId: 'release-bot', taskId: 'x', outcome: 'succeeded', systemsTouched: nested(20_000, true) }),
    );

    expect([deepDetail.outcome, deepContext.outcome, deepArray.outcome, deepEnd.outcome]).toEqual([
      'rejected',
      'rejected',
      'rejected',
      'rejected',
    ]);
    expect(deepContext.reason).toContain('context');
    expect(engine.store.rejected).toHaveLength(4);
    expect(engine.sessions.issued.size).toBe(0);
  });

  it.each(['repo\u001b[31m', 'repo-read\u202e', '../repo-read', '*', 'Repo-Read'])(
    'refuse a scope named %j, which no policy can define, naming scopes, and issue nothing',
    async (scope) => {
      const engine = fakeEngine();
      const handlers = handlersOver(engine);

      const result = await invoke(handlers, 'task-started', envelope('Task Started', taskStarted({ scopes: ['repo-read', scope] })));

      expect(result.outcome).toBe('rejected');
      expect(result.reason).toMatch(/^detail\.scopes\.1: scope names are lower-case letters, digits and dashes/);
      expect(engine.sessions.issued.size + engine.keys.issued.size).toBe(0);
    },
  );

  it.each(HOSTILE_TEXT.filter((text) => text.length < 512))(
    'refuse a Task Ended whose systemsTouched holds %j, naming it, and still end the task',
    async (system) => {
      const engine = fakeEngine();
      const handlers = handlersOver(engine);
      await invoke(handlers, 'task-started', envelope('Task Started', taskStarted({ taskId: 'hostile' })));

      const result = await invoke(
        handlers,
        'task-ended',
        envelope('Task Ended', { agentId: 'release-bot', taskId: 'hostile', outcome: 'succeeded', systemsTouched: ['s3', system] }),
      );

      expect(result.outcome).toBe('rejected');
      expect(result.reason).toMatch(/^detail\.systemsTouched\.1: must not contain control characters/);
      expect(engine.sessions.isLive(engine.store.all()[0]!.grantId)).toBe(false);
    },
  );

  it('refuse oversized lists, and still serve a valid request afterwards', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    const manyScopes = await invoke(
      handlers,
      'task-started',
      envelope('Task Started', taskStarted({ taskId: 'many', scopes: Array.from({ length: 100_000 }, () => 'repo-read') })),
    );
    const manySystems = await invoke(
      handlers,
      'task-ended',
      envelope('Task Ended', {
        agentId: 'release-bot',
        taskId: 'many',
        outcome: 'failed',
        systemsTouched: Array.from({ length: 100_000 }, (_, i) => `s${i}`),
      }),
    );

    expect([manyScopes.outcome, manySystems.outcome]).toEqual(['rejected', 'rejected']);
    expect((await invoke(handlers, 'task-started', envelope('Task Started', taskStarted()))).outcome).toBe('issued');
  });

  it.each([
    ['affectedEntities', { affectedEntities: 'AKIAEXAMPLE000000001' }],
    ['affectedEntities.0.entityValue', { affectedEntities: [{ entityValue: { nested: ['AKIAEXAMPLE000000001'] } }] }],
    ['affectedEntities', { affectedEntities: [] }],
  ])('refuse an AWS Health exposure whose %s is malformed, naming it, and revoke nothing', async (field, broken) => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    await invoke(handlers, 'task-started', envelope('Task Started', taskStarted()));

    const result = await invoke(
      handlers,
      'credential-leaked',
      envelope('AWS Health Event', { eventTypeCode: 'AWS_RISK_CREDENTIALS_EXPOSED', ...broken }, 'aws.health'),
    );

    expect(result.outcome).toBe('rejected');
    expect(result.reason).toMatch(new RegExp(`^detail\\.${field.replaceAll('.', '\\.')}: `));
    expect(engine.store.rejected.at(-1)?.reason).toBe(result.reason);
    expect(engine.sessions.isLive(engine.store.all()[0]!.grantId)).toBe(true);
  });

  it('treat ids shaped like injections in a leak report as unknown credentials: recorded, nothing revoked', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    await invoke(handlers, 'task-started', envelope('Task Started', taskStarted()));
    const suspects = [
      '*',
      '../taskbound/release-bot/task-1',
      'taskbound/release-bot/*',
      'arn:aws:iam::111122223333:user/taskbound/*',
      'AKIA#GRANT#x',
      'GRANT#g-aaaaaaaaaaaaaaaaaaaaaaaaaa',
    ];

    const outcomes = [];
    for (const credentialId of suspects)
      outcomes.push(
        (await invoke(handlers, 'credential-leaked', envelope('Credential Leaked', { credentialId, reportedBy: 'scanner' }))).outcome,
      );

    expect(outcomes).toEqual(suspects.map(() => 'unknown-credential'));
    expect(engine.sessions.isLive(engine.store.all()[0]!.grantId)).toBe(true);
    expect(engine.store.rejected.map((entry) => entry.reason)).toEqual(
      suspects.map(() => expect.stringContaining('not issued by Taskbound')),
    );
  });
});
