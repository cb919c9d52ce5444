// Domain: use after revocation. Which recorded calls of a revoked credential count as
// possible misuse (not the engine's own probes), and when to read the record again.
import type { Grant } from './grant';

/**
 * The user agent fragment every engine probe sends (`customUserAgent` on the probe clients):
 * one of three marks, with the call's name and its time, that tell a probe from misuse.
 */
export const PROBE_USER_AGENT = 'taskbound-probe';

/** The calls the engine itself makes with an issued credential, as CloudTrail names them. */
export const ENGINE_PROBE_CALLS: readonly { readonly eventSource: string; readonly eventName: string }[] = [
  // Access keys: STS GetCallerIdentity until IAM rejects the deleted key.
  { eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity' },
  // Sessions: DescribeSecret on the canary secret until the role's deny takes.
  { eventSource: 'secretsmanager.amazonaws.com', eventName: 'DescribeSecret' },
];

/** AWS's clock and the engine's may disagree by this much (Lambda hosts are NTP-synced). */
export const CLOCK_SKEW_MS = 5_000;
/** STS's floor for a session: a TTL under it still got a session this long. */
const SESSION_FLOOR_MS = 900_000;
/**
 * How long other endpoints may still honour a deleted key after the probe saw it refused:
 * IAM is eventually consistent and AWS states no bound; seconds are typical.
 */
const KEY_PROPAGATION_MARGIN_MS = 5 * 60_000;

/** One call the platform recorded for a credential. Names, time and origin: no request parameters. */
export interface RecordedCall {
  readonly eventId: string;
  readonly eventName: string;
  readonly eventSource: string;
  readonly eventTime: Date;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  /** Set when AWS refused the call (e.g. `AccessDenied`): an attempt is still worth reporting. */
  readonly errorCode?: string;
  /** A session's SourceIdentity (the engine sets the grant id): what ties the call to the grant. */
  readonly sourceIdentity?: string;
}

export interface UseCheckTiming {
  /** How long after a call its record may appear (CloudTrail's delivery lag, with margin). */
  readonly deliveryLagMs: number;
  /** How often to read again while the credential could still be used. */
  readonly intervalMs: number;
  /** The longest a session of any agent role can live (the roles' MaxSessionDuration). */
  readonly longestSessionMs: number;
}

/**
 * CloudTrail "typically delivers logs within an average of about 5 minutes of an API call.
 * This time is not guaranteed" (AWS CloudTrail User Guide, "Getting and viewing your
 * CloudTrail log files"); AWS states nothing for event history (LookupEvents). Three times
 * the average, as AWS quoted before March 2023 (15 minutes), is the default.
 */
export const DEFAULT_USE_CHECK_TIMING: UseCheckTiming = { deliveryLagMs: 15 * 60_000, intervalMs: 60 * 60_000, longestSessionMs: 3600_000 };

const ms = (iso: string | undefined): number | undefined => (iso === undefined ? undefined : Date.parse(iso));

/**
 * When the credential was first revoked. A credential still accepted after its revocation
 * is revoked again (and `revokedAt` moves on), but misuse and propagation count from the first.
 */
export function firstRevokedAt(grant: Grant): string | undefined {
  return grant.audit.find((entry) => entry.action === 'revoked')?.at ?? grant.revokedAt;
}
/** CloudTrail records event times in whole seconds: a call 300 ms after revocation shows the second before. */
const wholeSecond = (time: number): number => Math.floor(time / 1000) * 1000;

/**
 * When the engine itself may have called with the credential after revoking it: from the
 * revocation until it was verified dead (the sweep's re-probes included), widened by the
 * clock skew. Undefined when nothing was revoked.
 */
export function probeWindow(grant: Grant): { readonly from: number; readonly to: number } | undefined {
  const revokedAt = ms(firstRevokedAt(grant));
  if (revokedAt === undefined) return undefined;
  return { from: revokedAt - CLOCK_SKEW_MS, to: (ms(grant.verifiedAt) ?? revokedAt) + CLOCK_SKEW_MS };
}

/**
 * A call is the engine's own probe only if all three hold: it is a probe call, it came with
 * the probe's user agent, and it fell within the probe window. A thief would have to forge
 * the agent string, make exactly a harmless probe call, and do it within seconds of the
 * revocation; even then what it reached is what the probe reaches (nothing of value).
 */
export function isEngineProbe(call: RecordedCall, window: { readonly from: number; readonly to: number } | undefined): boolean {
  if (!window) return false;
  const probeCall = ENGINE_PROBE_CALLS.some((probe) => probe.eventSource === call.eventSource && probe.eventName === call.eventName);
  const time = call.eventTime.getTime();
  return probeCall && (call.userAgent?.includes(PROBE_USER_AGENT) ?? false) && time >= window.from && time <= window.to;
}

/**
 * The calls from the second of the revocation on that were not the engine's probes:
 * possible misuse. A call in that same second but just before the revocation is reported
 * too; CloudTrail's whole-second times cannot tell them apart, and a false alarm is cheaper.
 */
export function callsAfterRevocation(grant: Grant, calls: readonly RecordedCall[]): RecordedCall[] {
  const revokedAt = ms(firstRevokedAt(grant));
  if (revokedAt === undefined) return [];
  const window = probeWindow(grant);
  return calls
    .filter((call) => call.eventTime.getTime() >= wholeSecond(revokedAt) && !isEngineProbe(call, window))
    .sort((a, b) => a.eventTime.getTime() - b.eventTime.getTime());
}

/**
 * Until when a revoked credential could still have been used: a session until it expires
 * (its expiry, plus STS's 900 s floor for short TTLs), an access key until a few minutes
 * after it was proven dead; never beyond the longest session any role allows.
 */
export function usableUntil(grant: Grant, timing: UseCheckTiming): number | undefined {
  const revokedAt = ms(firstRevokedAt(grant));
  if (revokedAt === undefined) return undefined;
  const longest = revokedAt + timing.longestSessionMs;
  const expiresAt = ms(grant.expiresAt ?? grant.credential?.expiresAt);
  const sessionEnd = expiresAt !== undefined ? expiresAt + SESSION_FLOOR_MS : longest;
  const own =
    grant.credential?.kind === 'aws-iam-access-key' ? (ms(grant.verifiedAt) ?? revokedAt) + KEY_PROPAGATION_MARGIN_MS : sessionEnd;
  return Math.max(revokedAt, Math.min(longest, own));
}

/**
 * The first read: once the record holds the first interval after revocation (or the whole
 * time the credential was usable, when shorter: a deleted key, a short session), so a read
 * is never spent on a window that cannot have been delivered yet.
 */
export function firstUseCheckAt(grant: Grant, timing: UseCheckTiming): string | undefined {
  const revokedAt = ms(firstRevokedAt(grant));
  const until = usableUntil(grant, timing);
  if (revokedAt === undefined || until === undefined) return undefined;
  return new Date(Math.min(until, revokedAt + timing.intervalMs) + timing.deliveryLagMs).toISOString();
}

export interface UseCheckWindow {
  readonly from: Date;
  readonly to: Date;
  /** When to read next; absent once the record is complete. */
  readonly nextAt?: string;
}

/**
 * The window the check at `now` reads, `[from, to)` in whole seconds: from where the last
 * check stopped to what has surely been delivered by now; and when to read next (absent once
 * the record is complete). Consecutive windows share no second, so no call is counted twice.
 */
export function useCheckWindow(grant: Grant, now: Date, timing: UseCheckTiming): UseCheckWindow | undefined {
  const revokedAt = ms(firstRevokedAt(grant));
  const until = usableUntil(grant, timing);
  if (revokedAt === undefined || until === undefined) return undefined;
  const from = ms(grant.useReadThrough) ?? wholeSecond(revokedAt);
  const delivered = now.getTime() - timing.deliveryLagMs;
  const done = delivered >= until;
  const to = Math.max(from, done ? wholeSecond(until) + 1000 : wholeSecond(delivered));
  const nextAt = done ? undefined : new Date(Math.min(now.getTime() + timing.intervalMs, until + timing.deliveryLagMs)).toISOString();
  return { from: new Date(from), to: new Date(to), ...(nextAt ? { nextAt } : {}) };
}
