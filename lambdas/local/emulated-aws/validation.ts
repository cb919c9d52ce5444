// Local engine, emulated AWS: an operation's input checked with zod, refused in the words AWS
// uses for a request that breaks the API's own constraints ("1 validation error detected: ...").
import type { z } from 'zod';

/** What a check found: the input, or AWS's validation message for its first fault. */
export type Checked<T> = { readonly ok: true; readonly input: T } | { readonly ok: false; readonly message: string };

/** AWS names members in lowerCamelCase in its validation messages (`secretId`, `entries.1.member.source`). */
function memberPath(path: readonly PropertyKey[]): string {
  return path
    .map((part) => (typeof part === 'number' ? `${part + 1}.member` : String(part).charAt(0).toLowerCase() + String(part).slice(1)))
    .join('.');
}

/** Parses `input` with `schema`; a failure is described as AWS describes a ValidationException. */
export function checkInput<S extends z.ZodType>(schema: S, input: unknown): Checked<z.output<S>> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return { ok: true, input: parsed.data };
  const issues = parsed.error.issues;
  const described = issues.map((issue) => {
    const member = memberPath(issue.path);
    const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
    return missing
      ? `Value null at '${member}' failed to satisfy constraint: Member must not be null`
      : `Value at '${member}' failed to satisfy constraint: ${issue.message}`;
  });
  const count = `${described.length} validation error${described.length === 1 ? '' : 's'} detected`;
  return { ok: false, message: `${count}: ${described.join('; ')}` };
}
