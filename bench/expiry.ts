// Bench: expiry lateness. Grants issued with the minimum TTL (60 s) are probed once just before
// their expiry (alive?), then from the expiry on every 10 ms until STS refuses them; lateness =
// that refusal − the expiry time. The engine's own record (the `revoked` audit entry) gives the
// same lateness without the probes' resolution, for the credentials the engine revokes.
import type { STSClient } from '@aws-sdk/client-sts';
import { ACCESS_KEY_SCOPE, SESSION_SCOPE, type BenchDriver, type IssuedDelivery } from './driver';
import { grantsOf } from './lifecycle-spans';
import { realSleep as sleep } from '../lambdas/adapters/sleep';

export const MIN_TTL_SECONDS = 60;
/** The alive-probe comes this long before the expiry. */
const LEAD_MS = 100;

export interface ExpiringCredential {
  readonly kind: string;
  readonly delivery: IssuedDelivery;
  readonly sts: STSClient;
}

export interface ExpiryRun {
  readonly grants: number;
  /** ms from expiry to the first refused GetCallerIdentity, all grants. */
  readonly latenessMs: readonly number[];
  /** The same by credential kind: sessions are refused by STS's own clock; access keys only once the engine revokes them. */
  readonly byKind: Readonly<Record<string, readonly number[]>>;
  readonly rejectionCodes: Readonly<Record<string, number>>;
  /** Credentials whose first probe, before expiry, was accepted (all should be). */
  readonly aliveBeforeExpiry: number;
  /** By the engine's record, by kind: its `revoked` audit time − the expiry (revocationLatenessOf). */
  readonly engineRevokedMs?: Readonly<Record<string, readonly number[]>>;
  /** How many of the expiring grants were started a second (EXPIRING_STARTS_PER_SECOND). */
  readonly startedPerSecond?: number;
}

/** The task ids of a run of expiring grants start with this, then the run's id. */
export const EXPIRY_TASK_PREFIX = 'expiry-';

/**
 * Expiring grants are started at most this many a second by default. Locally the engine itself
 * answers the lateness probes (on AWS, STS does): 200 credentials expiring within 3 s, each probed
 * every 10 ms, ask the engine being measured for up to 20,000 calls a second, about ten times its
 * ceiling, and the probes' own load made it revoke 1-2.4 s late (session 9, engine's own record).
 * Paced, about 20 expire in any second.
 */
export const EXPIRING_STARTS_PER_SECOND = 20;

/**
 * Issues `count` grants of TTL 60 s, half sessions and half access keys, `concurrency` at a time and
 * at most `perSecond` started a second (0: as fast as they issue).
 */
export async function issueExpiringGrants(
  driver: BenchDriver,
  count: number,
  { concurrency = 20, perSecond = EXPIRING_STARTS_PER_SECOND }: { readonly concurrency?: number; readonly perSecond?: number } = {},
): Promise<ExpiringCredential[]> {
  const issued: ExpiringCredential[] = [];
  const run = Date.now().toString(36);
  const startedAt = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      if (perSecond > 0) await sleep(Math.max(0, startedAt + (index * 1000) / perSecond - Date.now()));
      const taskId = `${EXPIRY_TASK_PREFIX}${run}-${index}`;
      await driver.startTask(taskId, index % 2 === 0 ? SESSION_SCOPE : ACCESS_KEY_SCOPE, MIN_TTL_SECONDS);
      const { delivery } = await driver.waitForIssued(taskId);
      issued.push({ kind: delivery.kind, delivery, sts: driver.clientFor(delivery) });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return issued;
}

/**
 * Waits for every expiry and measures how late each credential stopped working. `probeLead`:
 * probe every 10 ms from the alive-probe on, as the bench did before (for before/after runs).
 */
export async function measureExpiryLateness(
  driver: BenchDriver,
  credentials: readonly ExpiringCredential[],
  probeLead = false,
): Promise<ExpiryRun> {
  const results = await Promise.all(
    credentials.map(async (credential) => {
      await sleep(Math.max(0, credential.delivery.expiresAtMs - LEAD_MS - Date.now()));
      const alive = (await driver.probe(credential.sts)).ok;
      // No probes in between: 10 probes a credential in its last 100 ms only load the engine being measured.
      if (alive && !probeLead) await sleep(Math.max(0, credential.delivery.expiresAtMs - Date.now()));
      // Refused already: the alive-probe itself answered late (a loaded machine) or the credential died early; said apart.
      const rejected = alive
        ? await driver.waitUntilRejected(credential.sts)
        : { code: Date.now() < credential.delivery.expiresAtMs ? 'refused-before-expiry' : 'refused-at-alive-probe', atMs: Date.now() };
      return { kind: credential.kind, alive, code: rejected.code, latenessMs: rejected.atMs - credential.delivery.expiresAtMs };
    }),
  );
  const byKind: Record<string, number[]> = {};
  const rejectionCodes: Record<string, number> = {};
  for (const result of results) {
    (byKind[result.kind] ??= []).push(result.latenessMs);
    rejectionCodes[result.code] = (rejectionCodes[result.code] ?? 0) + 1;
  }
  return {
    grants: results.length,
    latenessMs: results.map((result) => result.latenessMs),
    byKind,
    rejectionCodes,
    aliveBeforeExpiry: results.filter((result) => result.alive).length,
  };
}

/**
 * By the engine's own record: each grant's `revoked` audit time − its expiry, by credential kind
 * (a session's expiry revokes it too, though STS already refuses it by its own clock).
 */
export async function revocationLatenessOf(engineUrl: string): Promise<Record<string, number[]>> {
  const byKind: Record<string, number[]> = {};
  for (const grant of (await grantsOf(engineUrl, EXPIRY_TASK_PREFIX)).values()) {
    const revoked = grant.audit.find((entry) => entry.action === 'revoked');
    if (!revoked || !grant.expiresAt || grant.revocation?.trigger !== 'expired') continue;
    (byKind[grant.credentialKind ?? 'unknown'] ??= []).push(Date.parse(revoked.at) - Date.parse(grant.expiresAt));
  }
  return byKind;
}
