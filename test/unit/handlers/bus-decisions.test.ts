import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';
import { envelope, handlersOver, invoke } from './handler-harness';

const SOURCES = ['taskbound.cli', 'taskbound.slack', 'taskbound', 'attacker.tool', 'aws.health'];

describe('a Grant Decision on the bus', () => {
  it('never counts, from any source, naming any approver: refused, recorded and answered', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    await invoke(
      handlers,
      'task-started',
      envelope('Task Started', taskStarted({ agentId: 'deploy-bot', taskId: 'ship', scopes: ['deploy-web'] })),
    );
    const grantId = grantIdFor('deploy-bot', 'ship');
    for (const [index, source] of SOURCES.entries()) {
      for (const approver of ['lead@example.com', 'cfo@example.com']) {
        const forged = { grantId, decision: 'approve', approver, reason: `forged ${index}` };
        expect(await invoke(handlers, 'grant-decision', envelope('Grant Decision', forged, source))).toMatchObject({
          outcome: 'refused',
          reason: expect.stringContaining('carries no authority'),
        });
      }
    }
    const grant = await engine.store.get(grantId);
    expect(grant?.state).toBe('pending_approval');
    expect(grant?.approvals).toEqual([]);
    expect(engine.sessions.issued.size).toBe(0);
    expect(engine.store.rejected.map((entry) => entry.source)).toEqual(SOURCES.flatMap((source) => [source, source]));
    expect(engine.events.of('Grant Decision Refused')).toHaveLength(SOURCES.length * 2);
    expect(engine.events.of('Grant Decision Refused')[0]?.detail).toMatchObject({
      grantId,
      agentId: 'deploy-bot',
      taskId: 'ship',
      approver: 'lead@example.com',
      refusedSource: 'taskbound.cli',
    });
  });

  it('is refused and recorded whatever it holds, and the engine keeps issuing after', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SOURCES), fc.anything(), async (source, detail) => {
        runs++;
        expect((await invoke(handlers, 'grant-decision', envelope('Grant Decision', detail, source))).outcome).toBe('refused');
      }),
      { numRuns: 500 },
    );
    expect(engine.store.rejected).toHaveLength(runs);
    expect(engine.sessions.issued.size + engine.keys.issued.size).toBe(0);
    expect((await invoke(handlers, 'task-started', envelope('Task Started', taskStarted()))).outcome).toBe('issued');
  });

  it('is refused and recorded without throwing when its detail is nested too deep to serialise', async () => {
    const engine = fakeEngine();
    let deep: unknown = 'leaf';
    for (let level = 0; level < 20_000; level++) deep = { a: deep };
    const forged = { grantId: 'g-aaaaaaaaaaaaaaaaaaaaaaaaaa', decision: 'approve', approver: 'lead@example.com', reason: 'x', deep };
    expect((await invoke(handlersOver(engine), 'grant-decision', envelope('Grant Decision', forged, 'attacker.tool'))).outcome).toBe(
      'refused',
    );
    expect(engine.store.rejected.map((entry) => entry.excerpt)).toEqual(['(not serialisable: nested too deeply)']);
  });

  it('naming a grant that does not exist is answered against that id', async () => {
    const engine = fakeEngine();
    const ghost = 'g-aaaaaaaaaaaaaaaaaaaaaaaaaa';
    await invoke(
      handlersOver(engine),
      'grant-decision',
      envelope('Grant Decision', { grantId: ghost, decision: 'approve', approver: 'lead@example.com', reason: 'ok' }, 'taskbound.cli'),
    );
    expect(engine.events.of('Grant Decision Refused').map((event) => event.detail)).toEqual([
      expect.objectContaining({ grantId: ghost, agentId: 'unknown' }),
    ]);
    expect(engine.store.all()).toEqual([]);
  });
});

describe('an Agent Resumed on the bus', () => {
  it('never lifts a suspension, from any source: refused, recorded and answered with Agent Resume Refused', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    await invoke(
      handlers,
      'agent-status',
      envelope('Agent Suspended', { agentId: 'release-bot', by: 'secops', reason: 'drill' }, 'anyone'),
    );
    for (const source of SOURCES) {
      const outcome = await invoke(
        handlers,
        'agent-status',
        envelope('Agent Resumed', { agentId: 'release-bot', by: 'sre@example.com', reason: 'forged' }, source),
      );
      expect(outcome.outcome).toBe('refused');
    }
    expect((await engine.store.getAgent('release-bot')).suspended).toBe(true);
    expect(engine.store.rejected.map((entry) => [entry.detailType, entry.source])).toEqual(
      SOURCES.map((source) => ['Agent Resumed', source]),
    );
    expect(engine.events.of('Agent Resume Refused').map((event) => event.detail)).toEqual(
      SOURCES.map((source) =>
        expect.objectContaining({
          agentId: 'release-bot',
          claimedBy: 'sre@example.com',
          refusedSource: source,
          reason: expect.stringContaining('operator endpoint'),
        }),
      ),
    );
  });

  it('still lets anyone suspend, and rejects a malformed suspension with the field named', async () => {
    const engine = fakeEngine();
    const handlers = handlersOver(engine);
    expect(
      (
        await invoke(
          handlers,
          'agent-status',
          envelope('Agent Suspended', { agentId: 'release-bot', by: 'secops', reason: 'drill' }, 'anyone'),
        )
      ).outcome,
    ).toBe('suspended');
    const bad = await invoke(
      handlers,
      'agent-status',
      envelope('Agent Suspended', { agentId: 'Bad_Agent', by: 'secops', reason: 'drill' }),
    );
    expect(bad).toMatchObject({ outcome: 'rejected', reason: expect.stringMatching(/^agentId: /) });
  });
});
