// Domain: zod says "expected string, received undefined" of a value that was not given at all. A
// person reading a refusal (a CLI flag, a policy file's key) needs to be told it is missing.

/** What to say of a value left out. */
export const LEFT_OUT = 'required, not given';

/** Whether the issue is about a value absent from `input` (as opposed to one given with the wrong type). */
export function isLeftOut(issue: { readonly code: string; readonly path: readonly PropertyKey[] }, input: unknown): boolean {
  return issue.code === 'invalid_type' && issue.path.length > 0 && valueAt(input, issue.path) === undefined;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let node = input;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}
