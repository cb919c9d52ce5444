// CLI command: `revoke ID --reason R` → `Grant Revocation Requested` (trigger `manual`), then
// waits until the engine has revoked the credential and proven it dead, and prints that.
import type { Grant } from '../../lambdas/domain/grant';
import { FINAL_STATES } from '../../lambdas/domain/grant';
import { INBOUND, manualRevokeSchema } from '../../lambdas/domain/events';
import { awaitEngine, followUp, waitSeconds } from '../await-engine';
import { EXIT, type CliDeps, type ExitCode } from '../context';
import { formatMs, json } from '../output';
import { actor, dispatch } from '../send';
import { validated } from '../validate';
import { checkedGrantId } from './grants';

export interface RevokeOptions {
  readonly reason: string;
  readonly as?: string;
  readonly wait?: string;
  readonly json?: boolean;
}

/** The grant's story is over: its credential proven dead, or the grant refused or failed. */
export const isSettled = (grant: Grant) => FINAL_STATES.includes(grant.state);

/** What became of the credential, without naming the grant (for tables that already do). */
export function outcomeOf(grant: Grant): string {
  if (grant.state === 'verified') {
    const notice = grant.revocation?.noticeAt;
    const took = notice && grant.verifiedAt ? ` ${formatMs(Date.parse(grant.verifiedAt) - Date.parse(notice))} after notice` : '';
    return `revoked and verified dead${took} (${grant.revocation?.trigger ?? 'revoked'})`;
  }
  if (grant.state === 'denied') {
    // A revocation that met a grant still waiting already says so in its reason ("suspended before a credential was issued: …").
    const reason = grant.reason ?? '';
    return (
      reason.includes('before a credential was issued') ? `denied: ${reason}` : `denied before any credential was issued: ${reason}`
    ).trimEnd();
  }
  if (grant.state === 'failed') return `failed: ${grant.reason ?? 'see grants show'}`;
  return `is ${grant.state}`;
}

/** What became of the credential, in one line. */
export const revocationOutcome = (grant: Grant) => `${grant.grantId} ${outcomeOf(grant)}`;

/** Asks the engine to revoke one grant's credential now and waits for the outcome. */
export async function revoke(deps: CliDeps, grantId: string, options: RevokeOptions): Promise<ExitCode> {
  const seconds = waitSeconds(options.wait);
  const detail = validated(
    manualRevokeSchema,
    { grantId: checkedGrantId(grantId), by: await actor(deps, options.as), reason: options.reason },
    'revocation',
    { by: '--as', reason: '--reason' },
  );
  const before = await deps.store.get(grantId);
  if (!before) {
    deps.err(`taskbound: no grant ${grantId}; \`taskbound grants list\` shows the grants there are`);
    return EXIT.failure;
  }
  if (isSettled(before)) {
    const already = `nothing to revoke: ${revocationOutcome(before)}`;
    deps.out(options.json ? json({ grantId, sent: false, state: before.state, outcome: already, grant: before }) : already);
    return EXIT.ok;
  }
  const eventId = await dispatch(deps, { detailType: INBOUND.revokeRequested, detail });
  if (eventId === undefined) return EXIT.failure;
  if (seconds === 0) {
    deps.out(
      options.json ? json({ grantId, sent: true, eventId, waited: false }) : `revocation of ${grantId} requested (event ${eventId})`,
    );
    return EXIT.ok;
  }
  return awaitRevocation(deps, grantId, eventId, seconds, options.json);
}

/**
 * Waits until the engine has settled `grantId` (its credential revoked and proven dead, or the grant
 * refused or failed) and prints that; a wait that runs out says how to follow it (exit 1).
 */
export async function awaitRevocation(
  deps: CliDeps,
  grantId: string,
  eventId: string,
  seconds: number,
  asJson: boolean | undefined,
): Promise<ExitCode> {
  const waited = await awaitEngine(
    deps,
    `revoking ${grantId}`,
    seconds,
    async () => {
      const grant = await deps.store.get(grantId);
      return { done: grant !== undefined && isSettled(grant), value: grant };
    },
    (grant) => (grant ? `${grantId}: ${grant.state}` : `revoking ${grantId}`),
  );
  const grant = waited.done ? waited.value : waited.last;
  if (asJson) deps.out(json({ grantId, sent: true, eventId, waited: true, settled: waited.done, state: grant?.state, grant }));
  if (!waited.done) {
    deps.err(
      `taskbound: ${grantId} is still ${grant?.state ?? 'unknown'} after ${seconds}s; the engine keeps working on it (the sweep retries).`,
    );
    deps.err(followUp(grantId));
    return EXIT.failure;
  }
  if (!asJson) deps.out(revocationOutcome(waited.value));
  return waited.value.state === 'failed' ? EXIT.failure : EXIT.ok;
}
