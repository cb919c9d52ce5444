import { describe, expect, it } from 'vitest';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { activeGrant, CALLER, harness, revokedGrant } from './cli-harness';

const GRANT = grantIdFor('release-bot', 't-1');
const KEY = 'ASIAEXAMPLE000000001';
const NOTICE = '2026-11-28T12:00:00.000Z';

/** A harness holding one active grant whose credential is KEY; the "engine" revokes it on a leak report. */
function withLeakableGrant(engineActs = true) {
  const cli = harness();
  cli.store.seed(activeGrant('release-bot', 't-1'));
  if (engineActs) {
    cli.events.engine = (event) => {
      if (event.detailType !== 'Credential Leaked') return;
      cli.store.seed(
        revokedGrant(activeGrant('release-bot', 't-1'), { trigger: 'leaked', noticeAt: NOTICE, revokedAfterMs: 20, verifiedAfterMs: 30 }),
      );
    };
  }
  return cli;
}

describe('taskbound leak', () => {
  it('reports the access key leaked in the name of the caller and prints the revocation the engine proved', async () => {
    const cli = withLeakableGrant();

    const { code, out } = await cli.run('leak', KEY, '--evidence', 'public gist');

    expect(code).toBe(0);
    expect(out).toBe(`${GRANT} revoked and verified dead 50 ms after notice (leaked)`);
    expect(cli.events.sent).toEqual([
      { detailType: 'Credential Leaked', detail: { credentialId: KEY, reportedBy: CALLER, evidence: 'public gist' } },
    ]);
  });

  it("finds the grant by its delivery's name too", async () => {
    const cli = withLeakableGrant();
    const { code } = await cli.run('leak', 'taskbound/release-bot/t-1', '--as', 'scanner');
    expect(code).toBe(0);
    expect(cli.events.sent[0]?.detail).toEqual({ credentialId: 'taskbound/release-bot/t-1', reportedBy: 'scanner' });
  });

  it('sends nothing for a credential no grant holds, and says the engine cannot revoke it and what to do (exit 1)', async () => {
    const cli = withLeakableGrant();
    const { code, err } = await cli.run('leak', 'AKIAUNKNOWN000000000');
    expect(code).toBe(1);
    expect(err).toContain('no grant holds AKIAUNKNOWN000000000: Taskbound did not issue it');
    expect(err).toContain('aws iam update-access-key --access-key-id AKIAUNKNOWN000000000 --status Inactive');
    expect(cli.events.sent).toEqual([]);
  });

  it('refuses what is neither an access key id nor a delivery name (exit 2), sending nothing', async () => {
    const cli = withLeakableGrant();
    const { code, err } = await cli.run('leak', 'not-a-key');
    expect(code).toBe(2);
    expect(err).toContain('"not-a-key" is neither an access key id');
    expect(cli.events.sent).toEqual([]);
  });

  it('says there is nothing to revoke for a credential already proven dead, sending nothing (exit 0)', async () => {
    const cli = withLeakableGrant();
    cli.store.seed(
      revokedGrant(activeGrant('release-bot', 't-1'), { trigger: 'task_ended', noticeAt: NOTICE, revokedAfterMs: 5, verifiedAfterMs: 5 }),
    );
    const { code, out } = await cli.run('leak', KEY);
    expect(code).toBe(0);
    expect(out).toContain(`nothing to revoke: ${KEY} belongs to ${GRANT} revoked and verified dead`);
    expect(cli.events.sent).toEqual([]);
  });

  it('fails (exit 1) saying what to do when the engine does not act within --wait', async () => {
    const { code, err } = await withLeakableGrant(false).run('leak', KEY, '--wait', '1');
    expect(code).toBe(1);
    expect(err).toContain(`${GRANT} is still active after 1s`);
  });

  it('never prints the evidence, which may hold the secret itself', async () => {
    const evidence = 'found with secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const { out, err } = await withLeakableGrant().run('leak', KEY, '--evidence', evidence, '--json');
    expect(out + err).not.toContain('wJalrXUtnFEMI');
    expect(JSON.parse(out)).toMatchObject({ grantId: GRANT, sent: true, settled: true, state: 'verified' });
  });
});
