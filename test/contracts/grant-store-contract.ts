// Test contract: what every GrantStore must do, whatever keeps the grants. One suite, run
// against each store (grant-store.test.ts), so the fakes the use-case tests stand on cannot
// drift from the DynamoDB adapter. Expected values are written out, not computed by the code.
import { beforeEach, describe, expect, it } from 'vitest';
import type { Grant } from '../../lambdas/domain/grant';
import type { GrantStore, WriteOutcome } from '../../lambdas/ports';
import { activeGrant, advance, deniedGrant, requestedGrant, verifiedGrant } from '../helpers/grants';

/** The outcomes of writes that must all have settled without an error. */
const fulfilled = (outcomes: readonly PromiseSettledResult<WriteOutcome>[]) =>
  outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : expect.unreachable(String(outcome.reason))));

/**
 * Registers the contract's tests; `makeStore` gives each test an empty store. `isolatesConcurrentWrites`:
 * whether the engine behind it applies racing transactions one at a time, as DynamoDB does (a conflict is
 * cancelled, and the store tries again). moto 5.2.1 does not (a threaded server, no lock in its DynamoDB
 * backend): there racing kill switches can lose a repeat's count, which DynamoDB never does.
 */
export function grantStoreContract(
  name: string,
  makeStore: () => Promise<GrantStore>,
  { isolatesConcurrentWrites = true }: { readonly isolatesConcurrentWrites?: boolean } = {},
): void {
  describe(`${name} keeps the GrantStore contract`, () => {
    let store: GrantStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    it('knows nothing of a grant never created', async () => {
      expect(await store.get('g-aaaaaaaaaaaaaaaaaaaaaaaaaa')).toBeUndefined();
    });

    it('creates a grant once; a second create returns the first and changes nothing', async () => {
      const grant = requestedGrant({ taskId: 'contract-create' });
      expect(await store.create(grant)).toEqual({ created: true, grant });
      expect(await store.create({ ...grant, purpose: 'something else' })).toEqual({ created: false, existing: grant });
      expect((await store.get(grant.grantId))?.purpose).toBe('Dependency updates');
    });

    it('updates only from the stored version, and hands back the current grant on a lost race', async () => {
      const requested = requestedGrant({ taskId: 'contract-race' });
      await store.create(requested);
      const issuing = advance(requested, 'issuing');
      const denied = advance(requested, 'denied');
      expect(await store.update(requested, issuing)).toEqual({ ok: true, grant: issuing });
      expect(await store.update(requested, denied)).toEqual({ ok: false, current: issuing });
      expect((await store.get(requested.grantId))?.state).toBe('issuing');
      expect((await store.get(requested.grantId))?.version).toBe(2);
    });

    it('refuses an update of a grant that was never created', async () => {
      const grant = requestedGrant({ taskId: 'contract-ghost' });
      const outcome = await store.update(grant, advance(grant, 'issuing'));
      expect(outcome.ok).toBe(false);
      expect(await store.get(grant.grantId)).toBeUndefined();
    });

    it('finds an active grant due once its credential expires, not before, and never a settled one', async () => {
      // Issued at 12:00 for 900 s: due at 12:15.
      const active = activeGrant({ taskId: 'contract-due', at: '2026-11-28T12:00:00.000Z', ttlSeconds: 900 });
      await store.create(active);
      await store.create(verifiedGrant({ taskId: 'contract-settled', at: '2026-11-28T11:00:00.000Z' }));
      expect((await store.dueGrants(new Date('2026-11-28T12:14:59.999Z'))).grants).toEqual([]);
      const due = await store.dueGrants(new Date('2026-11-28T12:15:00.000Z'));
      expect(due.grants.map((grant) => grant.taskId)).toEqual(['contract-due']);
    });

    it('lists grants newest first, by state, since a time, and up to a limit', async () => {
      await store.create(requestedGrant({ taskId: 'contract-old', at: '2026-11-28T09:00:00.000Z' }));
      await store.create(deniedGrant({ taskId: 'contract-denied', at: '2026-11-28T10:00:00.000Z' }));
      await store.create(requestedGrant({ taskId: 'contract-new', at: '2026-11-28T11:00:00.000Z' }));
      expect((await store.listGrants()).map((grant) => grant.taskId)).toEqual(['contract-new', 'contract-denied', 'contract-old']);
      expect((await store.listGrants({ state: 'denied' })).map((grant) => grant.taskId)).toEqual(['contract-denied']);
      expect((await store.listGrants({ since: new Date('2026-11-28T09:30:00.000Z') })).map((grant) => grant.taskId)).toEqual([
        'contract-new',
        'contract-denied',
      ]);
      expect((await store.listGrants({ limit: 1 })).map((grant) => grant.taskId)).toEqual(['contract-new']);
    });

    it("lists an agent's grants newest first, and counts only those that may hold a credential", async () => {
      await store.create(activeGrant({ agentId: 'deploy-bot', taskId: 'contract-live', at: '2026-11-28T10:00:00.000Z' }));
      await store.create(verifiedGrant({ agentId: 'deploy-bot', taskId: 'contract-dead', at: '2026-11-28T11:00:00.000Z' }));
      await store.create(activeGrant({ agentId: 'release-bot', taskId: 'contract-other' }));
      expect((await store.grantsOfAgent('deploy-bot')).map((grant) => grant.taskId)).toEqual(['contract-dead', 'contract-live']);
      expect((await store.grantsOfAgent('deploy-bot', { liveOnly: true })).map((grant) => grant.taskId)).toEqual(['contract-live']);
      expect(await store.countLiveGrants('deploy-bot')).toBe(1);
      expect(await store.countLiveGrants('nobody-bot')).toBe(0);
    });

    it("lists every agent's live grants, newest first, and none that can no longer hold a credential", async () => {
      await store.create(activeGrant({ agentId: 'deploy-bot', taskId: 'contract-live', at: '2026-11-28T10:00:00.000Z' }));
      await store.create(verifiedGrant({ agentId: 'deploy-bot', taskId: 'contract-dead', at: '2026-11-28T11:00:00.000Z' }));
      await store.create(deniedGrant({ taskId: 'contract-denied', at: '2026-11-28T11:30:00.000Z' }));
      await store.create(activeGrant({ agentId: 'retired-bot', taskId: 'contract-other', at: '2026-11-28T12:00:00.000Z' }));
      expect((await store.liveGrants()).map((grant) => `${grant.agentId}/${grant.taskId}`)).toEqual([
        'retired-bot/contract-other',
        'deploy-bot/contract-live',
      ]);
    });

    it('finds a grant by the access key id it issued', async () => {
      await store.create(activeGrant({ taskId: 'contract-key', accessKeyId: 'ASIACONTRACT00000001' }));
      expect((await store.findByCredentialId('ASIACONTRACT00000001'))?.taskId).toBe('contract-key');
      expect(await store.findByCredentialId('ASIACONTRACT00000002')).toBeUndefined();
    });

    it('remembers a suspension; an agent never seen is not suspended', async () => {
      expect(await store.getAgent('deploy-bot')).toEqual({ agentId: 'deploy-bot', suspended: false });
      const suspended = {
        agentId: 'deploy-bot',
        suspended: true,
        by: 'secops@example.com',
        reason: 'odd calls',
        at: '2026-11-28T12:00:00.000Z',
      };
      await store.putAgent(suspended);
      expect(await store.getAgent('deploy-bot')).toEqual(suspended);
      await store.putAgent({
        agentId: 'deploy-bot',
        suspended: false,
        by: 'secops@example.com',
        reason: 'fixed',
        at: '2026-11-28T13:00:00.000Z',
      });
      expect((await store.getAgent('deploy-bot')).suspended).toBe(false);
    });

    it('lifts only the suspension a resume names: one written since stands, and so does a start after it', async () => {
      const first = { agentId: 'ops-bot', suspended: true, by: 'secops@example.com', reason: 'leak', at: '2026-11-28T12:00:00.000Z' };
      const second = { ...first, reason: 'leaked again', at: '2026-11-28T12:00:05.000Z' };
      const resumed = { agentId: 'ops-bot', suspended: false, by: 'cfo@example.com', reason: 'fixed', at: '2026-11-28T12:00:11.000Z' };
      await store.putAgent(first);
      await store.putAgent(second);

      expect(await store.liftSuspension(resumed, first.at)).toBe(false);
      expect(await store.getAgent('ops-bot')).toEqual(second);
      const refused = await store.openHoldingSlot(
        'ops-bot',
        3,
        () => requestedGrant({ agentId: 'ops-bot', taskId: 'contract-lift' }),
        first.at,
      );
      expect(refused.outcome).toBe('suspended');

      expect(await store.liftSuspension(resumed, second.at)).toBe(true);
      expect(await store.getAgent('ops-bot')).toEqual(resumed);
      expect(await store.liftSuspension({ ...resumed, at: '2026-11-28T12:01:00.000Z' }, second.at)).toBe(false);
    });

    it('keeps the suspension in force when the kill switch is thrown again, records the latest repeat, and lifts it only as last seen', async () => {
      const first = { agentId: 'ops-bot', by: 'secops@example.com', reason: 'leak', at: '2026-11-28T12:00:00.000Z' };
      const second = { agentId: 'ops-bot', by: 'oncall@example.com', reason: 'still odd', at: '2026-11-28T12:00:05.000Z' };
      const third = { agentId: 'ops-bot', by: 'cto@example.com', reason: 'again', at: '2026-11-28T12:00:09.000Z' };
      const resumed = { agentId: 'ops-bot', suspended: false, by: 'cfo@example.com', reason: 'fixed', at: '2026-11-28T12:01:00.000Z' };

      expect(await store.recordSuspension(first)).toEqual({ outcome: 'suspended' });
      expect(await store.recordSuspension(second)).toEqual({ outcome: 'repeated', inForceSince: first.at });
      expect(await store.getAgent('ops-bot')).toEqual({
        ...first,
        suspended: true,
        repeatCount: 1,
        lastRepeatedBy: 'oncall@example.com',
        lastRepeatedReason: 'still odd',
        lastRepeatedAt: '2026-11-28T12:00:05.000Z',
      });
      expect(await store.recordSuspension(third)).toEqual({ outcome: 'repeated', inForceSince: first.at });
      expect(await store.getAgent('ops-bot')).toMatchObject({ ...first, repeatCount: 2, lastRepeatedBy: 'cto@example.com' });
      const refused = await store.openHoldingSlot(
        'ops-bot',
        3,
        () => requestedGrant({ agentId: 'ops-bot', taskId: 'contract-repeat' }),
        third.at,
      );
      expect(refused.outcome).toBe('suspended');

      // A resume decided before a repeat lifts nothing: the kill switch thrown since stands.
      expect(await store.liftSuspension(resumed, first.at)).toBe(false);
      expect(await store.liftSuspension(resumed, first.at, 1)).toBe(false);
      expect((await store.getAgent('ops-bot')).suspended).toBe(true);
      expect(await store.liftSuspension(resumed, first.at, 2)).toBe(true);
      expect(await store.getAgent('ops-bot')).toEqual(resumed);

      const after = { agentId: 'ops-bot', by: 'secops@example.com', reason: 'new incident', at: '2026-11-28T13:00:00.000Z' };
      expect(await store.recordSuspension(after)).toEqual({ outcome: 'suspended' });
      expect(await store.getAgent('ops-bot')).toEqual({ ...after, suspended: true });
    });

    it('records kill switches thrown at once as one suspension and a repeat for each of the others', async () => {
      const throws = Array.from({ length: 8 }, (_, index) => ({
        agentId: 'race-bot',
        by: `person-${index}@example.com`,
        reason: `throw ${index}`,
        at: `2026-11-28T12:00:0${index}.000Z`,
      }));

      const outcomes = await Promise.all(throws.map((suspension) => store.recordSuspension(suspension)));

      const standing = await store.getAgent('race-bot');
      if (!isolatesConcurrentWrites) {
        // Without isolation only this holds: every throw was recorded as one or the other, and repeats were counted.
        expect(outcomes.every((outcome) => outcome.outcome === 'suspended' || outcome.outcome === 'repeated')).toBe(true);
        expect(standing).toMatchObject({ suspended: true, repeatCount: expect.any(Number) });
        return;
      }
      expect(outcomes.filter((outcome) => outcome.outcome === 'suspended')).toHaveLength(1);
      const winner = throws[outcomes.findIndex((outcome) => outcome.outcome === 'suspended')];
      expect(standing).toMatchObject({ suspended: true, by: winner?.by, reason: winner?.reason, at: winner?.at, repeatCount: 7 });
      for (const outcome of outcomes) if (outcome.outcome === 'repeated') expect(outcome.inForceSince).toBe(winner?.at);
    });

    it('hands out copies: changing a grant it returned does not change what it keeps', async () => {
      const grant = requestedGrant({ taskId: 'contract-copy' });
      await store.create(grant);
      const read = await store.get(grant.grantId);
      (read!.scopes as string[]).push('everything');
      expect((await store.get(grant.grantId))?.scopes).toEqual(['repo-read']);
    });

    const holding = (grant: Grant) => (slot: number) => ({ ...grant, concurrencySlot: slot });
    const holdersOf = async (agentId: string) => (await store.slotHolders(agentId)).map((holder) => holder.grantId).sort();

    it('opens at most `max` grants of an agent holding a slot each, and refuses the next as full', async () => {
      const [one, two, three] = ['contract-one', 'contract-two', 'contract-three'].map((taskId) => requestedGrant({ taskId })) as [
        Grant,
        Grant,
        Grant,
      ];
      const elsewhere = requestedGrant({ agentId: 'deploy-bot', taskId: 'contract-elsewhere' });

      const first = await store.openHoldingSlot(one.agentId, 2, holding(one), one.createdAt);
      const second = await store.openHoldingSlot(two.agentId, 2, holding(two), two.createdAt);
      const third = await store.openHoldingSlot(three.agentId, 2, holding(three), three.createdAt);
      const other = await store.openHoldingSlot('deploy-bot', 2, holding(elsewhere), elsewhere.createdAt);

      expect(first).toMatchObject({ outcome: 'opened', grant: { grantId: one.grantId } });
      expect(second).toMatchObject({ outcome: 'opened', grant: { grantId: two.grantId } });
      const slots = [first, second].map((opening) => (opening.outcome === 'opened' ? opening.grant.concurrencySlot : undefined));
      expect(slots.sort()).toEqual([0, 1]);
      expect(third).toEqual({ outcome: 'full', held: 2 });
      expect(await store.get(three.grantId)).toBeUndefined();
      expect(other).toMatchObject({ outcome: 'opened' });
      expect(await holdersOf(one.agentId)).toEqual([one.grantId, two.grantId].sort());
      expect(await store.get(one.grantId)).toEqual(first.outcome === 'opened' ? first.grant : undefined);
    });

    it('opens nothing for a suspended agent, and opens again once it is resumed', async () => {
      const grant = requestedGrant({ taskId: 'contract-suspended' });
      await store.putAgent({ agentId: grant.agentId, suspended: true, reason: 'leak', by: 'ops', at: grant.createdAt });

      expect(await store.openHoldingSlot(grant.agentId, 3, holding(grant), grant.createdAt)).toEqual({ outcome: 'suspended' });
      expect(await store.get(grant.grantId)).toBeUndefined();
      expect(await store.slotHolders(grant.agentId)).toEqual([]);

      await store.putAgent({ agentId: grant.agentId, suspended: false, reason: 'fixed', by: 'ops', at: grant.createdAt });
      expect(await store.openHoldingSlot(grant.agentId, 3, holding(grant), grant.createdAt)).toMatchObject({ outcome: 'opened' });
    });

    it('hands back a grant that exists instead of opening it again, and takes no slot for it', async () => {
      const grant = requestedGrant({ taskId: 'contract-exists' });
      await store.create(grant);

      const again = await store.openHoldingSlot(grant.agentId, 3, holding({ ...grant, purpose: 'something else' }), grant.createdAt);

      expect(again).toEqual({ outcome: 'exists', existing: grant });
      expect(await store.slotHolders(grant.agentId)).toEqual([]);
    });

    it("frees a slot when its grant leaves the live states, and only its own grant's slot on release", async () => {
      const requested = requestedGrant({ taskId: 'contract-slot' });
      const opened = await store.openHoldingSlot(requested.agentId, 1, holding(requested), requested.createdAt);
      await store.releaseSlot(requested.agentId, 'g-someone-else');
      expect(await store.slotHolders(requested.agentId)).toHaveLength(1);

      const stored = await store.get(requested.grantId);
      expect(opened).toEqual({ outcome: 'opened', grant: stored });
      expect(await store.update(stored!, advance(stored!, 'denied'))).toMatchObject({ ok: true });

      expect(await store.slotHolders(requested.agentId)).toEqual([]);
    });

    it('leaves a slot another grant took over alone when a grant that held it finishes', async () => {
      const first = requestedGrant({ taskId: 'contract-first' });
      const second = requestedGrant({ taskId: 'contract-second' });
      await store.openHoldingSlot(first.agentId, 1, holding(first), first.createdAt);
      await store.releaseSlot(first.agentId, first.grantId);
      await store.openHoldingSlot(second.agentId, 1, holding(second), second.createdAt);

      const stored = await store.get(first.grantId);
      const finished = await store.update(stored!, advance(stored!, 'denied'));

      expect(finished).toMatchObject({ ok: true, grant: { state: 'denied' } });
      expect((await store.get(first.grantId))?.state).toBe('denied');
      expect(await holdersOf(first.agentId)).toEqual([second.grantId]);
    });

    it('refuses to finish a grant from a stale version, and keeps its slot', async () => {
      const grant = requestedGrant({ taskId: 'contract-stale' });
      await store.openHoldingSlot(grant.agentId, 1, holding(grant), grant.createdAt);
      const stored = await store.get(grant.grantId);
      const issuing = advance(stored!, 'issuing');
      await store.update(stored!, issuing);

      const stale = await store.update(stored!, advance(stored!, 'denied'));

      expect(stale).toEqual({ ok: false, current: issuing });
      expect(await holdersOf(grant.agentId)).toEqual([grant.grantId]);
    });

    it('writes many grants at once, each from its own stored version, and frees the slots of those that finish', async () => {
      const opened: Grant[] = [];
      for (let index = 0; index < 30; index++) {
        const grant = requestedGrant({ taskId: `contract-many-${index}` });
        const opening = await store.openHoldingSlot(grant.agentId, 40, holding(grant), grant.createdAt);
        opened.push(opening.outcome === 'opened' ? opening.grant : expect.unreachable(`not opened: ${opening.outcome}`));
      }
      // One moved on meanwhile: its write must be refused alone.
      const [moved, ...rest] = opened as [Grant, ...Grant[]];
      const issuing = advance(moved, 'issuing');
      await store.update(moved, issuing);
      const writes = [
        { previous: moved, next: advance(moved, 'denied') },
        ...rest.map((grant, index) => ({ previous: grant, next: advance(grant, index % 2 === 0 ? 'denied' : 'issuing') })),
      ];

      const outcomes = fulfilled(await store.updateAll(writes));

      expect(outcomes[0]).toEqual({ ok: false, current: issuing });
      expect(outcomes.slice(1)).toEqual(writes.slice(1).map((write) => ({ ok: true, grant: write.next })));
      for (const write of writes.slice(1)) expect(await store.get(write.next.grantId)).toEqual(write.next);
      const stillHolding = [moved, ...rest.filter((_, index) => index % 2 === 1)].map((grant) => grant.grantId).sort();
      expect(await holdersOf(moved.agentId)).toEqual(stillHolding);
    });

    it('answers two writes of one grant in one call as two racing writes: the first to land wins', async () => {
      const grant = requestedGrant({ taskId: 'contract-twice' });
      await store.create(grant);
      const issuing = advance(grant, 'issuing');
      const denied = advance(grant, 'denied');

      const outcomes = fulfilled(
        await store.updateAll([
          { previous: grant, next: issuing },
          { previous: grant, next: denied },
        ]),
      );

      const won = outcomes.filter((outcome) => outcome.ok);
      expect(won).toHaveLength(1);
      const stored = await store.get(grant.grantId);
      expect([issuing, denied]).toContainEqual(stored);
      expect(outcomes.find((outcome) => !outcome.ok)).toEqual({ ok: false, current: stored });
    });

    it('records a refused event without failing', async () => {
      await expect(
        store.recordRejectedEvent({
          at: '2026-11-28T12:00:00.000Z',
          detailType: 'Task Started',
          source: 'test',
          reason: 'agentId: required',
          excerpt: '{}',
        }),
      ).resolves.toBeUndefined();
    });
  });
}
