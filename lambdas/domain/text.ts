// Domain: which characters no name, id or reason may hold. Shared by the event schemas, the
// operator API and the policy loader, so an event, a person's request and the policy refuse the same things.
import type * as z from 'zod';

/**
 * Control characters (NUL among them; C1 too, whose U+009B opens a terminal escape sequence as ESC [
 * does) hide text, and a lone surrogate cannot be stored or shown faithfully.
 */
export const UNSAFE_TEXT =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * In a person's name, also what hides or reorders characters: `lead\u200b@` would pose as `lead@`.
 * Unicode's default-ignorable code points are the characters a renderer shows as nothing: zero-width
 * ones, every bidirectional mark and override, the soft hyphen, fillers and tags.
 */
export const DECEPTIVE = /\p{Default_Ignorable_Code_Point}/u;

/** Why text holding UNSAFE_TEXT, or a name holding DECEPTIVE, is refused: one wording wherever it is checked. */
export const UNSAFE_TEXT_REASON = 'must not contain control characters or unpaired surrogates';
export const DECEPTIVE_REASON = 'must not contain invisible or direction-changing characters';

/**
 * Alphabets whose letters pass for each other: Latin `a`, Cyrillic `а`, Greek `α`; Armenian `օ` and
 * Cherokee `Ꭺ` too. A word (a run of letters) that mixes two of them is a look-alike of another
 * name (`аlice@example.com` with a Cyrillic а poses as Alice); separate words may differ (`Иван Petrov`).
 */
const LOOKALIKE_SCRIPTS = [
  /\p{Script=Latin}/u,
  /\p{Script=Cyrillic}/u,
  /\p{Script=Greek}/u,
  /\p{Script=Armenian}/u,
  /\p{Script=Cherokee}/u,
];

/** Whether one word of `value` mixes letters of two look-alike alphabets (Unicode's mixed-script test, UTS #39, for these). */
export function mixesLookalikeScripts(value: string): boolean {
  return (value.match(/\p{L}+/gu) ?? []).some((word) => LOOKALIKE_SCRIPTS.filter((script) => script.test(word)).length > 1);
}

/** Free text anyone sends (an event's fields, an operator's reason): no control characters, no lone surrogates. */
export const safeText = <S extends z.ZodString>(schema: S) => schema.refine((value) => !UNSAFE_TEXT.test(value), UNSAFE_TEXT_REASON);
