import { describe, expect, it } from 'vitest';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { suspendAgent, resumeAgent } from '../../../lambdas/use-cases/change-agent-status';
import { sweepDueGrants } from '../../../lambdas/use-cases/sweep';
import { fakeEngine, taskStarted } from '../../helpers/fake-engine';
import type { DeliveryPayload, EventPublisher } from '../../../lambdas/ports';
import type { Suspension } from '../../../lambdas/domain/report';
import { bump } from '../../../lambdas/domain/grant';

describe('suspendAgent and resumeAgent', () => {
  it('suspension revokes every live grant and denies new ones until resumed', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted({ taskId: 'a' }));
    await startTask(engine, taskStarted({ taskId: 'b' }));
    const suspended = await suspendAgent(engine, { agentId: 'release-bot', by: 'secops@example.com', reason: 'odd behaviour' });
    expect(suspended.revoked.map((result) => result.outcome)).toEqual(['verified', 'verified']);
    expect((await startTask(engine, taskStarted({ taskId: 'c' }))).outcome).toBe('denied');
    await resumeAgent(engine, { agentId: 'release-bot', by: 'secops@example.com', reason: 'fixed' });
    expect((await startTask(engine, taskStarted({ taskId: 'd' }))).outcome).toBe('issued');
  });

  it("a second kill switch keeps the first one's who, why and when, records itself as the latest repeat, and still revokes", async () => {
    const engine = fakeEngine();
    await suspendAgent(engine, { agentId: 'release-bot', by: 'secops@example.com', reason: 'odd behaviour' });
    const first = await engine.store.getAgent('release-bot');
    engine.clock.advance(30_000);

    const again = await suspendAgent(engine, { agentId: 'release-bot', by: 'oncall@example.com', reason: 'still odd' });

    expect(again.outcome).toBe('suspended');
    expect(await engine.store.getAgent('release-bot')).toEqual({
      ...first,
      repeatCount: 1,
      lastRepeatedBy: 'oncall@example.com',
      lastRepeatedReason: 'still odd',
      lastRepeatedAt: engine.clock.now().toISOString(),
    });
    expect(engine.events.of('Agent Suspension Completed')).toHaveLength(2);
  });

  it('a resume that read the suspension before it was thrown again lifts nothing; one that read the repeat lifts it', async () => {
    const engine = fakeEngine();
    await suspendAgent(engine, { agentId: 'release-bot', by: 'secops@example.com', reason: 'odd behaviour' });
    const seenBefore = await engine.store.getAgent('release-bot');
    await suspendAgent(engine, { agentId: 'release-bot', by: 'oncall@example.com', reason: 'still odd' });

    const stale = await resumeAgent(engine, { agentId: 'release-bot', by: 'cfo@example.com', reason: 'fixed' }, seenBefore);
    const current = await resumeAgent(
      engine,
      { agentId: 'release-bot', by: 'cfo@example.com', reason: 'fixed' },
      await engine.store.getAgent('release-bot'),
    );

    expect([stale.outcome, current.outcome]).toEqual(['superseded', 'resumed']);
    expect(await engine.store.getAgent('release-bot')).toMatchObject({ suspended: false, by: 'cfo@example.com' });
    expect(await engine.store.getAgent('release-bot')).not.toHaveProperty('repeatCount');
  });

  it('a suspension of an unregistered agent with no grants is refused and recorded, not applied', async () => {
    const engine = fakeEngine();
    const result = await suspendAgent(engine, { agentId: 'nobody-bot', by: 'secops@example.com', reason: 'typo' });
    expect(result).toMatchObject({ outcome: 'unknown-agent', reason: expect.stringMatching(/not registered/) });
    expect((await engine.store.getAgent('nobody-bot')).suspended).toBe(false);
    expect(engine.store.rejected).toHaveLength(1);
  });

  it('a start that re-read the agent just before the suspension was written is still revoked by it', async () => {
    const engine = fakeEngine();
    // The suspension's write waits until a start has created its grant and re-read the agent.
    let writeSuspension!: () => void;
    const startHasRun = new Promise<void>((resolve) => (writeSuspension = resolve));
    const recordSuspension = engine.store.recordSuspension.bind(engine.store);
    engine.store.recordSuspension = async (suspension: Suspension) => {
      await startHasRun;
      return recordSuspension(suspension);
    };
    const suspending = suspendAgent(engine, { agentId: 'release-bot', by: 'secops@example.com', reason: 'odd behaviour' });
    const started = await startTask(engine, taskStarted({ taskId: 'racing' }));
    writeSuspension();
    await suspending;
    expect(started.outcome).toBe('issued');
    expect((await engine.store.get(started.grant.grantId))?.state).toBe('verified');
  });

  it('a live grant the eventually consistent live index does not show yet is found by its concurrency slot', async () => {
    const engine = fakeEngine();
    const started = await startTask(engine, taskStarted({ taskId: 'just-started' }));
    engine.store.grantsOfAgent = async () => [];
    const suspended = await suspendAgent(engine, { agentId: 'release-bot', by: 'secops@example.com', reason: 'odd behaviour' });
    expect(suspended.revoked.map((result) => result.outcome)).toEqual(['verified']);
    expect((await engine.store.get(started.grant.grantId))?.state).toBe('verified');
  });

  it('kills the sessions with one agent-wide revocation and the keys one by one, then verifies every grant', async () => {
    const engine = fakeEngine();
    const started = [];
    for (const [index, scopes] of [['repo-read'], ['bucket-read-key'], ['repo-read'], ['bucket-read-key']].entries()) {
      started.push(await startTask(engine, taskStarted({ agentId: 'deploy-bot', taskId: `t-${index}`, scopes })));
    }
    engine.clock.advance(1000);

    const suspended = await suspendAgent(engine, { agentId: 'deploy-bot', by: 'secops@example.com', reason: 'odd behaviour' });

    expect(engine.sessions.agentRevocations).toEqual([{ agentId: 'deploy-bot', issuedBefore: engine.clock.now() }]);
    expect(engine.sessions.revokeCalls).toEqual([]);
    expect(engine.keys.revokeCalls.sort()).toEqual([started[1]!.grant.grantId, started[3]!.grant.grantId].sort());
    expect(suspended.revoked.map((result) => result.outcome)).toEqual(['verified', 'verified', 'verified', 'verified']);
    for (const { grant } of started) expect(engine.sessions.isLive(grant.grantId) || engine.keys.isLive(grant.grantId)).toBe(false);
  });

  it('revokes on its own a session issued at the moment of the suspension: the agent-wide step covers only earlier ones', async () => {
    const engine = fakeEngine();
    const started = await startTask(engine, taskStarted({ taskId: 'same-instant' }));

    await suspendAgent(engine, { agentId: 'release-bot', by: 'secops@example.com', reason: 'odd behaviour' });

    expect(engine.sessions.agentRevocations).toEqual([{ agentId: 'release-bot', issuedBefore: engine.clock.now() }]);
    expect(engine.sessions.revokeCalls).toEqual([started.grant.grantId]);
    expect((await engine.store.get(started.grant.grantId))?.state).toBe('verified');
  });

  it('revokes each session on its own when the agent-wide revocation fails, and still verifies them', async () => {
    const engine = fakeEngine();
    const started = [await startTask(engine, taskStarted({ taskId: 'a' })), await startTask(engine, taskStarted({ taskId: 'b' }))];
    engine.clock.advance(1000);
    engine.sessions.failAgentRevocations = 1;

    const suspended = await suspendAgent(engine, { agentId: 'release-bot', by: 'secops@example.com', reason: 'odd behaviour' });

    expect(engine.sessions.revokeCalls.sort()).toEqual(started.map(({ grant }) => grant.grantId).sort());
    expect(suspended.revoked.map((result) => result.outcome)).toEqual(['verified', 'verified']);
  });

  it('reads a grant again when the listing was stale, so a grant changed meanwhile still ends verified', async () => {
    const engine = fakeEngine();
    const started = await startTask(engine, taskStarted({ taskId: 'changed' }));
    engine.clock.advance(1000);
    const listed = await engine.store.grantsOfAgent('release-bot', { liveOnly: true });
    const current = (await engine.store.get(started.grant.grantId))!;
    await engine.store.update(current, bump(current, engine.clock.now().toISOString(), { reason: 'an unrelated write' }));
    engine.store.grantsOfAgent = async () => listed;

    await suspendAgent(engine, { agentId: 'release-bot', by: 'secops@example.com', reason: 'odd behaviour' });

    expect((await engine.store.get(started.grant.grantId))?.state).toBe('verified');
  });

  it('sends the events of many revocations in full PutEvents-sized calls', async () => {
    const engine = fakeEngine();
    for (const index of [0, 1, 2, 3, 4])
      await startTask(engine, taskStarted({ agentId: 'deploy-bot', taskId: `t-${index}`, scopes: ['repo-read'] }));
    engine.clock.advance(1000);
    const calls: number[] = [];
    const events: EventPublisher = { publish: async (batch) => void calls.push(batch.length) };

    await suspendAgent({ ...engine, events }, { agentId: 'deploy-bot', by: 'secops@example.com', reason: 'odd behaviour' });

    // Five grants' `Grant Revoked` and `Revocation Verified`, then the kill switch's summary.
    expect(calls).toEqual([10, 1]);
  });

  it('sums the kill switch up in one Agent Suspension Completed: its grants by how their revocation ended', async () => {
    const engine = fakeEngine();
    for (const [index, scopes] of [['repo-read'], ['bucket-read-key'], ['bucket-read-key']].entries())
      await startTask(engine, taskStarted({ agentId: 'deploy-bot', taskId: `t-${index}`, scopes }));
    engine.clock.advance(1000);
    // Each key fails twice: in the kill step, then in its own revocation, which says Revocation Failed.
    engine.keys.failRevocations = 4;

    await suspendAgent(engine, { agentId: 'deploy-bot', by: 'secops@example.com', reason: 'odd behaviour' });

    const summaries = engine.events.of('Agent Suspension Completed');
    expect(summaries).toHaveLength(1);
    expect(summaries[0]?.detail).toMatchObject({
      grantId: '',
      taskId: '',
      agentId: 'deploy-bot',
      reason: 'suspended by secops@example.com: odd behaviour',
      revocations: { grants: 3, verified: 1, awaitingProof: 0, failed: 2, closedOtherwise: 0 },
    });
    expect(engine.events.of('Revocation Failed')).toHaveLength(2);
  });

  it('says so when the suspended agent held no live grant', async () => {
    const engine = fakeEngine();

    await suspendAgent(engine, { agentId: 'release-bot', by: 'secops@example.com', reason: 'drill' });

    expect(engine.events.of('Agent Suspension Completed')[0]?.detail).toMatchObject({
      agentId: 'release-bot',
      revocations: { grants: 0, verified: 0, failed: 0 },
    });
  });

  it('revokes agent-wide, after listing, the sessions of an agent the policy no longer names', async () => {
    const engine = fakeEngine();
    const started = [await startTask(engine, taskStarted({ taskId: 'a' })), await startTask(engine, taskStarted({ taskId: 'b' }))];
    engine.clock.advance(1000);
    const { 'release-bot': dropped, ...agents } = engine.policy.agents;
    expect(dropped).toBeDefined();

    const suspended = await suspendAgent(
      { ...engine, policy: { ...engine.policy, agents } },
      { agentId: 'release-bot', by: 'secops@example.com', reason: 'retired' },
    );

    expect(engine.sessions.agentRevocations).toEqual([{ agentId: 'release-bot', issuedBefore: engine.clock.now() }]);
    expect(engine.sessions.revokeCalls).toEqual([]);
    expect(suspended.revoked.map((result) => result.outcome)).toEqual(started.map(() => 'verified'));
  });

  describe('deleting the deliveries once every grant is proven dead', () => {
    async function threeSessions() {
      const engine = fakeEngine();
      const started = [];
      for (const index of [0, 1, 2])
        started.push(await startTask(engine, taskStarted({ agentId: 'deploy-bot', taskId: `t-${index}`, scopes: ['repo-read'] })));
      engine.clock.advance(1000);
      return { engine, grantIds: started.map(({ grant }) => grant.grantId) };
    }
    const suspend = (engine: ReturnType<typeof fakeEngine>) =>
      suspendAgent(engine, { agentId: 'deploy-bot', by: 'secops@example.com', reason: 'odd behaviour' });

    it('records every grant verified before it deletes any delivery, then records each delivery gone', async () => {
      const { engine, grantIds } = await threeSessions();
      let statesAtFirstDeletion: Promise<string[]> | undefined;
      const destroy = engine.vault.destroy.bind(engine.vault);
      engine.vault.destroy = async (name: string) => {
        statesAtFirstDeletion ??= Promise.all(grantIds.map(async (grantId) => (await engine.store.get(grantId))?.state ?? 'missing'));
        await statesAtFirstDeletion;
        return destroy(name);
      };

      const suspended = await suspend(engine);

      expect(await statesAtFirstDeletion).toEqual(['verified', 'verified', 'verified']);
      expect(suspended.revoked.map((result) => result.outcome)).toEqual(Array(3).fill('verified'));
      expect(engine.vault.secrets.size).toBe(0);
      for (const grantId of grantIds) expect((await engine.store.get(grantId))?.deliverySecret).toBeUndefined();
    });

    it('leaves a delivery it could not delete to the sweep, which deletes it a retry interval later', async () => {
      const { engine, grantIds } = await threeSessions();
      const destroy = engine.vault.destroy.bind(engine.vault);
      engine.vault.destroy = async () => Promise.reject(new Error('ThrottlingException'));

      await suspend(engine);

      const kept = await Promise.all(grantIds.map(async (grantId) => engine.store.get(grantId)));
      expect(kept.map((grant) => grant?.state)).toEqual(Array(3).fill('verified'));
      expect(kept.every((grant) => grant?.deliverySecret !== undefined)).toBe(true);
      expect(engine.vault.secrets.size).toBe(3);

      engine.vault.destroy = destroy;
      expect(await sweepDueGrants(engine)).toMatchObject({ dueGrants: 0 });
      engine.clock.advance(60_000);
      expect(await sweepDueGrants(engine)).toMatchObject({ dueGrants: 3, closed: 3, errors: 0 });
      expect(engine.vault.secrets.size).toBe(0);
      for (const grantId of grantIds) expect((await engine.store.get(grantId))?.deliverySecret).toBeUndefined();
      expect(await sweepDueGrants(engine)).toMatchObject({ dueGrants: 0 });
    });
  });

  describe('reading the deliveries the proofs need', () => {
    /** deploy-bot's five sessions, with the vault's reads counted: one at a time, and in batches. */
    async function fiveGrantsCounted() {
      const engine = fakeEngine();
      for (const index of [0, 1, 2, 3, 4])
        await startTask(engine, taskStarted({ agentId: 'deploy-bot', taskId: `t-${index}`, scopes: ['repo-read'] }));
      engine.clock.advance(1000);
      const single: string[] = [];
      const batches: string[][] = [];
      const read = engine.vault.read.bind(engine.vault);
      engine.vault.read = async (name: string) => {
        single.push(name);
        return read(name);
      };
      const batchRead = async (names: readonly string[]) => {
        batches.push([...names]);
        return new Map<string, DeliveryPayload | undefined>(
          await Promise.all(names.map(async (name) => [name, await read(name)] as const)),
        );
      };
      return { engine, single, batches, batchRead };
    }
    const suspend = (engine: ReturnType<typeof fakeEngine>) =>
      suspendAgent(engine, { agentId: 'deploy-bot', by: 'secops@example.com', reason: 'odd behaviour' });

    it('reads every delivery in one batch call when the vault reads in batches, and no grant reads its own', async () => {
      const { engine, single, batches, batchRead } = await fiveGrantsCounted();
      Object.assign(engine.vault, { readMany: batchRead });

      const suspended = await suspend(engine);

      expect(batches.map((names) => names.length)).toEqual([5]);
      expect(single).toEqual([]);
      expect(suspended.revoked.map((result) => result.outcome)).toEqual(Array(5).fill('verified'));
      expect(engine.vault.secrets.size).toBe(0);
    });

    it('reads one by one the deliveries a batch left out or failed to read, and still verifies every grant', async () => {
      const { engine, single, batchRead } = await fiveGrantsCounted();
      const leftOut = [...engine.vault.secrets.keys()][0]!;
      Object.assign(engine.vault, {
        readMany: async (names: readonly string[]) => new Map([...(await batchRead(names))].filter(([name]) => name !== leftOut)),
      });

      const suspended = await suspend(engine);
      expect(single).toEqual([leftOut]);
      expect(suspended.revoked.map((result) => result.outcome)).toEqual(Array(5).fill('verified'));

      const failing = await fiveGrantsCounted();
      Object.assign(failing.engine.vault, { readMany: async () => Promise.reject(new Error('ThrottlingException')) });
      const afterFailure = await suspend(failing.engine);
      expect(failing.single).toHaveLength(5);
      expect(afterFailure.revoked.map((result) => result.outcome)).toEqual(Array(5).fill('verified'));
    });

    it('does not trust a batched delivery that holds another credential than the grant records: that grant reads its own', async () => {
      const { engine, single, batchRead } = await fiveGrantsCounted();
      const stale = [...engine.vault.secrets.keys()][2]!;
      Object.assign(engine.vault, {
        readMany: async (names: readonly string[]) =>
          new Map(
            [...(await batchRead(names))].map(([name, payload]) => [
              name,
              name === stale && payload ? { ...payload, accessKeyId: 'ASIAOTHERCREDENTIAL0' } : payload,
            ]),
          ),
      });

      const suspended = await suspend(engine);

      expect(single).toEqual([stale]);
      expect(suspended.revoked.map((result) => result.outcome)).toEqual(Array(5).fill('verified'));
    });
  });
});
