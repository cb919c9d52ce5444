// CLI: how results are printed: tables (cli-table3), colours (picocolors), relative times
// (ms) for people; JSON with absolute ISO times for scripts. CLI-only: no Lambda imports this.
import Table from 'cli-table3';
import formatDuration from 'ms';
import { createColors } from 'picocolors';
import type { AgentStanding } from '../lambdas/domain/report';

/**
 * Colour only on a terminal (or with FORCE_COLOR), never with NO_COLOR. picocolors alone also
 * colours whenever `CI` is set, which would put escape codes into a CI job's piped output.
 */
const pc = createColors(!('NO_COLOR' in process.env) && ('FORCE_COLOR' in process.env || process.stdout.isTTY === true));

/** Lines of a borderless table whose columns line up; headers are dimmed on a colour terminal. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const blank = {
    top: '',
    'top-mid': '',
    'top-left': '',
    'top-right': '',
    bottom: '',
    'bottom-mid': '',
    'bottom-left': '',
    'bottom-right': '',
  };
  const sides = { left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' };
  const rendered = new Table({
    head: headers.map((header) => pc.bold(header)),
    chars: { ...blank, ...sides },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  rendered.push(...rows.map((row) => [...row]));
  return rendered
    .toString()
    .split('\n')
    .map((line) => line.trimEnd());
}

/** One JSON document, pretty-printed so it reads and diffs well; `jq` copes either way. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** A duration for people: `850 ms`, `4.2 s`, `3.5 min`, `2.1 h`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** `in 4m`, `12s ago`, `now`: an instant relative to `now`, for people (JSON keeps the ISO time). */
export function relative(iso: string, now: Date): string {
  const delta = Date.parse(iso) - now.getTime();
  if (Number.isNaN(delta)) return iso;
  if (Math.abs(delta) < 1000) return 'now';
  const span = formatDuration(Math.abs(delta));
  return delta > 0 ? `in ${span}` : `${span} ago`;
}

/**
 * What a suspension's repeats add to its line: `; thrown again 2 times, last by sec@example.com 3m ago:
 * still odd` (or `at <time>` without `now`, for exports), or nothing when the kill switch was thrown
 * once (the line names the suspension in force).
 */
export function repeatText(standing: AgentStanding, now?: Date): string {
  if (!standing.suspended || !standing.repeatCount) return '';
  const times = standing.repeatCount === 1 ? 'once' : `${standing.repeatCount} times`;
  const at = standing.lastRepeatedAt;
  const when = at ? ` ${now ? relative(at, now) : `at ${at}`}` : '';
  const why = standing.lastRepeatedReason ? `: ${standing.lastRepeatedReason}` : '';
  return `; thrown again ${times}, last by ${standing.lastRepeatedBy ?? '?'}${when}${why}`;
}

/** A grant state, coloured by what it means for the credential: live (yellow), dead (green), refused (red). */
export function stateLabel(state: string): string {
  if (state === 'verified') return pc.green(state);
  if (state === 'denied' || state === 'failed') return pc.red(state);
  if (state === 'revoked' || state === 'revoking') return pc.magenta(state);
  return pc.yellow(state);
}

export const good = (text: string) => pc.green(text);
export const bad = (text: string) => pc.red(text);
export const dim = (text: string) => pc.dim(text);

/** A cell for an absent value. */
export const NONE = '-';
