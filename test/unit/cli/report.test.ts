import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transition } from '../../../lambdas/domain/grant';
import { activeGrant, harness, requestedGrant, revokedGrant } from './cli-harness';

/** A revoked grant whose probe still worked: the sweep found it and revoked again. */
function stillValidGrant() {
  const revoked = revokedGrant(activeGrant('deploy-bot', 't-leaky'), {
    trigger: 'leaked',
    noticeAt: '2026-11-28T10:10:00.000Z',
    revokedAfterMs: 1000,
  });
  const again = transition(revoked, {
    to: 'revoking',
    at: '2026-11-28T10:11:00.000Z',
    actor: 'taskbound',
    action: 'still-valid',
    reason: 'credential still accepted 60 s after notice; revoking again',
  });
  const revokedAgain = transition(again, { to: 'revoked', at: '2026-11-28T10:11:01.000Z', actor: 'taskbound', action: 'revoked' });
  return transition(revokedAgain, { to: 'verified', at: '2026-11-28T10:11:02.000Z', actor: 'taskbound', action: 'verified' });
}

function seeded() {
  const cli = harness();
  cli.store.seed(
    revokedGrant(activeGrant('release-bot', 't-1'), { noticeAt: '2026-11-28T10:05:00.000Z', revokedAfterMs: 200, verifiedAfterMs: 800 }),
    revokedGrant(activeGrant('release-bot', 't-2'), { noticeAt: '2026-11-28T10:06:00.000Z', revokedAfterMs: 400, verifiedAfterMs: 1600 }),
    stillValidGrant(),
    activeGrant('deploy-bot', 't-4', '2026-11-28T11:50:00.000Z'),
    requestedGrant('deploy-bot', 'old', '2026-11-01T00:00:00.000Z'),
  );
  return cli;
}

describe('taskbound report', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskbound-report-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the figures overall and per agent as JSON, the period ending now', async () => {
    const { code, out } = await seeded().run('report', '--json');

    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report).toMatchObject({ since: '2026-11-21T12:00:00.000Z', until: '2026-11-28T12:00:00.000Z' });
    expect(report.overall.grants).toEqual({ requested: 4, issued: 4, denied: 0, pending: 0, expiredUnanswered: 0, failed: 0 });
    expect(report.overall.revocation.noticeToRevokedMs).toEqual({ count: 3, median: 400, p95: 1000, max: 1000 });
    expect(report.overall.stillValidAfterNotice).toMatchObject({ count: 1, longestMs: 60_000 });
    expect(report.overall.leaks.count).toBe(1);
    expect(Object.keys(report.agents)).toEqual(['deploy-bot', 'finance-bot', 'ops-bot', 'release-bot']);
    expect(report.agents['release-bot'].grants.requested).toBe(2);
  });

  it('breaks the figures down by account with --by account, in text and JSON', async () => {
    const PROD = '444455556666';
    const cli = harness();
    cli.store.seed(
      {
        ...revokedGrant(activeGrant('release-bot', 't-1'), {
          noticeAt: '2026-11-28T10:05:00.000Z',
          revokedAfterMs: 200,
          verifiedAfterMs: 800,
        }),
        account: PROD,
      },
      revokedGrant(activeGrant('release-bot', 't-2'), { noticeAt: '2026-11-28T10:06:00.000Z', revokedAfterMs: 400, verifiedAfterMs: 1600 }),
      { ...activeGrant('deploy-bot', 't-4', '2026-11-28T11:50:00.000Z'), account: PROD },
    );

    const [text, json, byAgent] = [
      await cli.run('report', '--by', 'account'),
      await cli.run('report', '--by', 'account', '--json'),
      await cli.run('report', '--json'),
    ];

    expect(text.code).toBe(0);
    expect(text.out).toContain('== per account (`--json` has every figure per account)');
    expect(text.out).toMatch(/^hub {10,}1 +1 +0 +0 +0 +400 ms +0 +0$/m);
    expect(text.out).toMatch(/^444455556666 +2 +2 +0 +0 +0 +200 ms +0 +0$/m);
    expect(text.out).not.toContain('== per agent');
    const report = JSON.parse(json.out);
    expect(Object.keys(report.accounts)).toEqual(['hub', PROD]);
    expect(report.accounts[PROD].grants).toEqual({ requested: 2, issued: 2, denied: 0, pending: 0, expiredUnanswered: 0, failed: 0 });
    expect(report.accounts[PROD].byState).toEqual({ verified: 1, active: 1 });
    expect(JSON.parse(byAgent.out)).not.toHaveProperty('accounts');
  });

  it('refuses a breakdown other than agent or account', async () => {
    const { code, err } = await harness().run('report', '--by', 'team');
    expect(code).toBe(2);
    expect(err).toContain('--by: "team" is not one of agent, account');
  });

  it('covers only grants created within --since', async () => {
    const { out } = await seeded().run('report', '--since', '30m', '--json');
    expect(JSON.parse(out).overall.grants.requested).toBe(1);
  });

  it('prints text for people', async () => {
    const { code, out } = await seeded().run('report');
    expect(code).toBe(0);
    expect(out).toContain('grants: 4 requested, 4 issued, 0 denied (0 unanswered in time), 0 pending, 0 failed');
    expect(out).toContain('standing privilege: 0 credentials alive with no task');
    expect(out).toMatch(/notice -> revoked\s+3\s+400 ms\s+1\.0 s\s+1\.0 s/);
    expect(out).toContain('still valid after notice: 1, longest 1.0 min');
  });

  it('writes a self-contained HTML page with the charts and the figures', async () => {
    const file = join(dir, 'report.html');
    const { code, err } = await seeded().run('report', '--html', file);

    expect(code).toBe(0);
    expect(err).toContain(`report written to ${file}`);
    const html = await readFile(file, 'utf8');
    expect(html).toContain("default-src 'none'");
    // Nothing loads from elsewhere (the browser test also watches the page's requests).
    expect(html).not.toMatch(/<script[^>]+src=|<link[\s>]|<img[^>]+src=["']?http|@import/);
    expect(html).toMatch(/Chart\.js v4\.\d+\.\d+/);
    for (const id of ['chart-lifetimes', 'chart-latency', 'chart-states']) expect(html).toContain(`id="${id}"`);
    const embedded = /<script id="report-data" type="application\/json">(.*?)<\/script>/s.exec(html)?.[1];
    expect(JSON.parse(embedded ?? 'null').overall.grants.requested).toBe(4);
  });

  it('says how to fix an unwritable --html path (exit 1)', async () => {
    const { code, err } = await seeded().run('report', '--html', join(dir, 'missing', 'report.html'));
    expect(code).toBe(1);
    expect(err).toContain('cannot write');
  });

  it('refuses a malformed --since (exit 2)', async () => {
    const { code, err } = await harness().run('report', '--since', 'a week');
    expect(code).toBe(2);
    expect(err).toContain('--since: "a week" is not a period like 30m, 12h, 7d or 2w');
  });
});
