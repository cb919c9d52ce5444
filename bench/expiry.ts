// Bench: expiry lateness. Grants issued with the minimum TTL (60 s) are probed from just
// before their expiry until STS refuses them; lateness = that refusal − the expiry time.
import type { STSClient } from '@aws-sdk/client-sts';
import { FINAL_STATES } from '../lambdas/domain/grant';
import type { LocalEngine } from '../lambdas/local/engine';
import { ACCESS_KEY_SCOPE, SESSION_SCOPE, type BenchDriver, type IssuedDelivery } from './driver';
import { realSleep as sleep } from '../lambdas/adapters/sleep';

export const MIN_TTL_SECONDS = 60;
/** Probing starts this long before the expiry, so the first probe shows the credential still alive. */
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
}


/** Issues `count` grants of TTL 60 s, half sessions and half access keys, `concurrency` at a time. */
export async function issueExpiringGrants(driver: BenchDriver, count: number, concurrency = 20): Promise<ExpiringCredential[]> {
  const issued: ExpiringCredential[] = [];
  const run = Date.now().toString(36);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const taskId = `expiry-${run}-${index}`;
      await driver.startTask(taskId, index % 2 === 0 ? SESSION_SCOPE : ACCESS_KEY_SCOPE, MIN_TTL_SECONDS);
      const { delivery } = await driver.waitForIssued(taskId);
      issued.push({ kind: delivery.kind, delivery, sts: driver.clientFor(delivery) });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return issued;
}

/** Waits for every expiry and measures how late each credential stopped working. */
export async function measureExpiryLateness(driver: BenchDriver, credentials: readonly ExpiringCredential[]): Promise<ExpiryRun> {
  const results = await Promise.all(
    credentials.map(async (credential) => {
      await sleep(Math.max(0, credential.delivery.expiresAtMs - LEAD_MS - Date.now()));
      const alive = (await driver.probe(credential.sts)).ok;
      const rejected = alive ? await driver.waitUntilRejected(credential.sts) : { code: 'refused-before-expiry', atMs: Date.now() };
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

/** Waits (up to `timeoutMs`) until the engine has finished with every grant, so stopping it interrupts nothing. */
export async function awaitSettled(engine: LocalEngine, credentials: readonly ExpiringCredential[], timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let unsettled = credentials.map((credential) => credential.delivery.grantId);
  while (unsettled.length > 0 && Date.now() < deadline) {
    const grants = await Promise.all(unsettled.map((grantId) => engine.deps.store.get(grantId)));
    unsettled = unsettled.filter((_, index) => {
      const state = grants[index]?.state;
      return state === undefined || !FINAL_STATES.includes(state);
    });
    if (unsettled.length > 0) await sleep(250);
  }
}
