// Test helpers: an in-memory GrantStore that behaves like the DynamoDB adapter where callers
// depend on it: conditional create and version-checked update, due grants by `dueAtOf`,
// newest-first listings, and copies in and out so no caller can mutate what is stored.
import { dueAtOf, DEFAULT_DUE_TIMING, type DueTiming } from '../../lambdas/domain/due';
import { LIVE_STATES, type Grant, type GrantState } from '../../lambdas/domain/grant';
import type {
  AgentRecord,
  DueGrantsPage,
  GrantStore,
  GrantWrite,
  RejectedEvent,
  SlotHolder,
  SlotOpening,
  SuspensionRecorded,
  WriteOutcome,
} from '../../lambdas/ports';
import type { Suspension } from '../../lambdas/domain/report';

const copy = <T>(value: T): T => structuredClone(value);
const newestFirst = (a: Grant, b: Grant) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0);

export class InMemoryGrantStore implements GrantStore {
  private readonly grants = new Map<string, Grant>();
  private readonly agents = new Map<string, AgentRecord>();
  /** `<agentId>#<slot>` → its holder, as the DynamoDB adapter's slot items. */
  private readonly slots = new Map<string, SlotHolder & { readonly agentId: string }>();
  readonly rejected: RejectedEvent[] = [];

  constructor(private readonly timing: DueTiming = DEFAULT_DUE_TIMING) {}

  /** Stores grants as they are, bypassing conditions: for arranging a test (even a tampered record). */
  seed(...grants: readonly Grant[]): this {
    for (const grant of grants) this.grants.set(grant.grantId, copy(grant));
    return this;
  }

  /** Every stored grant, for assertions. */
  /** Loses a record, as a restore from an old backup would. */
  forget(grantId: string): void {
    this.grants.delete(grantId);
  }

  all(): Grant[] {
    return [...this.grants.values()].map(copy);
  }

  async get(grantId: string): Promise<Grant | undefined> {
    const grant = this.grants.get(grantId);
    return grant && copy(grant);
  }

  async create(
    grant: Grant,
  ): Promise<{ readonly created: true; readonly grant: Grant } | { readonly created: false; readonly existing: Grant }> {
    const existing = this.grants.get(grant.grantId);
    if (existing) return { created: false, existing: copy(existing) };
    this.grants.set(grant.grantId, copy(grant));
    return { created: true, grant: copy(grant) };
  }

  async update(previous: Grant, next: Grant): Promise<WriteOutcome> {
    if (next.grantId !== previous.grantId) throw new Error(`update must not change the grant id (${previous.grantId} → ${next.grantId})`);
    const stored = this.grants.get(previous.grantId);
    if (!stored || stored.version !== previous.version) return stored ? { ok: false, current: copy(stored) } : { ok: false };
    this.grants.set(next.grantId, copy(next));
    if (LIVE_STATES.includes(previous.state) && !LIVE_STATES.includes(next.state))
      await this.releaseSlot(next.agentId, next.grantId, next.concurrencySlot);
    return { ok: true, grant: copy(next) };
  }

  /** One by one: each write's outcome is its own, as the adapter's are. */
  async updateAll(writes: readonly GrantWrite[]): Promise<readonly PromiseSettledResult<WriteOutcome>[]> {
    const outcomes: PromiseSettledResult<WriteOutcome>[] = [];
    for (const { previous, next } of writes) {
      try {
        outcomes.push({ status: 'fulfilled', value: await this.update(previous, next) });
      } catch (reason) {
        outcomes.push({ status: 'rejected', reason });
      }
    }
    return outcomes;
  }

  /** All at once, with no await in between: as atomic as the adapter's transaction. */
  async openHoldingSlot(agentId: string, max: number, open: (slot: number) => Grant, at: string): Promise<SlotOpening> {
    const grantId = open(0).grantId;
    const existing = this.grants.get(grantId);
    if (existing) return { outcome: 'exists', existing: copy(existing) };
    if (this.agents.get(agentId)?.suspended) return { outcome: 'suspended' };
    const holders = this.holdersOf(agentId);
    const own = holders.find((holder) => holder.grantId === grantId);
    const taken = new Set(holders.map((holder) => holder.slot));
    const slot = own?.slot ?? Array.from({ length: max }, (_, index) => index).find((index) => !taken.has(index));
    if (slot === undefined) return { outcome: 'full', held: holders.length };
    const grant = open(slot);
    this.slots.set(`${agentId}#${slot}`, { agentId, slot, grantId, reservedAt: at });
    this.grants.set(grantId, copy(grant));
    return { outcome: 'opened', grant: copy(grant) };
  }

  /** Takes a slot with no grant behind it, as a crash between the two writes once could: for arranging a test. */
  holdSlot(agentId: string, grantId: string, slot: number, at: string): this {
    this.slots.set(`${agentId}#${slot}`, { agentId, slot, grantId, reservedAt: at });
    return this;
  }

  async releaseSlot(agentId: string, grantId: string, slot?: number): Promise<void> {
    for (const [key, holder] of this.slots) {
      if (holder.agentId === agentId && holder.grantId === grantId && (slot === undefined || holder.slot === slot)) this.slots.delete(key);
    }
  }

  async slotHolders(agentId: string): Promise<readonly SlotHolder[]> {
    return this.holdersOf(agentId);
  }

  private holdersOf(agentId: string): SlotHolder[] {
    return [...this.slots.values()]
      .filter((holder) => holder.agentId === agentId)
      .map(({ slot, grantId, reservedAt }) => ({ slot, grantId, reservedAt }));
  }

  async dueGrants(now: Date, limit = 100): Promise<DueGrantsPage> {
    const cutoff = now.toISOString();
    const due = [...this.grants.values()]
      .map((grant) => ({ grant, dueAt: dueAtOf(grant, this.timing) }))
      .filter((item): item is { grant: Grant; dueAt: string } => item.dueAt !== undefined && item.dueAt <= cutoff)
      .sort((a, b) => (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : 0))
      .slice(0, limit);
    // Like the sparse due index: only due items are read.
    return { grants: due.map((item) => copy(item.grant)), itemsRead: due.length };
  }

  async grantsOfAgent(agentId: string, options: { readonly liveOnly?: boolean } = {}): Promise<readonly Grant[]> {
    return [...this.grants.values()]
      .filter((grant) => grant.agentId === agentId && (!options.liveOnly || LIVE_STATES.includes(grant.state)))
      .sort(newestFirst)
      .map(copy);
  }

  async liveGrants(): Promise<readonly Grant[]> {
    return [...this.grants.values()]
      .filter((grant) => LIVE_STATES.includes(grant.state))
      .sort(newestFirst)
      .map(copy);
  }

  async listGrants(
    options: { readonly state?: GrantState; readonly since?: Date; readonly limit?: number } = {},
  ): Promise<readonly Grant[]> {
    const since = options.since?.toISOString();
    const matching = [...this.grants.values()]
      .filter((grant) => (!options.state || grant.state === options.state) && (!since || grant.createdAt >= since))
      .sort(newestFirst);
    return (options.limit === undefined ? matching : matching.slice(0, options.limit)).map(copy);
  }

  async findByCredentialId(credentialId: string): Promise<Grant | undefined> {
    const grant = [...this.grants.values()].find((candidate) => candidate.credential?.accessKeyId === credentialId);
    return grant && copy(grant);
  }

  async countLiveGrants(agentId: string): Promise<number> {
    return [...this.grants.values()].filter((grant) => grant.agentId === agentId && LIVE_STATES.includes(grant.state)).length;
  }

  async getAgent(agentId: string): Promise<AgentRecord> {
    const agent = this.agents.get(agentId);
    return agent ? copy(agent) : { agentId, suspended: false };
  }

  async putAgent(agent: AgentRecord): Promise<void> {
    this.agents.set(agent.agentId, copy(agent));
  }

  async recordSuspension(suspension: Suspension): Promise<SuspensionRecorded> {
    const current = this.agents.get(suspension.agentId);
    if (!current?.suspended) {
      this.agents.set(suspension.agentId, { ...copy(suspension), suspended: true });
      return { outcome: 'suspended' };
    }
    this.agents.set(suspension.agentId, {
      ...current,
      repeatCount: (current.repeatCount ?? 0) + 1,
      lastRepeatedBy: suspension.by,
      lastRepeatedReason: suspension.reason,
      lastRepeatedAt: suspension.at,
    });
    return { outcome: 'repeated', ...(current.at ? { inForceSince: current.at } : {}) };
  }

  async liftSuspension(agent: AgentRecord, suspendedAt: string, repeatsSeen = 0): Promise<boolean> {
    const current = this.agents.get(agent.agentId);
    if (!current?.suspended || current.at !== suspendedAt || (current.repeatCount ?? 0) !== repeatsSeen) return false;
    this.agents.set(agent.agentId, copy(agent));
    return true;
  }

  async recordRejectedEvent(entry: RejectedEvent): Promise<void> {
    this.rejected.push(copy(entry));
  }
}
