// Adapter (AWS IAM): the inline deny on an agent's role that kills revoked STS sessions
// one by one, as a value: parse, add, prune, render. The STS issuer reads and writes it.

/** The inline policy on each agent role that lists revoked sessions. */
export const REVOKED_SESSIONS_POLICY_NAME = 'taskbound-revoked-sessions';

/**
 * Why `aws:SourceIdentity` rather than `aws:PrincipalTag/taskbound:grant-id`: both are set
 * once at AssumeRole and cannot be changed by the session, but the source identity also
 * survives role chaining (tags do only when marked transitive), so the same deny works on
 * any role a session could chain into, and CloudTrail records it on every call.
 */
export const REVOCATION_CONDITION_KEY = 'aws:SourceIdentity';

/**
 * Why expiry lives in the Sid: pruning needs each id's expiry, and a Sid costs nothing at
 * evaluation and is kept verbatim by IAM. Ids are grouped by the 15-minute window their
 * session ends in, one statement per window, so ~110 characters of statement are shared
 * by every id in it (about 300 live revoked sessions fit in IAM's 10,240 characters per
 * role); one statement or one `DateLessThan` condition per id would fit about a quarter.
 */
export const REVOCATION_BUCKET_SECONDS = 900;

/** STS's clock and ours may disagree: an entry is kept this long past its session's end. */
export const CLOCK_SKEW_MARGIN_SECONDS = 300;

const OUR_SID = /^RevokedUntil(\d+)$/;

/** Revoked grant ids by the end (epoch seconds) of the window their sessions die in. */
export interface RevokedSessions {
  readonly buckets: ReadonlyMap<number, ReadonlySet<string>>;
  /** Statements someone else put in the policy: kept verbatim, never pruned. */
  readonly foreign: readonly unknown[];
}

interface Statement {
  readonly Sid?: unknown;
  readonly Effect?: unknown;
  readonly Condition?: { readonly StringEquals?: Record<string, unknown> };
}

function idsOf(statement: Statement): string[] | undefined {
  const values = statement.Condition?.StringEquals?.[REVOCATION_CONDITION_KEY];
  if (typeof values === 'string') return [values];
  if (Array.isArray(values) && values.every((value) => typeof value === 'string')) return values;
  return undefined;
}

/** Reads the policy as IAM returns it (GetRolePolicy documents are URL-encoded); absent is empty. */
export function parseRevokedSessions(document: string | undefined): RevokedSessions {
  const buckets = new Map<number, Set<string>>();
  const foreign: unknown[] = [];
  if (document === undefined) return { buckets, foreign };
  const parsed = JSON.parse(decodeURIComponent(document)) as { Statement?: unknown };
  const statements = Array.isArray(parsed.Statement) ? parsed.Statement : parsed.Statement ? [parsed.Statement] : [];
  for (const statement of statements as Statement[]) {
    const until = typeof statement.Sid === 'string' ? OUR_SID.exec(statement.Sid)?.[1] : undefined;
    const ids = statement.Effect === 'Deny' ? idsOf(statement) : undefined;
    if (until === undefined || ids === undefined) {
      foreign.push(statement);
      continue;
    }
    const bucket = buckets.get(Number(until)) ?? new Set<string>();
    for (const id of ids) bucket.add(id);
    buckets.set(Number(until), bucket);
  }
  return { buckets, foreign };
}

export function isRevoked(sessions: RevokedSessions, grantId: string): boolean {
  return [...sessions.buckets.values()].some((ids) => ids.has(grantId));
}

/** Adds a grant whose session ends no later than `sessionEndsBy`. */
export function withRevoked(sessions: RevokedSessions, grantId: string, sessionEndsBy: Date): RevokedSessions {
  const endSeconds = Math.ceil(sessionEndsBy.getTime() / 1000);
  const until = Math.ceil(endSeconds / REVOCATION_BUCKET_SECONDS) * REVOCATION_BUCKET_SECONDS;
  const buckets = new Map(sessions.buckets);
  buckets.set(until, new Set([...(buckets.get(until) ?? []), grantId]));
  return { buckets, foreign: sessions.foreign };
}

/** Drops windows whose sessions have all expired (with margin for clock skew): the deny no longer matters. */
export function withoutExpired(sessions: RevokedSessions, now: Date): RevokedSessions {
  const nowSeconds = now.getTime() / 1000;
  const buckets = new Map([...sessions.buckets].filter(([until]) => until + CLOCK_SKEW_MARGIN_SECONDS >= nowSeconds));
  return { buckets, foreign: sessions.foreign };
}

/** Minified policy JSON, as written with PutRolePolicy. */
export function renderRevokedSessions(sessions: RevokedSessions): string {
  const ours = [...sessions.buckets]
    .filter(([, ids]) => ids.size > 0)
    .sort(([a], [b]) => a - b)
    .map(([until, ids]) => ({
      Sid: `RevokedUntil${until}`,
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { StringEquals: { [REVOCATION_CONDITION_KEY]: [...ids].sort() } },
    }));
  return JSON.stringify({ Version: '2012-10-17', Statement: [...sessions.foreign, ...ours] });
}
