// Domain: the governance report (issue 11): figures over a period, per agent and overall,
// computed from the grants' own records and audit chains. Pure: the period and `until` are
// parameters, so a scenario with known answers checks every figure. The CLI prints it as text,
// JSON or HTML; the digest posts a summary of it to Slack.
import { ENGINE_ACTOR, verifyGrantAudit, withReadableAudit, type Grant, type GrantState } from './grant';
import type { ActionClass } from './policy';

/**
 * An agent's current standing, as the store keeps it (the kill switch). While it is suspended,
 * `by`, `reason` and `at` are the suspension in force (the first one); a kill switch thrown again
 * before a resume leaves them and is recorded as the latest repeat, with how many there were.
 */
export interface AgentStanding {
  readonly agentId: string;
  readonly suspended: boolean;
  readonly by?: string;
  readonly reason?: string;
  readonly at?: string;
  /** How many times the suspension in force was thrown again; absent when never. */
  readonly repeatCount?: number;
  readonly lastRepeatedBy?: string;
  readonly lastRepeatedReason?: string;
  readonly lastRepeatedAt?: string;
}

/** A kill switch as the store records it: who threw it, why and when. */
export interface Suspension {
  readonly agentId: string;
  readonly by: string;
  readonly reason: string;
  readonly at: string;
}

/**
 * The latest notice of a suspension: its own, or its latest repeat's (a repeat revokes agent-wide
 * again from its own time). Undefined when the agent is not suspended or the time is not recorded.
 */
export function latestNoticeOf(standing: AgentStanding): string | undefined {
  if (!standing.suspended) return undefined;
  const notices = [standing.at, standing.lastRepeatedAt].filter((at): at is string => at !== undefined);
  return notices.sort().at(-1);
}

/** Count, median, p95 and max of a set of durations (milliseconds); absent when there is no sample. */
export interface Stats {
  readonly count: number;
  readonly median?: number;
  readonly p95?: number;
  readonly max?: number;
}

/** A credential alive while no task needs it: notice given (or its expiry passed) and not yet proven dead. */
export interface StandingCredential {
  readonly grantId: string;
  readonly agentId: string;
  readonly taskId: string;
  readonly state: GrantState;
  /** The account the credential lives in, when not the engine's own. */
  readonly account?: string;
  /** Since when no task needed it: the revocation notice, or the expiry that passed. */
  readonly since: string;
  readonly forMs: number;
}

/** One grant's credential lifetime beside its task's duration, for the lifetime chart. */
export interface LifetimeSample {
  readonly grantId: string;
  readonly agentId: string;
  readonly issuedAt: string;
  /** Issued → revoked (the credential removed at the platform). */
  readonly lifetimeMs: number;
  /** Task Started → Task Ended; only for grants revoked because their task ended. */
  readonly taskMs?: number;
}

/** One revocation's timing, for the latency-over-time chart. */
export interface RevocationSample {
  readonly grantId: string;
  readonly agentId: string;
  readonly trigger: string;
  readonly noticeAt: string;
  readonly noticeToRevokedMs?: number;
  readonly revokedToVerifiedMs?: number;
}

export interface Finding {
  readonly grantId: string;
  readonly agentId: string;
  readonly taskId: string;
  /** The account the credential lives in, when not the engine's own. */
  readonly account?: string;
  readonly at: string;
  /** How long after the revocation notice. */
  readonly afterNoticeMs?: number;
  readonly detail: string;
}

export interface ApprovalFigures {
  readonly auto: number;
  readonly manual: number;
  /** Held for people and denied by one of them. */
  readonly deniedByPeople: number;
  /** Held for people and closed by the engine because no one answered in time. */
  readonly expiredUnanswered: number;
}

export interface BrokenChain {
  readonly grantId: string;
  readonly agentId: string;
  readonly taskId: string;
  /** The index of the first link that does not verify. */
  readonly brokenAt: number;
  readonly why: string;
}

/** The figures of one agent, or of all of them. */
export interface Figures {
  readonly grants: {
    readonly requested: number;
    readonly issued: number;
    readonly denied: number;
    readonly pending: number;
    readonly expiredUnanswered: number;
    readonly failed: number;
  };
  readonly byState: Readonly<Partial<Record<GrantState, number>>>;
  readonly byTrigger: Readonly<Record<string, number>>;
  /** As of `until`, whatever the period: should be zero. */
  readonly standingPrivilege: { readonly count: number; readonly credentials: readonly StandingCredential[] };
  readonly credentialLifetimeMs: Stats;
  readonly taskDurationMs: Stats;
  readonly revocation: { readonly noticeToRevokedMs: Stats; readonly revokedToVerifiedMs: Stats };
  readonly stillValidAfterNotice: { readonly count: number; readonly longestMs?: number; readonly findings: readonly Finding[] };
  readonly useAfterRevocation: { readonly count: number; readonly findings: readonly Finding[] };
  readonly approvals: {
    readonly byClass: Readonly<Partial<Record<ActionClass, ApprovalFigures>>>;
    readonly timeToDecisionMs: Stats;
  };
  readonly leaks: { readonly count: number; readonly timeToKillMs: Stats };
  readonly suspensions: { readonly grantsRevoked: number; readonly suspendedNow: readonly AgentStanding[] };
  /** Over every grant in the store, whatever the period: tampering anywhere matters. */
  readonly brokenChains: readonly BrokenChain[];
}

/** The key of the engine's own account in `GovernanceReport.accounts`: grants that name no account live there. */
const HUB_ACCOUNT_KEY = 'hub';

/** What `report --json` prints. */
export interface GovernanceReport {
  readonly since: string;
  readonly until: string;
  readonly overall: Figures;
  readonly agents: Readonly<Record<string, Figures>>;
  /** With `byAccount`: the figures of each account the grants came from (`hub` for the engine's own). */
  readonly accounts?: Readonly<Record<string, Figures>>;
  readonly samples: { readonly lifetimes: readonly LifetimeSample[]; readonly revocations: readonly RevocationSample[] };
}

export interface ReportInput {
  /** Every grant the store holds; the period is applied here. */
  readonly grants: readonly Grant[];
  readonly agents: readonly AgentStanding[];
  readonly since: Date;
  readonly until: Date;
  /** Also break the figures down by the account each grant's credential comes from. */
  readonly byAccount?: boolean;
}

/** The account a grant's credential comes from, as the report keys it. */
const accountKeyOf = (grant: Pick<Grant, 'account'>) => grant.account ?? HUB_ACCOUNT_KEY;

/** The nearest-rank percentile of sorted samples. */
function percentile(sorted: readonly number[], p: number): number | undefined {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  if (sorted.length === 0) return { count: 0 };
  return { count: sorted.length, median: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) };
}

const ms = (from: string | undefined, to: string | undefined) =>
  from === undefined || to === undefined ? undefined : Date.parse(to) - Date.parse(from);
const firstAt = (grant: Grant, test: (action: string, to: string | undefined) => boolean) =>
  grant.audit.find((entry) => test(entry.action, entry.to))?.at;
const defined = <T>(values: readonly (T | undefined)[]) => values.filter((value): value is T => value !== undefined);

/** Notice: when the engine learnt the credential must die. */
const noticeOf = (grant: Grant) => grant.revocation?.noticeAt ?? firstAt(grant, (action) => action.startsWith('revoke:'));
const issuedAtOf = (grant: Grant) => firstAt(grant, (action) => action === 'issued');
const revokedAtOf = (grant: Grant) => firstAt(grant, (_, to) => to === 'revoked');
const verifiedAtOf = (grant: Grant) => firstAt(grant, (_, to) => to === 'verified');
const heldAtOf = (grant: Grant) => firstAt(grant, (action) => action === 'held-for-approval');

/** The first decision on a held grant: a person's approval or denial, or the engine closing it. */
function decisionOf(grant: Grant) {
  const held = heldAtOf(grant);
  if (!held) return undefined;
  const decided = grant.audit.find((entry) => entry.at >= held && entry.from === 'pending_approval');
  if (!decided) return undefined;
  // A late answer is denied with the same reason as the sweep's timeout: both are unanswered in time.
  const expired = /approval window closed/.test(decided.reason ?? '');
  // Revoked while it waited (task ended, agent suspended, manual): closed, not decided.
  const closed = decided.actor === ENGINE_ACTOR || /before a credential was issued/.test(decided.reason ?? '');
  const kind = decided.to === 'issuing' ? 'approved' : expired ? 'expired' : closed ? 'closed' : 'denied';
  return { kind, at: decided.at, heldAt: held } as const;
}

function standing(grant: Grant, until: Date): StandingCredential | undefined {
  const now = until.toISOString();
  let since: string | undefined;
  if (grant.state === 'revoking' || grant.state === 'revoked') since = noticeOf(grant) ?? grant.updatedAt;
  else if ((grant.state === 'active' || grant.state === 'issuing') && grant.expiresAt && grant.expiresAt <= now) since = grant.expiresAt;
  if (since === undefined) return undefined;
  return {
    grantId: grant.grantId,
    agentId: grant.agentId,
    taskId: grant.taskId,
    state: grant.state,
    ...(grant.account ? { account: grant.account } : {}),
    since,
    forMs: Math.max(0, Date.parse(now) - Date.parse(since)),
  };
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

function stillValidFindings(grant: Grant): Finding[] {
  const notice = noticeOf(grant);
  return grant.audit
    .filter((entry) => entry.action === 'still-valid')
    .map((entry) => ({
      grantId: grant.grantId,
      agentId: grant.agentId,
      taskId: grant.taskId,
      ...(grant.account ? { account: grant.account } : {}),
      at: entry.at,
      ...(notice ? { afterNoticeMs: Date.parse(entry.at) - Date.parse(notice) } : {}),
      detail: entry.reason ?? 'credential still accepted after revocation',
    }));
}

/** `used-after-revocation` entries: the platform's record (CloudTrail) showed calls after the revocation. */
function useAfterRevocationFindings(grant: Grant): Finding[] {
  const notice = noticeOf(grant);
  return grant.audit.flatMap((entry) => {
    if (entry.action !== 'used-after-revocation') return [];
    const calls = Array.isArray(entry.detail?.calls) ? (entry.detail.calls as readonly { readonly eventTime?: unknown }[]) : [];
    const first = typeof calls[0]?.eventTime === 'string' ? calls[0].eventTime : entry.at;
    return [
      {
        grantId: grant.grantId,
        agentId: grant.agentId,
        taskId: grant.taskId,
        ...(grant.account ? { account: grant.account } : {}),
        at: first,
        ...(notice ? { afterNoticeMs: ms(notice, first) } : {}),
        detail: entry.reason ?? '',
      },
    ];
  });
}

function lifetimeSample(grant: Grant): LifetimeSample | undefined {
  const issuedAt = issuedAtOf(grant);
  const lifetimeMs = ms(issuedAt, revokedAtOf(grant));
  if (issuedAt === undefined || lifetimeMs === undefined) return undefined;
  const taskMs = grant.revocation?.trigger === 'task_ended' ? ms(grant.createdAt, grant.revocation.noticeAt) : undefined;
  return { grantId: grant.grantId, agentId: grant.agentId, issuedAt, lifetimeMs, ...(taskMs !== undefined ? { taskMs } : {}) };
}

function revocationSample(grant: Grant): RevocationSample | undefined {
  const noticeAt = noticeOf(grant);
  if (!noticeAt || !grant.revocation) return undefined;
  const revokedAt = revokedAtOf(grant);
  const noticeToRevokedMs = ms(noticeAt, revokedAt);
  const revokedToVerifiedMs = ms(revokedAt, verifiedAtOf(grant));
  return {
    grantId: grant.grantId,
    agentId: grant.agentId,
    trigger: grant.revocation.trigger,
    noticeAt,
    ...(noticeToRevokedMs !== undefined ? { noticeToRevokedMs } : {}),
    ...(revokedToVerifiedMs !== undefined ? { revokedToVerifiedMs } : {}),
  };
}

function approvalFigures(grants: readonly Grant[]) {
  const byClass: Partial<Record<ActionClass, ApprovalFigures>> = {};
  const decisionTimes: number[] = [];
  for (const grant of grants) {
    const auto = grant.audit.some((entry) => entry.action === 'auto-approved');
    const decision = decisionOf(grant);
    if (decision && decision.kind !== 'expired' && decision.kind !== 'closed')
      decisionTimes.push(Date.parse(decision.at) - Date.parse(decision.heldAt));
    for (const actionClass of grant.actionClasses) {
      const figures = (byClass[actionClass] ??= { auto: 0, manual: 0, deniedByPeople: 0, expiredUnanswered: 0 });
      byClass[actionClass] = {
        auto: figures.auto + (auto ? 1 : 0),
        manual: figures.manual + (decision?.kind === 'approved' ? 1 : 0),
        deniedByPeople: figures.deniedByPeople + (decision?.kind === 'denied' ? 1 : 0),
        expiredUnanswered: figures.expiredUnanswered + (decision?.kind === 'expired' ? 1 : 0),
      };
    }
  }
  return { byClass, timeToDecisionMs: stats(decisionTimes) };
}

/** Every grant whose audit chain does not verify: hashed once per report, then shared out per agent. */
function brokenChainsOf(grants: readonly Grant[]): BrokenChain[] {
  return grants.flatMap((grant) => {
    const verdict = verifyGrantAudit(grant);
    return verdict.ok
      ? []
      : [{ grantId: grant.grantId, agentId: grant.agentId, taskId: grant.taskId, brokenAt: verdict.brokenAt, why: verdict.why }];
  });
}

/**
 * The figures of `inPeriod` (grants created in the period); `all` for what holds regardless of
 * period, and the broken chains among `all`.
 */
function figuresOf(
  inPeriod: readonly Grant[],
  all: readonly Grant[],
  agents: readonly AgentStanding[],
  until: Date,
  brokenChains: readonly BrokenChain[],
): Figures {
  const lifetimes = defined(inPeriod.map(lifetimeSample));
  const revocations = defined(inPeriod.map(revocationSample));
  const stillValid = inPeriod.flatMap(stillValidFindings);
  const longest = stillValid.reduce<number | undefined>((max, finding) => Math.max(max ?? 0, finding.afterNoticeMs ?? 0), undefined);
  const standingCredentials = defined(all.map((grant) => standing(grant, until)));
  const leaked = inPeriod.filter((grant) => grant.revocation?.trigger === 'leaked');
  const decisions = inPeriod.map(decisionOf);
  return {
    grants: {
      requested: inPeriod.length,
      issued: inPeriod.filter((grant) => issuedAtOf(grant) !== undefined).length,
      denied: inPeriod.filter((grant) => grant.state === 'denied').length,
      pending: inPeriod.filter((grant) => grant.state === 'pending_approval').length,
      expiredUnanswered: decisions.filter((decision) => decision?.kind === 'expired').length,
      failed: inPeriod.filter((grant) => grant.state === 'failed').length,
    },
    byState: countBy(inPeriod.map((grant) => grant.state)),
    byTrigger: countBy(inPeriod.flatMap((grant) => (grant.revocation ? [grant.revocation.trigger] : []))),
    standingPrivilege: { count: standingCredentials.length, credentials: standingCredentials },
    credentialLifetimeMs: stats(lifetimes.map((sample) => sample.lifetimeMs)),
    taskDurationMs: stats(defined(lifetimes.map((sample) => sample.taskMs))),
    revocation: {
      noticeToRevokedMs: stats(defined(revocations.map((sample) => sample.noticeToRevokedMs))),
      revokedToVerifiedMs: stats(defined(revocations.map((sample) => sample.revokedToVerifiedMs))),
    },
    stillValidAfterNotice: { count: stillValid.length, ...(longest !== undefined ? { longestMs: longest } : {}), findings: stillValid },
    useAfterRevocation: (() => {
      const findings = inPeriod.flatMap(useAfterRevocationFindings);
      return { count: findings.length, findings };
    })(),
    approvals: approvalFigures(inPeriod),
    leaks: { count: leaked.length, timeToKillMs: stats(defined(leaked.map((grant) => ms(noticeOf(grant), revokedAtOf(grant))))) },
    suspensions: {
      grantsRevoked: inPeriod.filter((grant) => grant.revocation?.trigger === 'suspended').length,
      suspendedNow: agents.filter((agent) => agent.suspended),
    },
    brokenChains,
  };
}

/** The report of grants created in [since, until], overall and per agent. */
export function buildGovernanceReport(report: ReportInput): GovernanceReport {
  const input = { ...report, grants: report.grants.map(withReadableAudit) };
  const since = input.since.toISOString();
  const until = input.until.toISOString();
  const inPeriod = input.grants.filter((grant) => grant.createdAt >= since && grant.createdAt <= until);
  const brokenChains = brokenChainsOf(input.grants);
  const agentIds = [...new Set([...input.grants.map((grant) => grant.agentId), ...input.agents.map((agent) => agent.agentId)])].sort();
  const ofAgent =
    (agentId: string) =>
    <T extends { readonly agentId: string }>(items: readonly T[]) =>
      items.filter((item) => item.agentId === agentId);
  const agents = Object.fromEntries(
    agentIds.map((agentId) => {
      const own = ofAgent(agentId);
      return [agentId, figuresOf(own(inPeriod), own(input.grants), own(input.agents), input.until, own(brokenChains))];
    }),
  );
  const accounts = input.byAccount ? figuresByAccount(input, inPeriod, brokenChains) : undefined;
  const byNotice = (a: RevocationSample, b: RevocationSample) => (a.noticeAt < b.noticeAt ? -1 : a.noticeAt > b.noticeAt ? 1 : 0);
  return {
    since,
    until,
    overall: figuresOf(inPeriod, input.grants, input.agents, input.until, brokenChains),
    agents,
    ...(accounts ? { accounts } : {}),
    samples: { lifetimes: defined(inPeriod.map(lifetimeSample)), revocations: defined(inPeriod.map(revocationSample)).sort(byNotice) },
  };
}

/**
 * The figures of each account: its grants, the standing of the agents that asked there, and
 * the broken chains among its grants. An account appears once a grant of it exists, in any period.
 */
function figuresByAccount(input: ReportInput, inPeriod: readonly Grant[], brokenChains: readonly BrokenChain[]): Record<string, Figures> {
  const keys = [...new Set(input.grants.map(accountKeyOf))].sort((a, b) =>
    a === HUB_ACCOUNT_KEY ? -1 : b === HUB_ACCOUNT_KEY ? 1 : a < b ? -1 : 1,
  );
  return Object.fromEntries(
    keys.map((key) => {
      const all = input.grants.filter((grant) => accountKeyOf(grant) === key);
      const ids = new Set(all.map((grant) => grant.grantId));
      const agentIds = new Set(all.map((grant) => grant.agentId));
      const own = inPeriod.filter((grant) => accountKeyOf(grant) === key);
      return [
        key,
        figuresOf(
          own,
          all,
          input.agents.filter((agent) => agentIds.has(agent.agentId)),
          input.until,
          brokenChains.filter((broken) => ids.has(broken.grantId)),
        ),
      ];
    }),
  );
}
