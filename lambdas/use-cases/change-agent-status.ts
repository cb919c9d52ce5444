// Use case: the kill switch. Suspension is recorded first (so no new grant can start), then every
// live grant's credential is killed (agent-wide where the platform can), then each grant is
// revoked and verified dead, many at once; resuming only lifts the block.
import type { AgentStatusChange, OutboundEvent, SuspensionTally } from '../domain/events';
import type { Grant } from '../domain/grant';
import { accountOf } from '../domain/accounts';
import type { CredentialKind } from '../domain/policy';
import { latestNoticeOf } from '../domain/report';
import type { AgentRecord, DeliveryPayload, RevokeTarget } from '../ports';
import { errorCode, pause, silentLogger, type EngineDeps } from './engine-deps';
import { revokeGrant, revokeTargetOf, withoutDelivery, type RevokeResult } from './revoke-grant';
import { inBatches } from './in-batches';
import { batchedEvents } from './batched-events';
import { batchedGrantWrites } from './batched-grant-writes';
import { agentEvent } from './outbound';

export type SuspendResult =
  | { readonly outcome: 'suspended'; readonly revoked: readonly RevokeResult[] }
  | { readonly outcome: 'unknown-agent'; readonly revoked: readonly RevokeResult[]; readonly reason: string };

/**
 * Credentials revoked one by one at once (IAM: deleting an access key's user). IAM publishes no
 * request rate, so the bound is ours: a burst stays finite, what IAM throttles the SDK retries,
 * and a revocation that still fails is retried and surfaced by the per-grant step that follows.
 */
const PARALLEL_KILLS = 16;
/**
 * Grants revoked and verified at once. Their calls are the grant store, the delivery vault, the
 * probe made with each credential and PutEvents; Secrets Manager's 50 DeleteSecret per second
 * (paced by QuotaThrottle on AWS) is the tightest, and 32 in flight keeps that queue fed.
 */
const PARALLEL_REVOCATIONS = 32;
/** Deliveries per batch read (BatchGetSecretValue's limit), and batches in flight at once. */
const DELIVERIES_PER_READ = 20;
const PARALLEL_DELIVERY_READS = 4;

export async function suspendAgent(deps: EngineDeps, change: AgentStatusChange): Promise<SuspendResult> {
  const now = deps.clock.now().toISOString();
  const registered = deps.policy.agents[change.agentId] !== undefined;
  // An unregistered agent cannot start a grant, so its live grants can be listed before the write.
  const listedFirst = registered ? undefined : await deps.store.grantsOfAgent(change.agentId, { liveOnly: true });
  if (listedFirst?.length === 0) {
    // Most likely a typo: say so rather than pretend a kill switch was thrown. (An agent
    // dropped from the policy while it still holds grants is suspended and revoked as usual.)
    const reason = `agent "${change.agentId}" is not registered and holds no live grants: nothing to suspend`;
    await deps.store.recordRejectedEvent({
      at: now,
      detailType: 'Agent Suspended',
      source: change.by,
      reason,
      excerpt: JSON.stringify(change).slice(0, 512),
    });
    return { outcome: 'unknown-agent', revoked: [], reason };
  }
  // A kill switch thrown again keeps the suspension in force (who, why, when) and is recorded as its
  // latest repeat; it still revokes whatever is live, as the first did.
  await deps.store.recordSuspension({ agentId: change.agentId, by: change.by, reason: change.reason, at: now });
  const issuedBefore = new Date(now);
  // The agent-wide step needs no listing: it runs while the grants are listed, in every account the policy gives the agent sessions in.
  const agentWide = revokeAgentWide(deps, change.agentId, issuedBefore, issuerAccountsOf(deps, change.agentId));
  // Listed only now: a start checks the agent's standing in the transaction that writes its grant
  // and its slot, so either it sees this suspension or its slot is found here. The live index is
  // eventually consistent on AWS; the slots (read consistently) name the grants it may not show yet.
  const [live, slots] = await Promise.all([
    listedFirst ?? deps.store.grantsOfAgent(change.agentId, { liveOnly: true }),
    deps.store.slotHolders(change.agentId),
  ]);
  const listed = new Map(live.map((grant) => [grant.grantId, grant]));
  const unlisted = [...new Set(slots.map((slot) => slot.grantId))].filter((grantId) => !listed.has(grantId));
  const cause = { trigger: 'suspended' as const, by: change.by, reason: `agent suspended: ${change.reason}`, noticeAt: now };
  // Read while the credentials are killed: each grant's proof needs its delivery, and a batch read serves 20 grants.
  const [dead, deliveries] = await Promise.all([
    agentWide.then((wide) => killCredentials(deps, change.agentId, live, issuedBefore, wide)),
    readDeliveries(deps, live),
  ]);
  // Each grant's revocation still probes its credential and writes its state (reading its delivery itself
  // only if the batch did not); their events are pooled into full PutEvents calls, and the writes made
  // while one is on the wire go together in the next (each still conditioned on its own grant's version).
  const events = batchedEvents(deps.events);
  const revocations = { ...deps, events, store: batchedGrantWrites(deps.store) };
  const grantIds = [...listed.keys(), ...unlisted];
  const revoked = await inBatches(grantIds, PARALLEL_REVOCATIONS, (grantId) =>
    revokeGrant(revocations, grantId, cause, {
      listed: listed.get(grantId),
      credentialRevoked: dead.has(grantId),
      delivery: deliveries.get(grantId),
      deferDeliveryDeletion: true,
    }),
  );
  // A slot whose grant is not written yet (its start will see the suspension) or no longer live revoked nothing.
  const revokedSomething = (result: RevokeResult, index: number) =>
    index < listed.size || (result.outcome !== 'not-found' && result.outcome !== 'already-revoked');
  const outcomes = revoked.filter(revokedSomething);
  // One summary for people instead of a post per grant (a suspension's `Grant Revoked` is muted by default:
  // docs/slack.md), sent with the last revocations' events.
  await events.publish([suspensionCompleted(change, now, deps.clock.now(), outcomes)]);
  await Promise.all([events.flush(), deleteDeliveries(revocations, outcomes)]);
  return { outcome: 'suspended', revoked: outcomes };
}

/**
 * Proven first, cleaned after: the deliveries of the grants just verified (each holds a dead
 * credential) are deleted once all are proven, and each grant recorded without it. One not deleted
 * here (a failure, a crash) keeps the grant due, and the sweep deletes it (sweep.ts).
 */
async function deleteDeliveries(deps: EngineDeps, outcomes: readonly RevokeResult[]): Promise<void> {
  const logger = deps.logger ?? silentLogger;
  const left = outcomes.flatMap((result) => (result.outcome === 'verified' && result.grant.deliverySecret ? [result.grant] : []));
  await inBatches(left, PARALLEL_REVOCATIONS, async (grant) => {
    try {
      await withoutDelivery(deps, grant, deps.clock.now().toISOString());
    } catch (error) {
      logger.warn("could not delete a verified grant's delivery; the sweep deletes it", {
        grantId: grant.grantId,
        error: errorCode(error),
      });
    }
  });
}

/** `Agent Suspension Completed`: the kill switch's grants by how their revocation ended. */
function suspensionCompleted(change: AgentStatusChange, noticeAt: string, doneAt: Date, outcomes: readonly RevokeResult[]): OutboundEvent {
  const count = (...kinds: RevokeResult['outcome'][]) => outcomes.filter((result) => kinds.includes(result.outcome)).length;
  const revocations: SuspensionTally = {
    grants: outcomes.length,
    verified: count('verified'),
    awaitingProof: count('revoked-unverified'),
    failed: count('revocation-failed'),
    closedOtherwise: count('already-revoked', 'denied-before-issue', 'not-found'),
    elapsedMs: Math.max(0, doneAt.getTime() - Date.parse(noticeAt)),
  };
  return agentEvent('Agent Suspension Completed', change.agentId, doneAt.toISOString(), {
    reason: `suspended by ${change.by}: ${change.reason}`,
    revocations,
  });
}

/**
 * Kills first, proves after: every listed credential is revoked before any is verified, so none
 * waits behind another grant's probes (and IAM's propagation runs for all of them at once).
 * Sessions the grants recorded issued before the suspension die by one agent-wide revocation per
 * account; the rest one by one. Returns the grants whose credential is now dead. A failure here
 * only leaves a grant to its own revocation, which tries again and says `Revocation Failed`.
 */
async function killCredentials(
  deps: EngineDeps,
  agentId: string,
  grants: readonly Grant[],
  issuedBefore: Date,
  alreadyWide: ReadonlyMap<string, boolean>,
): Promise<ReadonlySet<string>> {
  const logger = deps.logger ?? silentLogger;
  // Only `active` grants: an `issuing` one must have its claim written before anything is revoked (revoke-grant.ts).
  const targets = grants.filter((grant) => grant.state === 'active').map(revokeTargetOf);
  const dead = new Set<string>();
  const groups = groupByIssuer(targets).filter((group) => deps.issuers[group.kind].revokeAgent !== undefined);
  // A grant in an account the policy no longer gives the agent sessions in: its agent-wide step runs now.
  const late = groups.filter((group) => !alreadyWide.has(issuerKey(group)));
  const wide = new Map([...alreadyWide, ...(await revokeAgentWide(deps, agentId, issuedBefore, late))]);
  for (const group of groups) {
    if (!wide.get(issuerKey(group))) continue;
    for (const target of group.targets)
      if (target.issuedAt !== undefined && target.issuedAt.getTime() < issuedBefore.getTime()) dead.add(target.grantId);
  }
  const rest = targets.filter((target) => !dead.has(target.grantId));
  const killed = await inBatches(rest, PARALLEL_KILLS, async (target) => {
    try {
      await deps.issuers[target.kind].revoke(target);
      return target.grantId;
    } catch (error) {
      logger.warn('revocation failed; the grant revokes again', { grantId: target.grantId, error: errorCode(error) });
      return undefined;
    }
  });
  for (const grantId of killed) if (grantId) dead.add(grantId);
  return dead;
}

/**
 * The listed `active` grants' deliveries by grant id, 20 per call where the vault reads in
 * batches. A batch that fails only leaves its grants to read their own delivery, as they would.
 */
async function readDeliveries(deps: EngineDeps, grants: readonly Grant[]): Promise<ReadonlyMap<string, DeliveryPayload>> {
  const vault = deps.vault;
  const found = new Map<string, DeliveryPayload>();
  if (!vault.readMany) return found;
  const readMany = vault.readMany.bind(vault);
  const bySecret = new Map(
    grants.flatMap((grant) => (grant.state === 'active' && grant.deliverySecret ? [[grant.deliverySecret, grant.grantId]] : [])),
  );
  const names = [...bySecret.keys()];
  const chunks = Array.from({ length: Math.ceil(names.length / DELIVERIES_PER_READ) }, (_, index) =>
    names.slice(index * DELIVERIES_PER_READ, (index + 1) * DELIVERIES_PER_READ),
  );
  await inBatches(chunks, PARALLEL_DELIVERY_READS, async (chunk) => {
    try {
      for (const [name, payload] of await readMany(chunk)) {
        const grantId = bySecret.get(name);
        if (grantId && payload) found.set(grantId, payload);
      }
    } catch (error) {
      (deps.logger ?? silentLogger).warn('batch read of deliveries failed; each grant reads its own', { error: errorCode(error) });
    }
  });
  return found;
}

interface IssuerAccount {
  readonly kind: CredentialKind;
  readonly account?: string;
}

const issuerKey = (issuer: IssuerAccount) => `${issuer.kind} ${issuer.account ?? ''}`;

/** Where the agent's scopes put credentials an issuer can revoke agent-wide (the engine's own account is undefined). */
function issuerAccountsOf(deps: EngineDeps, agentId: string): IssuerAccount[] {
  const agent = deps.policy.agents[agentId];
  const found = new Map<string, IssuerAccount>();
  for (const scopeName of agent?.scopes ?? []) {
    const kind = deps.policy.scopes[scopeName]?.credential;
    if (!kind || !deps.issuers[kind].revokeAgent) continue;
    const account = accountOf(deps.policy, scopeName, agentId);
    const issuer = { kind, ...(account ? { account } : {}) };
    found.set(issuerKey(issuer), issuer);
  }
  return [...found.values()];
}

/** One agent-wide revocation per issuer and account, all at once; whether each took (a failure leaves its grants to be revoked one by one). */
async function revokeAgentWide(
  deps: EngineDeps,
  agentId: string,
  issuedBefore: Date,
  issuers: readonly IssuerAccount[],
): Promise<Map<string, boolean>> {
  const logger = deps.logger ?? silentLogger;
  const outcomes = await Promise.all(
    issuers.map(async (issuer) => {
      try {
        await deps.issuers[issuer.kind].revokeAgent?.({ agentId, issuedBefore, ...(issuer.account ? { account: issuer.account } : {}) });
        return [issuerKey(issuer), true] as const;
      } catch (error) {
        logger.warn('agent-wide revocation failed; its grants are revoked one by one', {
          agentId,
          kind: issuer.kind,
          account: issuer.account,
          error: errorCode(error),
        });
        return [issuerKey(issuer), false] as const;
      }
    }),
  );
  return new Map(outcomes);
}

function groupByIssuer(
  targets: readonly RevokeTarget[],
): { readonly kind: RevokeTarget['kind']; readonly account?: string; readonly targets: RevokeTarget[] }[] {
  const groups = new Map<string, { kind: RevokeTarget['kind']; account?: string; targets: RevokeTarget[] }>();
  for (const target of targets) {
    const key = `${target.kind} ${target.account ?? ''}`;
    const group = groups.get(key) ?? { kind: target.kind, ...(target.account ? { account: target.account } : {}), targets: [] };
    group.targets.push(target);
    groups.set(key, group);
  }
  return [...groups.values()];
}

export interface ResumeResult {
  /** `superseded`: the agent was suspended again (or resumed by someone else) while this resume waited; nothing changed. */
  readonly outcome: 'resumed' | 'superseded';
  /** How long the resume waited for its kill switch's agent-wide step to stop reaching new credentials. */
  readonly waitedMs: number;
}

/**
 * Lifts a suspension. `seen` is the standing the caller read: its latest notice (the suspension's,
 * or its latest repeat's) starts the agent-wide step's margin (STS sessions: the deny reaches 5 s
 * past the notice, allowing for STS's clock), which a resume within it waits out first, so no task
 * started after the resume is handed a session the deny refuses. It lifts that suspension only,
 * as repeated as it was seen: another written since, or another repeat of it (a kill switch thrown
 * during the wait or between the caller's read and this write), stands, and the answer is `superseded`.
 */
export async function resumeAgent(deps: EngineDeps, change: AgentStatusChange, seen?: AgentRecord): Promise<ResumeResult> {
  const notice = seen && latestNoticeOf(seen);
  const waitedMs = notice === undefined ? 0 : await waitForAdmission(deps, new Date(notice));
  const now = deps.clock.now().toISOString();
  const resumed = { agentId: change.agentId, suspended: false, by: change.by, reason: change.reason, at: now };
  if (seen?.at === undefined) {
    await deps.store.putAgent(resumed);
    return { outcome: 'resumed', waitedMs };
  }
  return { outcome: (await deps.store.liftSuspension(resumed, seen.at, seen.repeatCount ?? 0)) ? 'resumed' : 'superseded', waitedMs };
}

async function waitForAdmission(deps: EngineDeps, suspendedAt: Date): Promise<number> {
  const admittedFrom = Object.values(deps.issuers).reduce(
    (latest, issuer) => Math.max(latest, issuer.admitsIssuesFrom?.(suspendedAt).getTime() ?? latest),
    suspendedAt.getTime(),
  );
  const waitMs = admittedFrom - deps.clock.now().getTime();
  if (waitMs <= 0) return 0;
  await pause(deps, waitMs);
  return waitMs;
}
