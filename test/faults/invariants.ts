// Fault test: what must hold once the world has settled, whatever the schedule and its faults.
import { FINAL_STATES, verifyGrantAudit } from '../../lambdas/domain/grant';
import { dueAtOf } from '../../lambdas/domain/due';
import type { Grant } from '../../lambdas/domain/grant';
import type { PlatformCredential } from './platform';
import { FAULT_TIMING, REDELIVERY_MS, SWEEP_INTERVAL_MS, type World } from './world';

/** How late past its deadline a credential may die: a sweep interval and a retry, once more for each fault. */
export function latenessBound(world: World, credential: PlatformCredential): number {
  const { keyLagMs, invisibleMs } = world.platform.consistency;
  const round = SWEEP_INTERVAL_MS + FAULT_TIMING.retryAfterMs + REDELIVERY_MS;
  return round + keyLagMs + invisibleMs + world.gate.injected.length * round + (world.platform.outageMs[credential.kind] ?? 0);
}

/** The moment the credential had to be dead: its expiry, or the first notice that it must die. */
export function deadlineOf(world: World, credential: PlatformCredential): number {
  let deadline = credential.expiresAt;
  for (const notice of world.notices)
    if (notice.grantId === credential.grantId) deadline = Math.min(deadline, Math.max(notice.at, credential.createdAt));
  for (const period of world.suspensions) {
    if (period.agentId !== credential.agentId) continue;
    if (credential.createdAt < (period.to ?? Number.POSITIVE_INFINITY) && credential.expiresAt > period.from) {
      deadline = Math.min(deadline, Math.max(period.from, credential.createdAt));
    }
  }
  return deadline;
}

export interface Settled {
  readonly grants: readonly Grant[];
  readonly rejectedExcerpts: readonly string[];
}

/** Every invariant of the fault test; returns the broken ones, in words. */
export function brokenInvariants(world: World, settled: Settled): string[] {
  const broken = [...world.violations];
  const grants = new Map(settled.grants.map((grant) => [grant.grantId, grant]));
  for (const credential of world.platform.credentials) {
    const name = `${credential.kind} ${credential.accessKeyId} of ${credential.grantId}`;
    if (world.platform.works(credential)) broken.push(`${name} still works after the world settled`);
    const grant = grants.get(credential.grantId);
    if (!grant) broken.push(`${name} exists but no grant records it`);
    else if (!FINAL_STATES.includes(grant.state)) broken.push(`${name}: its grant is still ${grant.state}`);
    const lateness = world.platform.deadAt(credential) - deadlineOf(world, credential);
    if (lateness > latenessBound(world, credential))
      broken.push(`${name} outlived its deadline by ${lateness} ms (bound ${latenessBound(world, credential)} ms)`);
  }
  for (const grant of settled.grants) {
    if (!FINAL_STATES.includes(grant.state))
      broken.push(`grant ${grant.grantId} is still ${grant.state} (due ${dueAtOf(grant, FAULT_TIMING) ?? 'never'})`);
    const chain = verifyGrantAudit(grant);
    if (!chain.ok) broken.push(`audit chain of ${grant.grantId} broken: ${chain.why}`);
  }
  for (const [name, delivery] of world.vaultItems) {
    if (delivery.payload.status === 'issued') broken.push(`delivery ${name} still holds a credential`);
  }
  // A delivery prepared for an issue that never completed: its grant, settled, must have deleted it or written a denial into it.
  for (const [name, address] of world.emptyVaultItems) {
    const grant = grants.get(address.grantId);
    if (!grant || FINAL_STATES.includes(grant.state))
      broken.push(`empty delivery ${name} left behind by a ${grant?.state ?? 'missing'} grant`);
  }
  broken.push(...unexcusedStillValid(world));
  if (world.undeliveredAlerts > 0) broken.push(`${world.undeliveredAlerts} alerts never reached Slack`);
  if (world.pendingDeliveries > 0) broken.push(`${world.pendingDeliveries} deliveries never ran`);
  broken.push(...leakedSecrets(world, settled));
  return broken;
}

/**
 * `Credential Still Valid` only where IAM's lag excuses it: a deleted access key that keeps working
 * for `keyLagMs` after its deletion. A session dies when its deny lands, so one said still valid was
 * never revoked (e.g. a kill switch that counted it dead without revoking it), and so was a key
 * said still valid before its deletion or after the lag.
 */
export function unexcusedStillValid(world: World): string[] {
  const broken: string[] = [];
  for (const event of world.published) {
    if (event.detailType !== 'Credential Still Valid') continue;
    const credential = world.platform.credentials.find((candidate) => candidate.accessKeyId === event.detail.credentialId);
    const at = Date.parse(event.detail.at);
    const revokedAt = credential?.revokedAt;
    const excused =
      credential?.kind === 'aws-iam-access-key' &&
      revokedAt !== undefined &&
      revokedAt <= at &&
      at < revokedAt + world.platform.consistency.keyLagMs;
    if (!excused)
      broken.push(
        `Credential Still Valid for ${String(event.detail.credentialId)} of ${event.detail.grantId}, which no IAM lag excuses: it was never revoked`,
      );
  }
  return broken;
}

/** No secret (access key secret, session token) in any event, log line, alert, grant record or refused event. */
export function leakedSecrets(world: World, settled: Settled): string[] {
  const places: [string, string][] = [
    ['events', JSON.stringify(world.published)],
    ['logs', world.logs.join('\n')],
    ['alerts', JSON.stringify(world.alerts)],
    ['grant records', JSON.stringify(settled.grants)],
    ['refused events', settled.rejectedExcerpts.join('\n')],
  ];
  const found: string[] = [];
  for (const credential of world.platform.credentials) {
    for (const secret of [credential.secretAccessKey, credential.sessionToken]) {
      if (!secret) continue;
      for (const [where, text] of places) if (text.includes(secret)) found.push(`a secret of ${credential.grantId} appears in ${where}`);
    }
  }
  return found;
}

/** While an outage lasts, a credential still alive must be surfaced (`Revocation Failed`) and still due. */
export function unsurfacedDuringOutage(world: World, grants: readonly Grant[]): string[] {
  const broken: string[] = [];
  const byId = new Map(grants.map((grant) => [grant.grantId, grant]));
  for (const credential of world.platform.credentials.filter((candidate) => world.platform.works(candidate))) {
    // Only those whose deadline passed more than a sweep round ago: the engine has had its chance.
    if (deadlineOf(world, credential) + SWEEP_INTERVAL_MS + REDELIVERY_MS > world.now) continue;
    const grant = byId.get(credential.grantId);
    const surfaced = world.published.some(
      (event) => event.detailType === 'Revocation Failed' && event.detail.grantId === credential.grantId,
    );
    if (!surfaced)
      broken.push(`${credential.accessKeyId} of ${credential.grantId} is alive past its deadline and no Revocation Failed says so`);
    if (!grant || dueAtOf(grant, FAULT_TIMING) === undefined)
      broken.push(`${credential.accessKeyId} of ${credential.grantId} is alive and its grant is not due for retry`);
  }
  return broken;
}
