// Domain: what a credential actually did. The calls of either record (the local engine's, CloudTrail's)
// in one shape, each placed against the grant's revocation and tied to the grant (`grants show`); and,
// over a period, the actions a scope granted that no task used: candidates to narrow (`report`).
import type { Grant } from './grant';
import { actionPattern } from './privilege';
import { CLOCK_SKEW_MS, ENGINE_PROBE_CALLS, firstRevokedAt, PROBE_USER_AGENT, probeWindow } from './use-after-revocation';

/** One call made with a credential, from whichever record: names, time, origin and outcome; never parameters. */
export interface ObservedCall {
  /** ISO 8601: when the call was made (CloudTrail: whole seconds). */
  readonly at: string;
  /** The IAM service prefix (`secretsmanager`), from the SigV4 signing name or CloudTrail's event source. */
  readonly service: string;
  /** `GetSecretValue`: the API operation (CloudTrail's event name). */
  readonly operation: string;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  /** Set when AWS refused the call (e.g. `AccessDenied`). */
  readonly errorCode?: string;
  /** The HTTP status, when the record keeps it (the local engine's). */
  readonly status?: number;
  /** The session's SourceIdentity as CloudTrail recorded it (`userIdentity.sessionContext.sourceIdentity`). */
  readonly sourceIdentity?: string;
}

/** Where a call falls: the task's use, the engine's own probe (at issue or after revocation), or possible misuse. */
export type CallPhase = 'before-revocation' | 'engine-probe' | 'after-revocation';
/**
 * What ties the call to the grant: the session's SourceIdentity (the engine assumes agent roles with
 * the grant id as SourceIdentity, and it survives role chaining), or only the access key id it was
 * looked up by; a SourceIdentity naming another grant is a finding, never silently attributed.
 */
export type CallTie = 'source-identity' | 'access-key' | 'other-source-identity';

export interface PlacedCall extends ObservedCall {
  /** `service:Operation`, as an IAM policy names the action (see {@link iamActionOf}). */
  readonly action: string;
  readonly phase: CallPhase;
  readonly tie: CallTie;
}

/**
 * Signing names and event sources that differ from the IAM prefix that authorizes the call.
 * The rest (sts, s3, secretsmanager, dynamodb, events, …) are the same word.
 */
const IAM_PREFIX: Readonly<Record<string, string>> = { monitoring: 'cloudwatch', email: 'ses', 'states-sync': 'states' };

/** `secretsmanager.amazonaws.com` or the signing name `secretsmanager` → the IAM prefix `secretsmanager`. */
export function iamServiceOf(serviceOrEventSource: string): string {
  const name = serviceOrEventSource.toLowerCase().replace(/\.amazonaws\.com$/, '');
  return IAM_PREFIX[name] ?? name;
}

/**
 * The IAM action a call needed. Most operations are authorized by the action of the same name;
 * the few that are not (S3's ListObjectsV2 needs s3:ListBucket, for instance) show as their own
 * name, so such a permission may be reported unused when it was not: the report says so.
 */
export function iamActionOf(call: Pick<ObservedCall, 'service' | 'operation'>): string {
  return `${iamServiceOf(call.service)}:${call.operation}`;
}

/** CloudTrail records whole seconds: a call 300 ms after revocation shows the second before. */
const wholeSecond = (time: number): number => Math.floor(time / 1000) * 1000;

export interface PlaceOptions {
  /**
   * Whether the record keeps each call's user agent (CloudTrail does, the local engine's does not).
   * Without it a probe-shaped call inside the probe window counts as the engine's probe.
   */
  readonly userAgents: boolean;
  /**
   * Whether the record keeps times in whole seconds (CloudTrail does; the local engine's keeps
   * milliseconds). Only then is a call in the second of the revocation counted after it, since
   * its recorded time may be the second before the call.
   */
  readonly wholeSeconds: boolean;
}

/** What each record keeps: CloudTrail user agents and whole-second times; the local engine's neither user agents nor rounding. */
export const RECORD_KEEPS: Readonly<Record<'cloudtrail' | 'local-engine', PlaceOptions>> = {
  cloudtrail: { userAgents: true, wholeSeconds: true },
  'local-engine': { userAgents: false, wholeSeconds: false },
};

interface Window {
  readonly from: number;
  readonly to: number;
}

/**
 * While the engine issued the credential: it probes a fresh session once (the canary must answer,
 * or the session is refused) between the approval and the grant turning active.
 */
function issueWindow(grant: Grant): Window | undefined {
  const issuing = grant.audit.find((entry) => entry.to === 'issuing')?.at;
  const issued = grant.audit.find((entry) => entry.to === 'active')?.at;
  if (issuing === undefined || issued === undefined) return undefined;
  return { from: Date.parse(issuing) - CLOCK_SKEW_MS, to: Date.parse(issued) + CLOCK_SKEW_MS };
}

/** A probe call (see ENGINE_PROBE_CALLS) inside `window`, with the probe's user agent where the record keeps one. */
function isProbe(window: Window | undefined, call: ObservedCall, options: PlaceOptions): boolean {
  if (!window) return false;
  const time = Date.parse(call.at);
  const eventSource = `${iamServiceOf(call.service)}.amazonaws.com`;
  const probeShaped = ENGINE_PROBE_CALLS.some((probe) => probe.eventSource === eventSource && probe.eventName === call.operation);
  const agentOk = !options.userAgents || (call.userAgent?.includes(PROBE_USER_AGENT) ?? false);
  return probeShaped && agentOk && time >= wholeSecond(window.from) && time <= window.to;
}

function phaseOf(grant: Grant, call: ObservedCall, options: PlaceOptions): CallPhase {
  const revokedAt = firstRevokedAt(grant);
  const revokedFrom = revokedAt === undefined ? undefined : Date.parse(revokedAt);
  if (revokedFrom === undefined || Date.parse(call.at) < (options.wholeSeconds ? wholeSecond(revokedFrom) : revokedFrom)) {
    return isProbe(issueWindow(grant), call, options) ? 'engine-probe' : 'before-revocation';
  }
  return isProbe(probeWindow(grant), call, options) ? 'engine-probe' : 'after-revocation';
}

function tieOf(grant: Grant, call: ObservedCall): CallTie {
  if (call.sourceIdentity === undefined) return 'access-key';
  return call.sourceIdentity === grant.grantId ? 'source-identity' : 'other-source-identity';
}

/** Each call with its action, its phase against the grant's first revocation, and what ties it to the grant; oldest first. */
export function placeCalls(grant: Grant, calls: readonly ObservedCall[], options: PlaceOptions): PlacedCall[] {
  return [...calls]
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))
    .map((call) => ({ ...call, action: iamActionOf(call), phase: phaseOf(grant, call, options), tie: tieOf(grant, call) }));
}

/**
 * The actions the task itself used: calls before revocation, tied to the grant, refused ones
 * included (an attempt shows the task wanted the action, so it is no candidate to remove).
 */
export function actionsUsed(placed: readonly PlacedCall[]): string[] {
  const used = placed
    .filter((call) => call.phase === 'before-revocation' && call.tie !== 'other-source-identity')
    .map((call) => call.action);
  return [...new Set(used)].sort();
}

/**
 * Whether calls the credential made may still be missing from CloudTrail: it could be used until
 * `usableUntil` (absent: it still can), and events reach event history minutes after the call.
 */
export function recentForDelivery(usableUntil: number | undefined, now: Date, deliveryLagMs: number): boolean {
  return usableUntil === undefined || usableUntil + CLOCK_SKEW_MS > now.getTime() - deliveryLagMs;
}

/** One grant of the period: its scopes and the actions its task used (absent: its calls could not be read). */
export interface GrantUse {
  readonly grantId: string;
  readonly agentId: string;
  readonly scopes: readonly string[];
  readonly used?: readonly string[];
}

/** One scope (over every agent, or for one agent): what it granted, what was used, what was not. */
export interface ScopeUse {
  readonly scope: string;
  /** Grants of the period that carried the scope, and how many of them had their calls read. */
  readonly grants: number;
  readonly grantsRead: number;
  /** The scope's actions, wildcards expanded where the catalog knows them; patterns it could not expand stay patterns. */
  readonly granted: readonly string[];
  readonly used: readonly string[];
  /** Granted and never used by any task whose calls were read: candidates to narrow. Empty when none was read. */
  readonly unused: readonly string[];
}

export interface PermissionUsage {
  readonly scopes: readonly ScopeUse[];
  readonly agents: Readonly<Record<string, readonly ScopeUse[]>>;
  /** Grants whose calls could not be read: their use is unknown, so they narrow nothing. */
  readonly grantsUnread: number;
}

function scopeUse(scope: string, granted: readonly string[], grants: readonly GrantUse[]): ScopeUse {
  const read = grants.filter((grant) => grant.used !== undefined);
  const usedActions = [...new Set(read.flatMap((grant) => grant.used ?? []))];
  const isUsed = (entry: string) => {
    const matcher = actionPattern(entry);
    return usedActions.some((action) => matcher.test(action));
  };
  const used = granted.filter(isUsed);
  return {
    scope,
    grants: grants.length,
    grantsRead: read.length,
    granted,
    used,
    unused: read.length === 0 ? [] : granted.filter((entry) => !isUsed(entry)),
  };
}

/**
 * For each scope that a grant of the period carried, overall and per agent: the granted actions
 * (`scopeActions`, already expanded) that no task used. Matching is case-insensitive, as IAM's.
 * A scope no longer in the policy (`scopeActions` lacks it) is left out.
 */
export function permissionUsage(grants: readonly GrantUse[], scopeActions: Readonly<Record<string, readonly string[]>>): PermissionUsage {
  const scopesOf = (subset: readonly GrantUse[]) =>
    [...new Set(subset.flatMap((grant) => grant.scopes))]
      .filter((scope) => scopeActions[scope] !== undefined)
      .sort()
      .map((scope) =>
        scopeUse(
          scope,
          scopeActions[scope] ?? [],
          subset.filter((grant) => grant.scopes.includes(scope)),
        ),
      );
  const agentIds = [...new Set(grants.map((grant) => grant.agentId))].sort();
  return {
    scopes: scopesOf(grants),
    agents: Object.fromEntries(agentIds.map((agentId) => [agentId, scopesOf(grants.filter((grant) => grant.agentId === agentId))])),
    grantsUnread: grants.filter((grant) => grant.used === undefined).length,
  };
}
