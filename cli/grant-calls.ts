// CLI: the "what the credential did" part of `grants show`: read the grant's calls (local engine or
// CloudTrail), place each against the revocation and tie it to the grant (lambdas/domain/credential-usage.ts),
// and print it: relative times for people, ISO times under --json, and CloudTrail's delivery lag when it matters.
import { placeCalls, recentForDelivery, RECORD_KEEPS, type PlacedCall } from '../lambdas/domain/credential-usage';
import type { Grant } from '../lambdas/domain/grant';
import { CLOCK_SKEW_MS, DEFAULT_USE_CHECK_TIMING, firstRevokedAt, usableUntil } from '../lambdas/domain/use-after-revocation';
import type { CliDeps } from './context';
import { bad, formatMs, NONE, relative, table } from './output';

/**
 * AWS: "CloudTrail typically delivers logs within an average of about 5 minutes of an API call.
 * This time is not guaranteed." (AWS CloudTrail User Guide, "Getting and viewing your CloudTrail log
 * files"); event history states no time of its own. The engine waits 15 minutes (use-after-revocation.ts).
 */
export const DELIVERY_LAG_NOTE =
  'CloudTrail delivers an event about 5 minutes after the call on average, with no guarantee (AWS CloudTrail User Guide)';

/** What `grants show` prints about the calls; under --json as it is. */
export type GrantCallsView =
  | {
      readonly source: 'local-engine' | 'cloudtrail';
      readonly region?: string;
      readonly calls: readonly PlacedCall[];
      /** CloudTrail only: the listing stopped at the cap; older calls exist. */
      readonly truncated?: boolean;
      /** CloudTrail only, while the credential was usable in the last 15 minutes: its latest calls may be missing yet. */
      readonly deliveryLag?: string;
      /** CloudTrail only, for a credential of another account (a spoke): event history is per account. */
      readonly account?: string;
    }
  | { readonly source: 'unavailable'; readonly why: string };

/** Reads and places the grant's calls: from when it was created (less clock skew) to now. */
export async function grantCalls(deps: CliDeps, grant: Grant): Promise<GrantCallsView | undefined> {
  if (!grant.credential) return undefined;
  const now = deps.clock.now();
  const progress =
    deps.callRecord === 'cloudtrail'
      ? deps.progress('reading CloudTrail event history (LookupEvents, under 2 requests a second)')
      : undefined;
  const answer = await deps.credentialCalls(grant.credential.accessKeyId, new Date(Date.parse(grant.createdAt) - CLOCK_SKEW_MS), now);
  if (answer.source === 'unavailable') {
    progress?.fail('CloudTrail could not be read');
    return answer;
  }
  progress?.succeed(`${answer.calls.length} events read`);
  const calls = placeCalls(grant, answer.calls, RECORD_KEEPS[answer.source]);
  if (answer.source === 'local-engine') return { source: answer.source, calls };
  const lagMs = DEFAULT_USE_CHECK_TIMING.deliveryLagMs;
  // Until when it could be used: revoked, as the use-after-revocation check reckons it; else its expiry.
  const expiry = grant.expiresAt === undefined ? undefined : Date.parse(grant.expiresAt);
  const until = firstRevokedAt(grant) === undefined ? expiry : usableUntil(grant, DEFAULT_USE_CHECK_TIMING);
  return {
    source: answer.source,
    region: answer.region,
    calls,
    truncated: answer.truncated,
    ...(grant.account ? { account: grant.account } : {}),
    ...(recentForDelivery(until, now, lagMs)
      ? {
          deliveryLag: `${DELIVERY_LAG_NOTE}; this credential was usable in the last ${formatMs(lagMs)}, so its latest calls may not be listed yet`,
        }
      : {}),
  };
}

const PHASE_LABEL = { 'before-revocation': 'before', 'engine-probe': 'engine probe', 'after-revocation': bad('AFTER') } as const;
const tieLabel = (call: PlacedCall) =>
  call.tie === 'source-identity'
    ? 'source identity'
    : call.tie === 'access-key'
      ? 'access key'
      : bad(`OTHER GRANT ${call.sourceIdentity ?? ''}`);

/** The calls as a table, newest last, with what to make of the record it came from. */
export function printGrantCalls(deps: CliDeps, view: GrantCallsView): void {
  deps.out('');
  if (view.source === 'unavailable') {
    deps.out(`calls made with the credential: not available (${view.why})`);
    return;
  }
  const where =
    view.source === 'local-engine'
      ? '(recorded by the local engine in its data directory)'
      : `from CloudTrail event history in ${view.region ?? 'this region'} by access key id ` +
        '(management events only: data events such as S3 object reads need a trail)';
  deps.out(
    `${view.calls.length}${view.truncated ? '+' : ''} ${view.calls.length === 1 && !view.truncated ? 'call' : 'calls'} made with the credential ${where}:`,
  );
  const now = deps.clock.now();
  const rows = view.calls.map((call) => [
    relative(call.at, now),
    call.service,
    call.operation,
    call.errorCode ? `refused ${call.errorCode}` : 'allowed',
    call.sourceIp ?? NONE,
    PHASE_LABEL[call.phase],
    tieLabel(call),
  ]);
  if (rows.length > 0)
    for (const line of table(['WHEN', 'SERVICE', 'OPERATION', 'OUTCOME', 'SOURCE IP', 'REVOCATION', 'TIED BY'], rows)) deps.out(line);
  const after = view.calls.filter((call) => call.phase === 'after-revocation').length;
  if (after > 0) deps.out(bad(`${after} calls after revocation that were not the engine's probes: possible misuse`));
  if (view.truncated) deps.out(`(the listing stops at the newest calls CloudTrail returned; --json has the same calls with ISO times)`);
  if (view.deliveryLag) deps.out(`note: ${view.deliveryLag}.`);
  if (view.account)
    deps.out(`note: the credential is from account ${view.account}; event history was read in the account of your AWS credentials`);
}
