// Adapter (local engine): the grant store, remembering each live grant as this process last wrote
// or read it. The local engine runs every function in one process, so the `Task Ended` that revokes
// a grant finds it as the `Task Started` left it, without a GetItem. What it recalls is only a
// first guess: every write is conditioned on the stored version, so a stale copy costs a refused
// write and a read, never a wrong one (revoke-grant.ts). On AWS each function is its own process,
// so the deployed composition does not remember: a Task Ended would never find what a Task Started wrote.
import { FINAL_STATES, type Grant, type GrantState } from '../../domain/grant';
import type { Suspension } from '../../domain/report';
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
} from '../../ports';
import { LastWritten } from './last-written';

/** Enough for every live grant of a busy local engine; past it, the oldest costs a read again. */
export const REMEMBERED_GRANTS = 10_000;

export class RememberingGrantStore implements GrantStore {
  private readonly grants: LastWritten<Grant>;

  constructor(
    private readonly store: GrantStore,
    capacity = REMEMBERED_GRANTS,
  ) {
    this.grants = new LastWritten(capacity);
  }

  get dueShards(): number | undefined {
    return this.store.dueShards;
  }

  recent(grantId: string): Grant | undefined {
    return this.grants.recall(grantId);
  }

  async get(grantId: string): Promise<Grant | undefined> {
    const grant = await this.store.get(grantId);
    if (grant) this.note(grant);
    return grant;
  }

  async create(grant: Grant): ReturnType<GrantStore['create']> {
    const outcome = await this.store.create(grant);
    this.note(outcome.created ? outcome.grant : outcome.existing);
    return outcome;
  }

  async update(previous: Grant, next: Grant): Promise<WriteOutcome> {
    return this.noteOutcome(previous, await this.store.update(previous, next));
  }

  async updateAll(writes: readonly GrantWrite[]): Promise<readonly PromiseSettledResult<WriteOutcome>[]> {
    const outcomes = await this.store.updateAll(writes);
    return outcomes.map((outcome, index) => {
      const { previous } = writes[index] as GrantWrite;
      if (outcome.status === 'fulfilled') this.noteOutcome(previous, outcome.value);
      else this.grants.forget(previous.grantId);
      return outcome;
    });
  }

  private noteOutcome(previous: Grant, outcome: WriteOutcome): WriteOutcome {
    if (outcome.ok) this.note(outcome.grant);
    else if (outcome.current) this.note(outcome.current);
    // Neither written nor read back: what this process holds may be stale, so it is read next time.
    else this.grants.forget(previous.grantId);
    return outcome;
  }

  async openHoldingSlot(agentId: string, max: number, open: (slot: number) => Grant, at: string): Promise<SlotOpening> {
    const outcome = await this.store.openHoldingSlot(agentId, max, open, at);
    if (outcome.outcome === 'opened') this.note(outcome.grant);
    if (outcome.outcome === 'exists') this.note(outcome.existing);
    return outcome;
  }

  dueGrants(now: Date, limit?: number, options?: { readonly shard?: number }): Promise<DueGrantsPage> {
    return this.store.dueGrants(now, limit, options);
  }

  grantsOfAgent(agentId: string, options?: { readonly liveOnly?: boolean }): Promise<readonly Grant[]> {
    return this.store.grantsOfAgent(agentId, options);
  }

  listGrants(options?: { readonly state?: GrantState; readonly since?: Date; readonly limit?: number }): Promise<readonly Grant[]> {
    return this.store.listGrants(options);
  }

  liveGrants(): Promise<readonly Grant[]> {
    return this.store.liveGrants();
  }

  findByCredentialId(credentialId: string): Promise<Grant | undefined> {
    return this.store.findByCredentialId(credentialId);
  }

  countLiveGrants(agentId: string): Promise<number> {
    return this.store.countLiveGrants(agentId);
  }

  releaseSlot(agentId: string, grantId: string, slot?: number): Promise<void> {
    return this.store.releaseSlot(agentId, grantId, slot);
  }

  slotHolders(agentId: string): Promise<readonly SlotHolder[]> {
    return this.store.slotHolders(agentId);
  }

  getAgent(agentId: string): Promise<AgentRecord> {
    return this.store.getAgent(agentId);
  }

  putAgent(agent: AgentRecord): Promise<void> {
    return this.store.putAgent(agent);
  }

  recordSuspension(suspension: Suspension): Promise<SuspensionRecorded> {
    return this.store.recordSuspension(suspension);
  }

  liftSuspension(agent: AgentRecord, suspendedAt: string, repeatsSeen?: number): Promise<boolean> {
    return this.store.liftSuspension(agent, suspendedAt, repeatsSeen);
  }

  recordRejectedEvent(entry: RejectedEvent): Promise<void> {
    return this.store.recordRejectedEvent(entry);
  }

  /** A grant with work left is kept; a finished one is forgotten (nothing revokes it again, and memory stays bounded by what lives). */
  private note(grant: Grant): void {
    if (FINAL_STATES.includes(grant.state)) this.grants.forget(grant.grantId);
    else this.grants.remember(grant.grantId, grant);
  }
}
