import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { COLD_AFTER_MS } from '../../../../lambdas/local/emulated-aws/credential-authority';
import { KEPT_COLD_ANSWERS } from '../../../../lambdas/local/emulated-aws/credential-cold-reads';
import { authorityFixture, HOUR_MS } from './authority-fixture';

describe('local credential authority, once credentials are dead for good', () => {
  const { advance, openAuthority, issue } = authorityFixture();

  it('still refuses a revoked, expired session after pruning it, and tells its own token from a forged one', async () => {
    const authority = await openAuthority();
    const session = await issue(authority, 'aws-sts-session', 'g-session');
    await authority.revokeGrant('g-session');
    advance(2 * HOUR_MS);
    await issue(authority, 'aws-sts-session', 'g-next'); // an issue prunes what died

    expect(await authority.issued(session.accessKeyId)).toBe(true);
    expect(await authority.standing(session.accessKeyId, session.sessionToken)).toEqual({ status: 'rejected', code: 'ExpiredToken' });
    expect(await authority.standing(session.accessKeyId, 'forged')).toEqual({ status: 'rejected', code: 'InvalidClientTokenId' });
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

    expect(await authority.standing(session.accessKeyId, session.sessionToken)).toEqual({
      status: 'denied',
      credential: { principalArn: session.principalArn, secretAccessKey: session.secretAccessKey },
    });
    expect(await authority.standing(session.accessKeyId, 'forged')).toEqual({ status: 'rejected', code: 'InvalidClientTokenId' });
    advance(HOUR_MS);
    expect(await authority.standing(session.accessKeyId, session.sessionToken)).toEqual({ status: 'rejected', code: 'ExpiredToken' });
  });

  it('refuses a revoked access key a moment after its revocation, and after a restart', async () => {
    const authority = await openAuthority();
    const key = await issue(authority, 'aws-iam-access-key', 'g-key');
    const live = await issue(authority, 'aws-iam-access-key', 'g-live');
    await authority.revokeGrant('g-key');
    advance(5_000);
    await issue(authority, 'aws-sts-session', 'g-next');
    const restarted = await openAuthority();

    for (const judge of [authority, restarted]) {
      expect(await judge.issued(key.accessKeyId)).toBe(true);
      expect(await judge.standing(key.accessKeyId, undefined)).toEqual({ status: 'rejected', code: 'InvalidClientTokenId' });
      expect(await judge.standing(live.accessKeyId, undefined)).toMatchObject({ status: 'valid' });
      expect([...judge.usable('aws-iam-access-key')].map(({ grantId }) => grantId)).toEqual(['g-live']);
    }
    expect(await restarted.standing('AKIANEVERISSUED00000', undefined)).toEqual({ status: 'unknown' });
  });
});

describe('local credential authority, while a revocation is being written', () => {
  const { openAuthority, issue } = authorityFixture();

  it('refuses the credential from the moment the revocation is asked for, before its write lands', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const authority = await openAuthority(async (command, next) => {
      if (command instanceof UpdateItemCommand) await held;
      return next(command);
    });
    const key = await issue(authority, 'aws-iam-access-key', 'g-key');

    const revoking = authority.revokeGrant('g-key');
    await new Promise((resolve) => setTimeout(resolve, 10));

    expect(authority.authenticate(key.accessKeyId, undefined)).toEqual({ status: 'rejected', code: 'InvalidClientTokenId' });
    release();
    expect(await revoking).toBe('revoked');
    expect(await (await openAuthority()).standing(key.accessKeyId, undefined)).toEqual({
      status: 'rejected',
      code: 'InvalidClientTokenId',
    });
  });

  it('keeps refusing when the write fails, reports the failure, and writes it when the engine revokes again', async () => {
    let failures = 1;
    const authority = await openAuthority(async (command, next) => {
      if (command instanceof UpdateItemCommand && failures-- > 0)
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      return next(command);
    });
    const session = await issue(authority, 'aws-sts-session', 'g-session');

    await expect(authority.revokeGrant('g-session')).rejects.toThrow('Rate exceeded');
    expect(await authority.standing(session.accessKeyId, session.sessionToken)).toMatchObject({ status: 'denied' });
    // Not written: a restart would accept it again, so the revocation is not done until it is.
    expect(await (await openAuthority()).standing(session.accessKeyId, session.sessionToken)).toMatchObject({ status: 'valid' });

    expect(await authority.revokeGrant('g-session')).toBe('revoked');
    expect(await (await openAuthority()).standing(session.accessKeyId, session.sessionToken)).toMatchObject({ status: 'denied' });
  });
});

describe('local credential authority, memory bounded by the live credentials', () => {
  const { advance, openAuthority, issue } = authorityFixture();
  const LIFECYCLES = 300;

  it('lets credentials dead for a while leave memory, however many lifecycles ran', async () => {
    const authority = await openAuthority();
    for (let lifecycle = 0; lifecycle < LIFECYCLES; lifecycle++) {
      const kind = lifecycle % 2 === 0 ? 'aws-sts-session' : 'aws-iam-access-key';
      await issue(authority, kind, `g-${lifecycle}`);
      await authority.revokeGrant(`g-${lifecycle}`);
      advance(1_000);
    }
    const live = await issue(authority, 'aws-iam-access-key', 'g-live');

    // Dead for less than COLD_AFTER_MS (one lifecycle a second): the recent revocations, and the live key.
    expect(authority.credentialsInMemory).toBeLessThanOrEqual(COLD_AFTER_MS / 1_000 + 2);
    expect(await authority.standing(live.accessKeyId, undefined)).toMatchObject({ status: 'valid' });
  });

  it('answers a credential that left memory from the store: a dead key is revoked, a revoked session denied until it expires', async () => {
    const reads: string[] = [];
    const authority = await openAuthority(async (command, next) => {
      if (command instanceof GetItemCommand) reads.push(String(command.input.Key?.accessKeyId?.S));
      return next(command);
    });
    const key = await issue(authority, 'aws-iam-access-key', 'g-key');
    const session = await issue(authority, 'aws-sts-session', 'g-session');
    await authority.revokeGrant('g-key');
    await authority.revokeGrant('g-session');
    advance(COLD_AFTER_MS + 1_000);
    await issue(authority, 'aws-sts-session', 'g-next'); // an issue lets the dead leave memory

    expect(authority.credentialsInMemory).toBe(1);
    expect(await authority.standing(key.accessKeyId, undefined)).toEqual({ status: 'rejected', code: 'InvalidClientTokenId' });
    expect(await authority.standing(session.accessKeyId, session.sessionToken)).toEqual({
      status: 'denied',
      credential: { principalArn: session.principalArn, secretAccessKey: session.secretAccessKey },
    });
    expect(await authority.standing(session.accessKeyId, 'forged')).toEqual({ status: 'rejected', code: 'InvalidClientTokenId' });
    expect(await authority.issued(key.accessKeyId)).toBe(true);
    // One read each: the answer is kept, as a revocation in force never changes.
    expect(reads).toEqual([key.accessKeyId, session.accessKeyId]);
    expect(authority.authenticate(key.accessKeyId, undefined)).toEqual({ status: 'rejected', code: 'InvalidClientTokenId' });
    expect(authority.grantStatus('g-key')).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId' });
    expect(await authority.revokeGrant('g-key')).toBe('already-revoked');

    advance(HOUR_MS);
    expect(await authority.standing(session.accessKeyId, session.sessionToken)).toEqual({ status: 'rejected', code: 'ExpiredToken' });
    const restarted = await openAuthority();
    expect(restarted.credentialsInMemory).toBe(1);
    expect(await restarted.standing(key.accessKeyId, undefined)).toEqual({ status: 'rejected', code: 'InvalidClientTokenId' });
  });

  it('never reads the store for a key of another shape, and keeps a bounded number of answers for keys it never issued', async () => {
    let reads = 0;
    const authority = await openAuthority(async (command, next) => {
      if (command instanceof GetItemCommand) reads++;
      return next(command);
    });

    expect(await authority.standing('AKIALOCALENGINE00000', undefined)).toEqual({ status: 'unknown' });
    expect(authority.issued('AKIALOCALENGINE00000')).toBe(false);
    expect(reads).toBe(0);
    for (let n = 0; n < 2 * KEPT_COLD_ANSWERS; n++) {
      const made = `AKIA${String(n)
        .padStart(16, 'A')
        .replace(/[0-9]/g, (digit) => 'BCDEFGHIJK'[Number(digit)]!)}`;
      expect(await authority.standing(made, undefined)).toEqual({ status: 'unknown' });
    }
    expect(reads).toBe(2 * KEPT_COLD_ANSWERS);
    expect(authority.credentialsInMemory).toBe(KEPT_COLD_ANSWERS);
  });

  it('keeps in memory a credential whose revocation was asked for but not written, however long ago', async () => {
    let failing = true;
    const authority = await openAuthority(async (command, next) => {
      if (command instanceof UpdateItemCommand && failing) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      return next(command);
    });
    const key = await issue(authority, 'aws-iam-access-key', 'g-key');
    await expect(authority.revokeGrant('g-key')).rejects.toThrow('Rate exceeded');
    advance(COLD_AFTER_MS * 2);
    await issue(authority, 'aws-sts-session', 'g-next');

    // The store still has it live: were it let go, a read from there would accept it.
    expect(await authority.standing(key.accessKeyId, undefined)).toEqual({ status: 'rejected', code: 'InvalidClientTokenId' });
    failing = false;
    expect(await authority.revokeGrant('g-key')).toBe('revoked');
  });
});
