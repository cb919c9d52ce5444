// CLI: the report's "granted but unused" section. Reads the calls of every credential issued in the
// period (local engine: its record; AWS: CloudTrail, only under `report --usage`, since LookupEvents
// is paced to 2 requests a second), then lets lambdas/domain/credential-usage.ts compare them with
// the scopes' expanded actions (cli/scope-actions.ts).
import {
  actionsUsed,
  permissionUsage,
  placeCalls,
  RECORD_KEEPS,
  type GrantUse,
  type PermissionUsage,
} from '../lambdas/domain/credential-usage';
import type { Grant } from '../lambdas/domain/grant';
import type { Policy } from '../lambdas/domain/policy';
import { CLOCK_SKEW_MS } from '../lambdas/domain/use-after-revocation';
import { LOOKUP_INTERVAL_MS } from './call-records';
import type { CliDeps } from './context';
import { formatMs } from './output';
import { scopeActions } from './scope-actions';

/** What the report says about permissions granted and unused; under --json as it is. */
export type UsageSection =
  | {
      readonly read: true;
      readonly source: 'local-engine' | 'cloudtrail';
      readonly usage: PermissionUsage;
      /** What the comparison cannot see, in words. */
      readonly notes: readonly string[];
    }
  | { readonly read: false; readonly why: string };

const LIMITS: Readonly<Record<'local-engine' | 'cloudtrail', string>> = {
  'local-engine':
    'calls recorded by the local engine in its data directory (credential-calls.jsonl, the newest 64-128 MiB; it survives a restart)',
  cloudtrail:
    'CloudTrail event history: management events of this region only (data events such as S3 object reads need a trail), ' +
    'the last 90 days, and calls of the last ~15 minutes may not be delivered yet',
};
const NAMING_NOTE =
  'an operation is matched to the IAM action of the same name; the few authorized by another action (s3:ListBucket for ListObjectsV2) may show unused';

async function readUse(deps: CliDeps, grant: Grant, until: Date): Promise<GrantUse> {
  const base = { grantId: grant.grantId, agentId: grant.agentId, scopes: grant.scopes };
  if (!grant.credential) return base;
  const answer = await deps.credentialCalls(grant.credential.accessKeyId, new Date(Date.parse(grant.createdAt) - CLOCK_SKEW_MS), until);
  if (answer.source === 'unavailable') return base;
  return { ...base, used: actionsUsed(placeCalls(grant, answer.calls, RECORD_KEEPS[answer.source])) };
}

/**
 * The section for the period's grants that were issued a credential. On AWS without `usage`,
 * nothing is read and the section says how to ask for it.
 */
export async function collectUsage(deps: CliDeps, grants: readonly Grant[], until: Date, usage: boolean): Promise<UsageSection> {
  const issued = grants.filter((grant) => grant.credential !== undefined);
  if (deps.callRecord === 'cloudtrail' && !usage) {
    return { read: false, why: 'pass --usage to read each credential’s calls from CloudTrail (paced: under 2 lookups a second)' };
  }
  let policy: Policy;
  try {
    policy = await deps.policy();
  } catch (error) {
    return {
      read: false,
      why: `the policy file could not be read (${error instanceof Error ? error.message : String(error)}); pass --policy FILE`,
    };
  }
  const expanded = await scopeActions(policy);
  const progress = deps.progress(
    deps.callRecord === 'cloudtrail'
      ? `reading CloudTrail for ${issued.length} credentials (at least ${formatMs(issued.length * LOOKUP_INTERVAL_MS)}: LookupEvents allows 2 a second)`
      : `reading the calls of ${issued.length} credentials`,
  );
  const uses: GrantUse[] = [];
  // One credential at a time: CloudTrail's limit is per account and region, so parallel reads only queue.
  for (const [index, grant] of issued.entries()) {
    uses.push(await readUse(deps, grant, until));
    progress.update(`calls of ${index + 1}/${issued.length} credentials read`);
  }
  const result = permissionUsage(uses, expanded.actions);
  if (result.grantsUnread > 0) progress.fail(`${result.grantsUnread} of ${issued.length} credentials' calls could not be read`);
  else progress.succeed(`calls of ${issued.length} credentials read`);
  return { read: true, source: deps.callRecord, usage: result, notes: [LIMITS[deps.callRecord], NAMING_NOTE, ...expanded.notes] };
}
