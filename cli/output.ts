// CLI: how results are printed: aligned text tables for people, JSON for scripts.

/** Lines of a table whose columns are padded to their widest cell. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

/** One JSON document, pretty-printed so it reads and diffs well; `jq` copes either way. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** A duration for people: `850 ms`, `4.2 s`, `3.5 min`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** A cell for an absent value. */
export const NONE = '-';
