import { describe, expect, it } from 'vitest';
import { transition } from '../../../lambdas/domain/grant';
import { activeGrant, harness, requestedGrant, revokedGrant } from './cli-harness';

/** A revoked grant whose probe still worked: the sweep found it and revoked again. */
function stillValidGrant() {
  const revoked = revokedGrant(activeGrant('deploy-bot', 't-leaky'), { trigger: 'leaked', noticeAt: '2026-11-28T10:10:00.000Z', revokedAfterMs: 1000 });
  const again = transition(revoked, { to: 'revoking', at: '2026-11-28T10:11:00.000Z', actor: 'taskbound', action: 'still-valid', reason: 'credential still accepted 60 s after notice; revoking again' });
  const revokedAgain = transition(again, { to: 'revoked', at: '2026-11-28T10:11:01.000Z', actor: 'taskbound', action: 'revoked' });
  return transition(revokedAgain, { to: 'verified', at: '2026-11-28T10:11:02.000Z', actor: 'taskbound', action: 'verified' });
}

function seeded() {
  const cli = harness();
  cli.store.seed(
    revokedGrant(activeGrant('release-bot', 't-1'), { noticeAt: '2026-11-28T10:05:00.000Z', revokedAfterMs: 200, verifiedAfterMs: 800 }),
    revokedGrant(activeGrant('release-bot', 't-2'), { noticeAt: '2026-11-28T10:06:00.000Z', revokedAfterMs: 400, verifiedAfterMs: 1600 }),
    revokedGrant(activeGrant('release-bot', 't-3'), { trigger: 'expired', noticeAt: '2026-11-28T10:15:00.000Z', revokedAfterMs: 3000 }),
    stillValidGrant(),
    activeGrant('deploy-bot', 't-4'),
    requestedGrant('deploy-bot', 'old', '2026-11-01T00:00:00.000Z'),
  );
  return cli;
}

describe('taskbound report', () => {
  it('counts grants by state and trigger and computes revocation latency from the audit chain', async () => {
    const { code, out } = await seeded().run('report', '--json');

    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({
      since: '2026-11-21T12:00:00.000Z',
      until: '2026-11-28T12:00:00.000Z',
      grants: 5,
      byState: { verified: 3, revoked: 1, active: 1 },
      byTrigger: { task_ended: 2, expired: 1, leaked: 1 },
      revocationLatencyMs: {
        noticeToRevoked: { count: 4, p50: 400, p95: 3000, max: 3000 },
        // From the first revocation: the still-valid grant took 61 s to be proven dead.
        revokedToVerified: { count: 3, p50: 1600, p95: 61_000, max: 61_000 },
        noticeToVerified: { count: 3, p50: 2000, p95: 62_000, max: 62_000 },
      },
      stillValid: [
        {
          grantId: stillValidGrant().grantId,
          agentId: 'deploy-bot',
          taskId: 't-leaky',
          at: '2026-11-28T10:11:00.000Z',
          reason: 'credential still accepted 60 s after notice; revoking again',
        },
      ],
    });
  });

  it('covers only grants created within --since', async () => {
    const { out } = await seeded().run('report', '--since', '30d', '--json');
    expect(JSON.parse(out)).toMatchObject({ grants: 6, byState: { requested: 1 } });
  });

  it('prints tables for people', async () => {
    const { code, out } = await seeded().run('report');
    expect(code).toBe(0);
    expect(out).toContain('5 grants created from 2026-11-21T12:00:00.000Z to 2026-11-28T12:00:00.000Z');
    expect(out).toMatch(/notice -> revoked\s+4\s+400 ms\s+3\.0 s\s+3\.0 s/);
    expect(out).toContain('1 credentials still valid after revocation');
  });

  it('reports an empty period without latency figures', async () => {
    const { out } = await harness().run('report', '--json');
    expect(JSON.parse(out)).toMatchObject({ grants: 0, revocationLatencyMs: { noticeToRevoked: { count: 0 } }, stillValid: [] });
  });

  it('refuses a period it cannot read (exit 2)', async () => {
    const { code, err } = await harness().run('report', '--since', 'last week');
    expect(code).toBe(2);
    expect(err).toContain('--since: "last week" is not a period');
  });
});
