// Domain: which characters no name, id or reason may hold. Shared by the event schemas and the
// policy loader, so an event and the policy refuse the same things.

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
