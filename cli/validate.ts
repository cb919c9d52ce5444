// CLI: input checked at the boundary with the engine's own event schemas, so nothing the
// engine would reject is ever sent, and the user learns which flag is wrong and why.
import type { z } from 'zod';
import { UsageError } from './context';

/**
 * Parses `value` with `schema`, or throws a UsageError listing each problem. `flags` maps a
 * detail field to the flag that set it (`taskId` → `--task`), so messages name what was typed.
 */
export function validated<T>(schema: z.ZodType<T>, value: unknown, what: string, flags: Readonly<Record<string, string>> = {}): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.map(String).join('.');
    const head = issue.path[0] === undefined ? undefined : String(issue.path[0]);
    const name = head !== undefined && flags[head] ? `${flags[head]}${field.slice(head.length)}` : field || '(input)';
    // zod says "expected string, received undefined" of a flag not given at all: that one is missing.
    const missing = issue.code === 'invalid_type' && issue.path.length > 0 && valueAt(value, issue.path) === undefined;
    return `  ${name}: ${missing ? 'required, not given' : issue.message}`;
  });
  throw new UsageError(`invalid ${what}:\n${problems.join('\n')}`);
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let node = value;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** `a,b , c` → `['a', 'b', 'c']`; empty items are dropped so `a,` is not a blank scope. */
export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}
