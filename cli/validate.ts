// CLI: input checked at the boundary with the engine's own event schemas, so nothing the
// engine would reject is ever sent, and the user learns which flag is wrong and why.
import type { z } from 'zod';
import { isLeftOut, LEFT_OUT } from '../lambdas/domain/left-out';
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
    return `  ${name}: ${isLeftOut(issue, value) ? LEFT_OUT : issue.message}`;
  });
  throw new UsageError(`invalid ${what}:\n${problems.join('\n')}`);
}

/** `a,b , c` → `['a', 'b', 'c']`; empty items are dropped so `a,` is not a blank scope. */
export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}
