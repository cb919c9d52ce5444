// Adapter (Slack): Block Kit's limits and the text helpers that keep every message inside
// them. User text is escaped (no `<!channel>` or disguised links), scrubbed of anything that
// looks like a secret, and cut on a character boundary, never inside an escape.
import type { Block } from './slack-message';

/** Slack's documented Block Kit limits that our messages can reach. */
export const BLOCK_KIT_LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  contextText: 2000,
  buttonText: 75,
  buttonValue: 2000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  /** Not a hard limit: Slack truncates past 40k, and notifications show far less. */
  fallbackText: 3000,
} as const;

const ELLIPSIS = '…';

/** `name: value` pairs that name a secret: the value goes, the name stays to explain the gap. */
const KEYED_SECRET = /\b(secretAccessKey|sessionToken|signingSecret|botToken|webhookUrl|SecretString)("?\s*[:=]\s*"?)[^\s",}]+/gi;

/** Secret-looking text, replaced wherever it appears: a reason can quote anything. */
const SECRET_PATTERNS: readonly RegExp[] = [
  /https:\/\/hooks\.slack(?:-gov)?\.com\/\S*/gi,
  /\bxox[abposr]-[A-Za-z0-9-]+/g,
  /\bxapp-[A-Za-z0-9-]+/g,
  // Session tokens and other long base64 blobs.
  /[A-Za-z0-9/+=]{100,}/g,
  // An AWS secret access key: 40 base64 characters mixing cases and digits.
  /(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g,
];

export function redactSecrets(text: string): string {
  const keyed = text.replace(KEYED_SECRET, (_match, name: string, separator: string) => `${name}${separator}[redacted]`);
  return SECRET_PATTERNS.reduce((scrubbed, pattern) => scrubbed.replace(pattern, '[redacted]'), keyed);
}

const MRKDWN_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * Escapes and truncates for a mrkdwn field, measuring the escaped length (what Slack counts)
 * and cutting between code points, so neither an escape nor a surrogate pair is split.
 */
export function mrkdwnText(text: string, max: number): string {
  return fit(
    Array.from(redactSecrets(text)).map((char) => MRKDWN_ESCAPES[char] ?? char),
    max,
  );
}

/** Truncates for a plain_text field (Slack shows it literally: nothing to escape). */
export function plainText(text: string, max: number): string {
  return fit(Array.from(redactSecrets(text)), max);
}

function fit(units: readonly string[], max: number): string {
  const whole = units.join('');
  if (whole.length <= max) return whole;
  let out = '';
  for (const unit of units) {
    if (out.length + unit.length + ELLIPSIS.length > max) break;
    out += unit;
  }
  return out + ELLIPSIS;
}

/** Code spans cannot contain a backtick; escaping still applies inside them. */
export function code(text: string, max: number): string {
  return `\`${mrkdwnText(text.replace(/`/g, "'"), max - 2)}\``;
}

export const header = (text: string): Block => ({
  type: 'header',
  text: { type: 'plain_text', text: plainText(text, BLOCK_KIT_LIMITS.headerText), emoji: true },
});

/** `text` is mrkdwn already escaped by the caller's helpers; it is cut to the limit again here. */
export const section = (text: string): Block => ({
  type: 'section',
  text: { type: 'mrkdwn', text: cutBuilt(text, BLOCK_KIT_LIMITS.sectionText) },
});

export const fields = (entries: readonly (readonly [label: string, value: string])[]): Block => ({
  type: 'section',
  fields: entries
    .slice(0, BLOCK_KIT_LIMITS.sectionFields)
    .map(([label, value]) => ({ type: 'mrkdwn', text: cutBuilt(`*${label}*\n${value}`, BLOCK_KIT_LIMITS.fieldText) })),
});

export const context = (texts: readonly string[]): Block => ({
  type: 'context',
  elements: texts
    .slice(0, BLOCK_KIT_LIMITS.contextElements)
    .map((text) => ({ type: 'mrkdwn', text: cutBuilt(text, BLOCK_KIT_LIMITS.contextText) })),
});

export const divider: Block = { type: 'divider' };

/**
 * A last cut for text assembled from already-escaped parts: backs off to before any `&` entity
 * or `<...>` token it would split, so Slack never renders half an escape or a broken link.
 */
export function cutBuilt(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - ELLIPSIS.length);
  const lastAmp = cut.lastIndexOf('&');
  if (lastAmp >= 0 && !cut.slice(lastAmp).includes(';')) cut = cut.slice(0, lastAmp);
  const lastOpen = cut.lastIndexOf('<');
  if (lastOpen >= 0 && !cut.slice(lastOpen).includes('>')) cut = cut.slice(0, lastOpen);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut + ELLIPSIS;
}
