// Domain: a `Task Started`'s `context`, the one free-form field of the contract (docs/contract.md §1).
// It is kept in the grant record and shown by the CLI and exports, so it meets the rules every other
// text field meets: no control characters in its keys or strings, secret shapes redacted from its
// strings, and a bound on its size and its nesting. A refusal names the path, never the text.
import * as z from 'zod';
import { redactSecretShapes, secretShapeOf } from './secret-shapes';
import { DECEPTIVE, DECEPTIVE_REASON, UNSAFE_TEXT, UNSAFE_TEXT_REASON } from './text';

const MAX_CONTEXT_BYTES = 4096;
/** Objects and arrays nested in each other, `context` itself included. */
const MAX_CONTEXT_DEPTH = 8;
/** A key longer than this is named by its position in a reason, not quoted. */
const MAX_SHOWN_KEY = 64;
/** Issues reported per context: enough to fix it, few enough to read. */
const MAX_ISSUES = 5;

interface ContextIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** What is wrong with a key: it is a name, so it may hold no control, invisible or secret-shaped text. */
function keyProblem(key: string): string | undefined {
  if (UNSAFE_TEXT.test(key)) return UNSAFE_TEXT_REASON;
  if (DECEPTIVE.test(key)) return DECEPTIVE_REASON;
  const shape = secretShapeOf(key);
  return shape ? `looks like ${shape}: a key is a name, not a place for a secret` : undefined;
}

/** Collects the issues of `value` found at `path`, `depth` objects deep; stops descending past MAX_CONTEXT_DEPTH. */
function collectIssues(value: unknown, path: readonly (string | number)[], depth: number, issues: ContextIssue[]): void {
  if (issues.length >= MAX_ISSUES) return;
  if (typeof value === 'string') {
    if (UNSAFE_TEXT.test(value)) issues.push({ path, message: UNSAFE_TEXT_REASON });
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (depth > MAX_CONTEXT_DEPTH) {
    issues.push({ path, message: `context may nest objects and arrays at most ${MAX_CONTEXT_DEPTH} deep (context itself included)` });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => collectIssues(item, [...path, index], depth + 1, issues));
    return;
  }
  Object.entries(value).forEach(([key, item], index) => {
    const problem = keyProblem(key);
    // An unsafe or long key is named by its position: a reason is published, and it must not carry the key.
    const shown = problem === undefined && key.length <= MAX_SHOWN_KEY ? key : `(key ${index + 1})`;
    if (problem) issues.push({ path: [...path, shown], message: `key ${problem}` });
    else collectIssues(item, [...path, shown], depth + 1, issues);
  });
}

/** `value` with secret shapes redacted from every string in it; called only on a context whose nesting is bounded. */
function redacted(value: unknown): unknown {
  if (typeof value === 'string') return redactSecretShapes(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(redacted);
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redacted(item)]));
}

/** The JSON size of a value, or Infinity when it cannot be serialised. */
function jsonBytes(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value));
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * `context`: an object of at most 4 KB of JSON, nested at most 8 deep, whose keys and strings hold
 * no control characters (nor, in keys, invisible characters or secret shapes); secret shapes in its
 * strings are redacted, which never lengthens them, so the stored context still fits the 4 KB.
 */
export const taskContextSchema = z
  .record(z.string(), z.unknown())
  .superRefine((value, ctx) => {
    const issues: ContextIssue[] = [];
    collectIssues(value, [], 1, issues);
    for (const issue of issues) ctx.addIssue({ code: 'custom', message: issue.message, path: [...issue.path] });
  })
  .refine((value) => jsonBytes(value) <= MAX_CONTEXT_BYTES, 'context must be at most 4 KB of JSON')
  .transform((value) => redacted(value) as Record<string, unknown>);
