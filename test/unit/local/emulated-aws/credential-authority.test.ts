import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { authorityFixture, HOUR_MS } from './authority-fixture';

describe('local credential authority, once credentials are dead for good', () => {
  const { advance, openAuthority, issue } = authorityFixture();

  it('still refuses a revoked, expired session after pruning it, and tells its own token from a forged one', async () => {
    const authority = await openAuthority();
    const session = await issue(authority, 'aws-sts-session', 'g-session');
    await authority.revokeGrant('g-session');
    advance(2 * HOUR_MS);
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
    advance(5_000);
    await issue(authority, 'aws-sts-session', 'g-next');

    expect(authority.standing(session.accessKeyId, session.sessionToken)).toEqual({
      status: 'denied',
      credential: { principalArn: session.principalArn, secretAccessKey: session.secretAccessKey },
    });
    expect(authority.standing(session.accessKeyId, 'forged')).toEqual({ status: 'rejected', code: 'InvalidClientTokenId' });
    advance(HOUR_MS);
    expect(authority.standing(session.accessKeyId, session.sessionToken)).toEqual({ status: 'rejected', code: 'ExpiredToken' });
  });

  it('refuses a revoked access key after pruning it, and after a restart that loads it only as a tombstone', async () => {
    const authority = await openAuthority();
    const key = await issue(authority, 'aws-iam-access-key', 'g-key');
    const live = await issue(authority, 'aws-iam-access-key', 'g-live');
    await authority.revokeGrant('g-key');
    advance(5_000);
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

describe('local credential authority, while a revocation is being written', () => {
  const { openAuthority, issue } = authorityFixture();

  it('refuses the credential from the moment the revocation is asked for, before its write lands', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const authority = await openAuthority(async (command, next) => {
      if (command instanceof UpdateCommand) await held;
      return next(command);
    });
    const key = await issue(authority, 'aws-iam-access-key', 'g-key');

    const revoking = authority.revokeGrant('g-key');
    await new Promise((resolve) => setTimeout(resolve, 10));

    expect(authority.authenticate(key.accessKeyId, undefined)).toEqual({ status: 'rejected', code: 'InvalidClientTokenId' });
    release();
    expect(await revoking).toBe('revoked');
    expect((await openAuthority()).standing(key.accessKeyId, undefined)).toEqual({ status: 'rejected', code: 'InvalidClientTokenId' });
  });

  it('keeps refusing when the write fails, reports the failure, and writes it when the engine revokes again', async () => {
    let failures = 1;
    const authority = await openAuthority(async (command, next) => {
      if (command instanceof UpdateCommand && failures-- > 0)
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      return next(command);
    });
    const session = await issue(authority, 'aws-sts-session', 'g-session');

    await expect(authority.revokeGrant('g-session')).rejects.toThrow('Rate exceeded');
    expect(authority.standing(session.accessKeyId, session.sessionToken)).toMatchObject({ status: 'denied' });
    // Not written: a restart would accept it again, so the revocation is not done until it is.
    expect((await openAuthority()).standing(session.accessKeyId, session.sessionToken)).toMatchObject({ status: 'valid' });

    expect(await authority.revokeGrant('g-session')).toBe('revoked');
    expect((await openAuthority()).standing(session.accessKeyId, session.sessionToken)).toMatchObject({ status: 'denied' });
  });
});
