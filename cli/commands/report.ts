// CLI command: `report`: what the engine did over a period, from the grants' own records.
// Latencies come from audit timestamps, so the report needs nothing but the store.
import type { AuditEntry } from '../../lambdas/domain/audit';
import type { Grant } from '../../lambdas/domain/grant';
import { EXIT, UsageError, type CliDeps, type ExitCode } from '../context';
import { formatMs, json, NONE, table } from '../output';

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

export interface LatencyFigures {
  readonly count: number;
  readonly p50?: number;
  readonly p95?: number;
  readonly max?: number;
}

export interface StillValidFinding {
  readonly grantId: string;
  readonly agentId: string;
  readonly taskId: string;
  readonly at: string;
  readonly reason?: string;
}

/** What `report --json` prints. */
export interface Report {
  readonly since: string;
  readonly until: string;
  /** Grants created in the period. */
  readonly grants: number;
  readonly byState: Readonly<Record<string, number>>;
  readonly byTrigger: Readonly<Record<string, number>>;
  readonly revocationLatencyMs: {
    readonly noticeToRevoked: LatencyFigures;
    readonly revokedToVerified: LatencyFigures;
    readonly noticeToVerified: LatencyFigures;
  };
  /** Credentials that kept working after revocation, as the sweep's probes found. */
  readonly stillValid: readonly StillValidFinding[];
}

function percentile(sorted: readonly number[], p: number): number | undefined {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

function figures(samples: readonly number[]): LatencyFigures {
  const sorted = [...samples].sort((a, b) => a - b);
  if (sorted.length === 0) return { count: 0 };
  return { count: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) };
}

const firstEntry = (audit: readonly AuditEntry[], test: (entry: AuditEntry) => boolean) => audit.find(test)?.at;
const between = (from: string | undefined, to: string | undefined) =>
  from === undefined || to === undefined ? undefined : Date.parse(to) - Date.parse(from);

/** Notice → revoked → verified of one grant; notice is when the engine learnt the credential must die. */
function revocationTimes(grant: Grant) {
  const notice = grant.revocation?.noticeAt ?? firstEntry(grant.audit, (entry) => entry.action.startsWith('revoke:'));
  const revoked = firstEntry(grant.audit, (entry) => entry.to === 'revoked');
  const verified = firstEntry(grant.audit, (entry) => entry.to === 'verified');
  return { noticeToRevoked: between(notice, revoked), revokedToVerified: between(revoked, verified), noticeToVerified: between(notice, verified) };
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

const defined = (values: readonly (number | undefined)[]) => values.filter((value): value is number => value !== undefined);

/** Builds the report of grants created since `since`. */
export function buildReport(grants: readonly Grant[], since: Date, until: Date): Report {
  const times = grants.map(revocationTimes);
  return {
    since: since.toISOString(),
    until: until.toISOString(),
    grants: grants.length,
    byState: countBy(grants.map((grant) => grant.state)),
    byTrigger: countBy(grants.flatMap((grant) => (grant.revocation ? [grant.revocation.trigger] : []))),
    revocationLatencyMs: {
      noticeToRevoked: figures(defined(times.map((time) => time.noticeToRevoked))),
      revokedToVerified: figures(defined(times.map((time) => time.revokedToVerified))),
      noticeToVerified: figures(defined(times.map((time) => time.noticeToVerified))),
    },
    stillValid: grants.flatMap((grant) =>
      grant.audit
        .filter((entry) => entry.action === 'still-valid')
        .map((entry) => ({ grantId: grant.grantId, agentId: grant.agentId, taskId: grant.taskId, at: entry.at, ...(entry.reason ? { reason: entry.reason } : {}) })),
    ),
  };
}

export interface ReportOptions {
  readonly since: string;
  readonly json?: boolean;
}

/** Prints the report for the period ending now. */
export async function report(deps: CliDeps, options: ReportOptions): Promise<ExitCode> {
  const until = deps.clock.now();
  const since = new Date(until.getTime() - parsePeriod(options.since));
  const result = buildReport(await deps.store.listGrants({ since }), since, until);
  if (options.json) deps.out(json(result));
  else printReport(deps, result);
  return EXIT.ok;
}

const ms = (value: number | undefined) => (value === undefined ? NONE : formatMs(value));

function printReport(deps: CliDeps, result: Report): void {
  const out = (lines: readonly string[]) => lines.forEach((line) => deps.out(line));
  deps.out(`${result.grants} grants created from ${result.since} to ${result.until}`);
  deps.out('');
  out(table(['STATE', 'COUNT'], Object.entries(result.byState).map(([state, count]) => [state, String(count)])));
  deps.out('');
  out(table(['TRIGGER', 'COUNT'], Object.entries(result.byTrigger).map(([trigger, count]) => [trigger, String(count)])));
  deps.out('');
  const latency = result.revocationLatencyMs;
  const row = (label: string, f: LatencyFigures) => [label, String(f.count), ms(f.p50), ms(f.p95), ms(f.max)];
  out(
    table(
      ['REVOCATION', 'COUNT', 'P50', 'P95', 'MAX'],
      [row('notice -> revoked', latency.noticeToRevoked), row('revoked -> verified', latency.revokedToVerified), row('notice -> verified', latency.noticeToVerified)],
    ),
  );
  deps.out('');
  deps.out(`${result.stillValid.length} credentials still valid after revocation`);
  if (result.stillValid.length > 0) {
    out(table(['GRANT', 'AGENT', 'TASK', 'AT', 'FINDING'], result.stillValid.map((f) => [f.grantId, f.agentId, f.taskId, f.at, f.reason ?? ''])));
  }
}
