import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalCredentialAuthority } from '../../../../lambdas/local/emulated-aws/credential-authority';
import type { CredentialKind } from '../../../../lambdas/domain/policy';
import { startStateStore, type StateStore } from './state-store';

const HOUR_MS = 3_600_000;

describe('local credential authority, once credentials are dead for good', () => {
  let state: StateStore;
  let nowMs: number;
  const clock = { now: () => new Date(nowMs) };

  async function openAuthority(): Promise<LocalCredentialAuthority> {
    const authority = new LocalCredentialAuthority({ ...state.table('credentials'), clock });
    await authority.start();
    return authority;
  }

  function issue(authority: LocalCredentialAuthority, kind: CredentialKind, grantId: string) {
    return authority.issue({
      grantId,
      taskId: `task-${grantId}`,
      agentId: 'agent-1',
      kind,
      statements: [],
      brokeredSecretArns: [],
      ttlSeconds: 3600,
      expiresAt: new Date(nowMs + HOUR_MS),
    });
  }

  beforeEach(async () => {
    state = await startStateStore();
    nowMs = Date.parse('2026-11-30T06:00:00Z');
  });
  afterEach(() => state.close());

  it('still refuses a revoked, expired session after pruning it, and tells its own token from a forged one', async () => {
    const authority = await openAuthority();
    const session = await issue(authority, 'aws-sts-session', 'g-session');
    await authority.revokeGrant('g-session');
    nowMs += 2 * HOUR_MS;
    await issue(authority, 'aws-sts-session', 'g-next'); // an issue prunes what died

    expect(authority.issued(session.accessKeyId)).toBe(true);
    expect(authority.standing(session.accessKeyId, session.sessionToken)).toEqual({ status: 'rejected', code: 'ExpiredToken' });
    expect(authority.standing(session.accessKeyId, 'forged')).toEqual({ status: 'rejected', code: 'InvalidClientTokenId' });
    expect(authority.authenticate(session.accessKeyId, session.sessionToken)).toEqual({ status: 'rejected', code: 'InvalidClientTokenId' });
    expect(authority.grantStatus('g-session')).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId' });
    expect(await authority.revokeGrant('g-session')).toBe('already-revoked');
  });

  it('keeps denying a revoked session that has not expired yet (its principal is still needed)', async () => {
    const authority = await openAuthority();
    const session = await issue(authority, 'aws-sts-session', 'g-denied');
    await authority.revokeGrant('g-denied');
    nowMs += 5_000;
    await issue(authority, 'aws-sts-session', 'g-next');

    expect(authority.standing(session.accessKeyId, session.sessionToken)).toEqual({
      status: 'denied',
      credential: { principalArn: session.principalArn, secretAccessKey: session.secretAccessKey },
    });
    expect(authority.standing(session.accessKeyId, 'forged')).toEqual({ status: 'rejected', code: 'InvalidClientTokenId' });
    nowMs += HOUR_MS;
    expect(authority.standing(session.accessKeyId, session.sessionToken)).toEqual({ status: 'rejected', code: 'ExpiredToken' });
  });

  it('refuses a revoked access key after pruning it, and after a restart that loads it only as a tombstone', async () => {
    const authority = await openAuthority();
    const key = await issue(authority, 'aws-iam-access-key', 'g-key');
    const live = await issue(authority, 'aws-iam-access-key', 'g-live');
    await authority.revokeGrant('g-key');
    nowMs += 5_000;
    await issue(authority, 'aws-sts-session', 'g-next');
    const restarted = await openAuthority();

    for (const judge of [authority, restarted]) {
      expect(judge.issued(key.accessKeyId)).toBe(true);
      expect(judge.standing(key.accessKeyId, undefined)).toEqual({ status: 'rejected', code: 'InvalidClientTokenId' });
      expect(judge.standing(live.accessKeyId, undefined)).toMatchObject({ status: 'valid' });
      expect([...judge.usable('aws-iam-access-key')].map(({ grantId }) => grantId)).toEqual(['g-live']);
    }
    expect(restarted.standing('AKIANEVERISSUED00000', undefined)).toEqual({ status: 'unknown' });
  });
});
