// Adapter (AWS IAM): the inline deny on an agent's role that kills every session issued before a
// time (the kill switch), as a value: render, parse, and which grants it covers. The STS issuer writes it.

/**
 * Its own inline policy, beside the per-grant deny (revoked-sessions-policy.ts): each is written
 * read-modify-write with no conditional put in IAM, so one writer can never drop the other's statement.
 */
export const REVOKED_BEFORE_POLICY_NAME = 'taskbound-revoked-before';

/** What the policy costs out of the role's 10,240 inline characters (rendered, it is about 190). */
export const REVOKED_BEFORE_RESERVED_CHARS = 256;

/**
 * `aws:TokenIssueTime` is stamped by STS's clock; a grant's `issued` time by the engine's, after
 * AssumeRole answered. The deny reaches this far past the notice so that every session the engine
 * recorded before it is covered even if STS's clock runs ahead of the engine's by up to this much.
 * The price: a session issued in these seconds after the suspension is denied too.
 */
export const TOKEN_ISSUE_MARGIN_SECONDS = 5;

const SID = 'RevokedIssuedBefore';
const CONDITION_KEY = 'aws:TokenIssueTime';

/** The time the deny names for a kill switch noticed at `issuedBefore`: past it by the margin, in whole seconds. */
export function denyTimeFor(issuedBefore: Date): Date {
  return new Date(Math.ceil(issuedBefore.getTime() / 1000 + TOKEN_ISSUE_MARGIN_SECONDS) * 1000);
}

/**
 * When a session issued (engine clock) passes the deny made for a kill switch noticed at
 * `issuedBefore`, whichever way STS's clock is off by up to the margin: the deny's time plus the margin.
 */
export function sessionsPassFrom(issuedBefore: Date): Date {
  return new Date(denyTimeFor(issuedBefore).getTime() + TOKEN_ISSUE_MARGIN_SECONDS * 1000);
}

/** Whether a deny naming `deniedBefore` covers a session whose grant was recorded issued at `issuedAt`. */
export function coversIssuedAt(deniedBefore: Date | undefined, issuedAt: Date | undefined): boolean {
  if (!deniedBefore || !issuedAt) return false;
  return issuedAt.getTime() < deniedBefore.getTime() - TOKEN_ISSUE_MARGIN_SECONDS * 1000;
}

/**
 * Minified policy JSON, as written with PutRolePolicy: AWS's own "revoke active sessions" deny
 * (the console's AWSRevokeOlderSessions). It sits on one agent's role, so only that agent's
 * sessions are evaluated against it; sessions issued after the time pass it untouched.
 */
export function renderRevokedBefore(deniedBefore: Date): string {
  const at = deniedBefore.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: SID, Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { [CONDITION_KEY]: at } } }],
  });
}

interface Statement {
  readonly Sid?: unknown;
  readonly Effect?: unknown;
  readonly Condition?: { readonly DateLessThan?: Record<string, unknown> };
}

/** The time the policy denies sessions before, as IAM returns it (URL-encoded); absent or unrecognised: none. */
export function parseRevokedBefore(document: string | undefined): Date | undefined {
  if (document === undefined) return undefined;
  const parsed = JSON.parse(decodeURIComponent(document)) as { Statement?: unknown };
  const statements = (Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement]) as (Statement | undefined)[];
  const ours = statements.find((statement) => statement?.Sid === SID && statement.Effect === 'Deny');
  const value = ours?.Condition?.DateLessThan?.[CONDITION_KEY];
  const at = typeof value === 'string' ? new Date(value) : undefined;
  return at && !Number.isNaN(at.getTime()) ? at : undefined;
}
