import { describe, expect, it } from 'vitest';
import { activeGrant, harness, requestedGrant, revokedGrant } from './cli-harness';

describe('taskbound grants list', () => {
  it('lists grants newest first as a table', async () => {
    const cli = harness();
    cli.store.seed(
      activeGrant('release-bot', 't-1', '2026-11-28T09:00:00.000Z'),
      requestedGrant('deploy-bot', 't-2', '2026-11-28T10:00:00.000Z'),
    );

    const { code, out } = await cli.run('grants', 'list');

    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^GRANT\s+AGENT\s+TASK\s+STATE\s+CREATED\s+EXPIRES\s+SCOPES$/);
    expect(lines[1]).toContain('deploy-bot');
    expect(lines[2]).toContain('release-bot');
    expect(lines[2]).toContain('active');
  });

  it('shows no expiry for a credential proven dead, but still for a live one', async () => {
    const cli = harness();
    const live = activeGrant('release-bot', 't-1');
    cli.store.seed(
      live,
      revokedGrant(activeGrant('release-bot', 't-2'), { noticeAt: '2026-11-28T10:05:00.000Z', revokedAfterMs: 20, verifiedAfterMs: 30 }),
    );

    const { out } = await cli.run('grants', 'list');

    const [, ...rows] = out.split('\n');
    const columns = (task: string) => rows.find((row) => row.includes(` ${task} `))?.split(/\s{2,}/) ?? [];
    expect(columns('t-1')[5]).not.toBe('-');
    expect(columns('t-2')[3]).toBe('verified');
    expect(columns('t-2')[5]).toBe('-');
  });

  it('filters by agent and state', async () => {
    const cli = harness();
    cli.store.seed(activeGrant('release-bot', 't-1'), requestedGrant('release-bot', 't-2'), activeGrant('deploy-bot', 't-3'));

    const { code, out } = await cli.run('grants', 'list', '--agent', 'release-bot', '--state', 'active', '--json');

    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual([expect.objectContaining({ agentId: 'release-bot', taskId: 't-1', state: 'active' })]);
  });

  it('prints one summary per grant with --json, without the audit chain', async () => {
    const cli = harness();
    const grant = revokedGrant(activeGrant('release-bot', 't-1'), {
      noticeAt: '2026-11-28T10:05:00.000Z',
      revokedAfterMs: 200,
      verifiedAfterMs: 300,
    });
    cli.store.seed(grant);

    const [summary] = JSON.parse((await cli.run('grants', 'list', '--json')).out);

    expect(summary).toEqual({
      grantId: grant.grantId,
      agentId: 'release-bot',
      taskId: 't-1',
      state: 'verified',
      createdAt: grant.createdAt,
      updatedAt: grant.updatedAt,
      expiresAt: grant.expiresAt,
      scopes: ['repo-read'],
      trigger: 'task_ended',
    });
  });

  it('shows at most --limit grants, and says so', async () => {
    const cli = harness();
    cli.store.seed(
      activeGrant('release-bot', 't-1', '2026-11-28T09:00:00.000Z'),
      activeGrant('release-bot', 't-2', '2026-11-28T10:00:00.000Z'),
    );

    const { code, out, err } = await cli.run('grants', 'list', '--agent', 'release-bot', '--limit', '1');

    expect(code).toBe(0);
    expect(out.split('\n')).toHaveLength(2);
    expect(out).toContain('t-2');
    expect(err).toContain('showing the newest 1');
  });

  it('refuses an unknown state with exit 2', async () => {
    const { code, err } = await harness().run('grants', 'list', '--state', 'alive');
    expect(code).toBe(2);
    expect(err).toContain('unknown state "alive"');
  });
});

describe('taskbound grants show', () => {
  it('shows the grant, its audit chain and that the chain verifies', async () => {
    const cli = harness();
    const grant = activeGrant('release-bot', 't-1');
    cli.store.seed(grant);

    const { code, out } = await cli.run('grants', 'show', grant.grantId);

    expect(code).toBe(0);
    expect(out).toContain(`grant:        ${grant.grantId}`);
    expect(out).toMatch(/1\s+2026-11-28T10:00:00.500Z\s+taskbound\s+auto-approved\s+requested -> issuing/);
    expect(out).toContain('audit chain verifies (3 entries)');
  });

  it('names the account the credential lives in: a spoke’s id, or hub for the engine’s own', async () => {
    const cli = harness();
    const hub = activeGrant('release-bot', 't-1');
    const spoke = { ...activeGrant('release-bot', 't-2'), account: '444455556666' };
    cli.store.seed(hub);
    cli.store.seed(spoke);

    const shownHub = await cli.run('grants', 'show', hub.grantId);
    const shownSpoke = await cli.run('grants', 'show', spoke.grantId);

    expect(shownHub.out).toContain('account:      hub\n');
    expect(shownSpoke.out).toContain('account:      444455556666\n');
  });

  it('prints the grant and the chain verdict with --json', async () => {
    const cli = harness();
    const grant = activeGrant('release-bot', 't-1');
    cli.store.seed(grant);

    const shown = JSON.parse((await cli.run('grants', 'show', grant.grantId, '--json')).out);

    expect(shown).toEqual({ grant, chain: { ok: true }, calls: { source: 'unavailable', why: 'not recorded in tests' } });
  });

  it('fails with exit 1 when the chain was tampered with', async () => {
    const cli = harness();
    const grant = activeGrant('release-bot', 't-1');
    cli.store.seed({ ...grant, audit: grant.audit.map((entry, i) => (i === 1 ? { ...entry, actor: 'mallory' } : entry)) });

    const { code, out } = await cli.run('grants', 'show', grant.grantId);

    expect(code).toBe(1);
    expect(out).toContain('AUDIT CHAIN BROKEN at entry 1: entry 1 was altered');
  });

  it('fails with exit 1 for a grant that does not exist', async () => {
    const { code, err } = await harness().run('grants', 'show', 'g-aaaaaaaaaaaaaaaaaaaaaaaaaa');
    expect(code).toBe(1);
    expect(err).toContain('no grant g-aaaaaaaaaaaaaaaaaaaaaaaaaa');
  });

  it('refuses a malformed grant id with exit 2', async () => {
    const { code, err } = await harness().run('grants', 'show', 'not-a-grant');
    expect(code).toBe(2);
    expect(err).toContain('"not-a-grant" is not a grant id');
  });
});
