// Domain: what secret material looks like in text, whatever the field is called. Shared by the
// publisher's last check before the bus (adapters/aws/eventbridge-publisher.ts) and the inbound
// schemas, which redact it from the free text people write (a purpose, a reason), so a grant
// record, its audit chain, its events and Slack never hold it, and no event is refused for it.

/**
 * Values shaped like secret material, whatever the field is called. Access key ids (AKIA…,
 * ASIA…) are identifiers and pass; what they unlock does not. Each is named, never quoted.
 */
export const SECRET_VALUE_SHAPES: readonly { readonly name: string; readonly pattern: RegExp }[] = [
  // An AWS secret access key: exactly 40 base64 characters, mixed case and digits (a hex digest has no capitals).
  {
    name: 'an AWS secret access key',
    pattern:
      /(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/,
  },
  // Session tokens and other long encoded blobs.
  { name: 'a session token or other long encoded secret', pattern: /[A-Za-z0-9/+_-]{100,}={0,2}/ },
  // Each pattern spans the whole secret, not only what gives it away, so that redaction leaves none of it:
  // a private key through its END line (or to the end of the text), a webhook URL through its path.
  { name: 'a private key', pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----|[\s\S]*)/ },
  { name: 'a Slack token', pattern: /\bxox[a-z]-[A-Za-z0-9-]{8,}/ },
  { name: 'a Slack webhook URL', pattern: /hooks\.slack\.com\/(services|workflows)\/[^\s"'<>]*/ },
  { name: 'a bearer token', pattern: /\bbearer\s+[A-Za-z0-9._~+/=-]{16,}/i },
  { name: 'a GitHub token', pattern: /\bgh[pousr]_[A-Za-z0-9]{30,}/ },
];

/**
 * The fewest characters any of SECRET_VALUE_SHAPES matches (a Slack token: `xoxb-` and 8 more; the
 * others need 23 or more): a shorter string cannot hold one, so its shapes are not tried.
 */
const SHORTEST_SECRET_SHAPE = 13;

/** What secret material `text` looks like, if any. */
export function secretShapeOf(text: string): string | undefined {
  if (text.length < SHORTEST_SECRET_SHAPE) return undefined;
  return SECRET_VALUE_SHAPES.find((candidate) => candidate.pattern.test(text))?.name;
}

const GLOBAL_SHAPES = SECRET_VALUE_SHAPES.map(({ name, pattern }) => ({ name, pattern: new RegExp(pattern.source, `${pattern.flags}g`) }));

/** What replaces a secret too short for its named marker; shorter than SHORTEST_SECRET_SHAPE. */
const SHORT_MARKER = '[redacted]';

/**
 * `text` with anything shaped like secret material replaced by `[redacted: <what it looked like>]`,
 * or by `[redacted]` where the named marker is longer than the secret: redacted text is never
 * longer than the text, so it still fits the limit its field was validated against.
 */
export function redactSecretShapes(text: string): string {
  if (!secretShapeOf(text)) return text;
  return GLOBAL_SHAPES.reduce((redacted, { name, pattern }) => {
    const named = `[redacted: ${name}]`;
    return redacted.replace(pattern, (secret) => (named.length <= secret.length ? named : SHORT_MARKER));
  }, text);
}
