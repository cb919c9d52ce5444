import { describe, expect, it } from 'vitest';
import { authorityFixture } from './authority-fixture';

describe("local credential authority, the kill switch's deny of an agent's older sessions", () => {
  const { clock, advance, openAuthority, issue } = authorityFixture();

  it("denies every session of the agent issued before the time at once, and no key, no later session, no other agent's", async () => {
    const authority = await openAuthority();
    const older = [await issue(authority, 'aws-sts-session', 'g-s1'), await issue(authority, 'aws-sts-session', 'g-s2')];
    const key = await issue(authority, 'aws-iam-access-key', 'g-k1');
    const otherAgents = await issue(authority, 'aws-sts-session', 'g-o1', 'agent-2');
    advance(1000);

    await authority.revokeSessionsOf('agent-1', clock.now());
    const later = await issue(authority, 'aws-sts-session', 'g-s3');

    for (const session of older)
      expect(await authority.standing(session.accessKeyId, session.sessionToken)).toMatchObject({ status: 'denied' });
    expect(authority.grantStatus('g-s1')).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId' });
    expect(await authority.revokeGrant('g-s2')).toBe('already-revoked');
    for (const alive of [key, otherAgents, later])
      expect(await authority.standing(alive.accessKeyId, alive.sessionToken)).toMatchObject({ status: 'valid' });
  });

  it('keeps the deny across a restart, and applies it to a session whose issue was in flight', async () => {
    const authority = await openAuthority();
    const issuing = issue(authority, 'aws-sts-session', 'g-in-flight');
    advance(1000);

    await authority.revokeSessionsOf('agent-1', clock.now());
    const session = await issuing;
    const restarted = await openAuthority();

    for (const judge of [authority, restarted])
      expect(await judge.standing(session.accessKeyId, session.sessionToken)).toMatchObject({ status: 'denied' });
  });

  it('lets an earlier time change nothing: a later deny already covers more', async () => {
    const authority = await openAuthority();
    const early = clock.now();
    advance(1000);
    const session = await issue(authority, 'aws-sts-session', 'g-between');
    advance(1000);
    await authority.revokeSessionsOf('agent-1', clock.now());

    await authority.revokeSessionsOf('agent-1', early);
    const restarted = await openAuthority();

    for (const judge of [authority, restarted])
      expect(await judge.standing(session.accessKeyId, session.sessionToken)).toMatchObject({ status: 'denied' });
  });
});
