// CLI command: `report [--since 7d] [--json] [--html FILE]`: the governance report of issue 11,
// computed by the pure lambdas/domain/report.ts from the store's grants and agents' standing, plus the
// permissions granted but unused (cli/permission-usage.ts).
import { callerPath } from '../caller-path';
import { writeFile } from 'node:fs/promises';
import { buildGovernanceReport, type Figures, type GovernanceReport, type Stats } from '../../lambdas/domain/report';
import { EXIT, UsageError, type CliDeps, type ExitCode } from '../context';
import { bad, formatMs, good, json, NONE, relative, repeatText, table } from '../output';
import { reportHtml } from '../report-html';
import { collectUsage, type UsageSection } from '../permission-usage';
import { storedGrants } from '../stored-grants';

const UNIT_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30m`, `12h`, `7d`, `2w` → milliseconds. */
export function parsePeriod(period: string): number {
  const match = /^(\d{1,5})([mhdw])$/.exec(period);
  const unit = match?.[2] === undefined ? undefined : UNIT_MS[match[2]];
  if (!match || unit === undefined || Number(match[1]) === 0) {
    throw new UsageError(`--since: "${period}" is not a period like 30m, 12h, 7d or 2w`);
  }
  return Number(match[1]) * unit;
}

export interface ReportOptions {
  readonly since: string;
  readonly json?: boolean;
  readonly html?: string;
  /** On AWS, read each credential's calls from CloudTrail for the unused-permissions section (slow). */
  readonly usage?: boolean;
  /** `agent` (default) or `account`: what the figures are broken down by besides the whole. */
  readonly by?: string;
}

const BREAKDOWNS = ['agent', 'account'] as const;

function parseBreakdown(by: string | undefined): (typeof BREAKDOWNS)[number] {
  const breakdown = BREAKDOWNS.find((known) => known === (by ?? 'agent'));
  if (!breakdown) throw new UsageError(`--by: "${by}" is not one of ${BREAKDOWNS.join(', ')}`);
  return breakdown;
}

/** The governance figures and what the period's credentials did with their permissions. */
export type FullReport = GovernanceReport & { readonly permissionUsage: UsageSection };

/** Reads every grant and every known agent's standing, then builds the report for the period ending now. */
export async function collectReport(deps: CliDeps, periodMs: number, byAccount = false, usage = false): Promise<FullReport> {
  const until = deps.clock.now();
  const since = new Date(until.getTime() - periodMs);
  const progress = deps.progress('reading grants');
  const grants = await storedGrants(deps.store);
  progress.update(`reading the standing of agents (${grants.length} grants read)`);
  const policy = await deps.policy().catch(() => undefined);
  const agentIds = [...new Set([...Object.keys(policy?.agents ?? {}), ...grants.map((grant) => grant.agentId)])];
  const agents = await Promise.all(agentIds.map((agentId) => deps.store.getAgent(agentId)));
  progress.succeed(`${grants.length} grants and ${agents.length} agents read`);
  const governance = buildGovernanceReport({ grants, agents, since, until, byAccount });
  const inPeriod = grants.filter((grant) => grant.createdAt >= governance.since && grant.createdAt <= governance.until);
  return { ...governance, permissionUsage: await collectUsage(deps, inPeriod, until, usage) };
}

/** Prints the report for the period ending now; `--html FILE` also writes the self-contained page. */
export async function report(deps: CliDeps, options: ReportOptions): Promise<ExitCode> {
  const periodMs = parsePeriod(options.since);
  const byAccount = parseBreakdown(options.by) === 'account';
  if (options.html !== undefined && options.html.trim() === '')
    throw new UsageError('--html: name the file to write, e.g. --html report.html');
  const result = await collectReport(deps, periodMs, byAccount, options.usage ?? false);
  if (options.html !== undefined) {
    try {
      await writeFile(callerPath(options.html), reportHtml(result), 'utf8');
    } catch (error) {
      deps.err(
        `taskbound: cannot write ${options.html} (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the directory exists and is writable`,
      );
      return EXIT.failure;
    }
    deps.err(`report written to ${options.html} (open it in any browser; it needs no network)`);
  }
  if (options.json) deps.out(json(result));
  else printReport(deps, result);
  return EXIT.ok;
}

/** ` in account 444455556666` for a credential of a spoke; nothing for the engine's own account. */
const inAccount = (item: { readonly account?: string }) => (item.account ? ` in account ${item.account}` : '');

const duration = (value: number | undefined) => (value === undefined ? NONE : formatMs(value));
const statsRow = (label: string, stats: Stats) => [
  label,
  String(stats.count),
  duration(stats.median),
  duration(stats.p95),
  duration(stats.max),
];

function printFigures(deps: CliDeps, figures: Figures, now: Date): void {
  const out = (lines: readonly string[]) => lines.forEach((line) => deps.out(line));
  const g = figures.grants;
  deps.out(
    `grants: ${g.requested} requested, ${g.issued} issued, ${g.denied} denied (${g.expiredUnanswered} unanswered in time), ${g.pending} pending, ${g.failed} failed`,
  );
  const standing = figures.standingPrivilege;
  deps.out(
    `standing privilege: ${standing.count === 0 ? good('0 credentials alive with no task') : bad(`${standing.count} credentials alive with no task`)}`,
  );
  for (const credential of standing.credentials)
    deps.out(
      `  ${credential.grantId} ${credential.agentId}/${credential.taskId}${inAccount(credential)} ${credential.state} since ${relative(credential.since, now)}`,
    );
  out(
    table(
      ['DURATION', 'COUNT', 'MEDIAN', 'P95', 'MAX'],
      [
        statsRow('credential lifetime', figures.credentialLifetimeMs),
        statsRow('task duration', figures.taskDurationMs),
        statsRow('notice -> revoked', figures.revocation.noticeToRevokedMs),
        statsRow('revoked -> verified', figures.revocation.revokedToVerifiedMs),
        statsRow('leak -> killed', figures.leaks.timeToKillMs),
        statsRow('time to decision', figures.approvals.timeToDecisionMs),
      ],
    ),
  );
  const stillValid = figures.stillValidAfterNotice;
  deps.out(
    `still valid after notice: ${stillValid.count === 0 ? good('0') : bad(`${stillValid.count}, longest ${duration(stillValid.longestMs)}`)}`,
  );
  deps.out(`use after revocation: ${figures.useAfterRevocation.count === 0 ? good('0') : bad(String(figures.useAfterRevocation.count))}`);
  for (const finding of [...stillValid.findings, ...figures.useAfterRevocation.findings])
    deps.out(`  ${finding.grantId} ${finding.agentId}/${finding.taskId}${inAccount(finding)}: ${finding.detail}`);
  const classes = Object.entries(figures.approvals.byClass);
  if (classes.length > 0) {
    out(
      table(
        ['CLASS', 'AUTO', 'MANUAL', 'DENIED BY PEOPLE', 'UNANSWERED'],
        classes.map(([name, f]) => [name, String(f.auto), String(f.manual), String(f.deniedByPeople), String(f.expiredUnanswered)]),
      ),
    );
  }
  deps.out(`leaks reported: ${figures.leaks.count}; grants revoked by suspension: ${figures.suspensions.grantsRevoked}`);
  for (const agent of figures.suspensions.suspendedNow)
    deps.out(
      `  ${agent.agentId} suspended by ${agent.by ?? '?'}${agent.at ? ` ${relative(agent.at, now)}` : ''}: ${agent.reason ?? ''}${repeatText(agent, now)}`,
    );
  deps.out(`audit chains that do not verify: ${figures.brokenChains.length === 0 ? good('0') : bad(String(figures.brokenChains.length))}`);
  for (const broken of figures.brokenChains)
    deps.out(`  ${broken.grantId} ${broken.agentId}/${broken.taskId} at link ${broken.brokenAt}: ${broken.why}`);
}

/** At most this many unused actions per row in text; --json and --html list them all. */
const UNUSED_SHOWN = 6;
const actionList = (actions: readonly string[]) =>
  actions.length <= UNUSED_SHOWN
    ? actions.join(', ') || NONE
    : `${actions.slice(0, UNUSED_SHOWN).join(', ')} +${actions.length - UNUSED_SHOWN} more`;

function printUsage(deps: CliDeps, section: UsageSection): void {
  deps.out('');
  deps.out('== permissions granted but unused (candidates to narrow)');
  if (!section.read) {
    deps.out(`not read: ${section.why}`);
    return;
  }
  const { usage } = section;
  if (usage.scopes.length === 0) {
    deps.out('no credential was issued in the period');
    return;
  }
  const rows = usage.scopes.map((s) => [
    s.scope,
    `${s.grantsRead}/${s.grants}`,
    String(s.granted.length),
    String(s.used.length),
    s.grantsRead === 0 ? 'unknown' : actionList(s.unused),
  ]);
  for (const line of table(['SCOPE', 'READ/GRANTS', 'GRANTED', 'USED', 'UNUSED'], rows)) deps.out(line);
  const agentRows = Object.entries(usage.agents).flatMap(([agentId, scopes]) =>
    scopes.filter((s) => s.unused.length > 0).map((s) => [agentId, s.scope, actionList(s.unused)]),
  );
  if (agentRows.length > 0) {
    deps.out('');
    for (const line of table(['AGENT', 'SCOPE', 'UNUSED BY THIS AGENT'], agentRows)) deps.out(line);
  }
  if (usage.grantsUnread > 0) deps.out(bad(`${usage.grantsUnread} credentials' calls could not be read: their use is unknown`));
  for (const note of section.notes) deps.out(`note: ${note}`);
}

function printReport(deps: CliDeps, result: FullReport): void {
  const now = new Date(result.until);
  deps.out(`Taskbound report, ${result.since} to ${result.until}`);
  deps.out('');
  deps.out('== all agents');
  printFigures(deps, result.overall, now);
  const rows = Object.entries(result.agents).map(([agentId, f]) => [
    agentId,
    String(f.grants.requested),
    String(f.grants.issued),
    String(f.grants.denied),
    String(f.standingPrivilege.count),
    duration(f.revocation.noticeToRevokedMs.p95),
    String(f.stillValidAfterNotice.count),
    f.suspensions.suspendedNow.length > 0 ? bad('suspended') : 'active',
  ]);
  deps.out('');
  if (result.accounts) printAccounts(deps, result.accounts);
  else {
    deps.out('== per agent (`--json` has every figure per agent)');
    for (const line of table(['AGENT', 'REQUESTED', 'ISSUED', 'DENIED', 'STANDING', 'REVOKE P95', 'STILL VALID', 'STATUS'], rows))
      deps.out(line);
  }
  printUsage(deps, result.permissionUsage);
}

/** `--by account`: one row per account the grants came from (`hub`: the engine's own). */
function printAccounts(deps: CliDeps, accounts: NonNullable<GovernanceReport['accounts']>): void {
  const rows = Object.entries(accounts).map(([account, f]) => [
    account,
    String(f.grants.requested),
    String(f.grants.issued),
    String(f.grants.denied),
    String(f.grants.failed),
    String(f.standingPrivilege.count),
    duration(f.revocation.noticeToRevokedMs.p95),
    String(f.stillValidAfterNotice.count),
    String(f.useAfterRevocation.count),
  ]);
  deps.out('== per account (`--json` has every figure per account)');
  for (const line of table(
    ['ACCOUNT', 'REQUESTED', 'ISSUED', 'DENIED', 'FAILED', 'STANDING', 'REVOKE P95', 'STILL VALID', 'USED AFTER'],
    rows,
  ))
    deps.out(line);
}
