import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_POLICY_YAML } from '../../helpers/test-policy';
import { nextAuditEntry, type AuditEntry } from '../../../lambdas/domain/audit';
import type { Grant } from '../../../lambdas/domain/grant';
import { activeGrant, harness, requestedGrant, revokedGrant } from './cli-harness';

describe('taskbound audit verify', () => {
  it('passes when every chain verifies', async () => {
    const cli = harness();
    cli.store.seed(activeGrant('release-bot', 't-1'), requestedGrant('deploy-bot', 't-2'));

    const { code, out } = await cli.run('audit', 'verify');

    expect(code).toBe(0);
    expect(out).toBe('2 audit chains verify (4 links)');
  });

  it('says one chain in the singular', async () => {
    const cli = harness();
    cli.store.seed(activeGrant('release-bot', 't-1'));
    expect((await cli.run('audit', 'verify')).out).toMatch(/^1 audit chain verifies \(\d+ links\)$/);
  });

  it('fails with exit 1 naming each grant whose chain was tampered with', async () => {
    const cli = harness();
    const honest = activeGrant('release-bot', 't-1');
    const tampered = activeGrant('deploy-bot', 't-2');
    cli.store.seed(honest, { ...tampered, audit: tampered.audit.filter((entry) => entry.action !== 'auto-approved') });

    const { code, out } = await cli.run('audit', 'verify');

    expect(code).toBe(1);
    expect(out).toContain(`BROKEN ${tampered.grantId} (deploy-bot/t-2) at link 1: entry 1 has seq 2: entry 1 was deleted`);
    expect(out).not.toContain(honest.grantId);
    expect(out).toContain('1 of 2 audit chains do not verify');
  });

  it('names the grant and the link of an edited entry under --json', async () => {
    const cli = harness();
    const grant = activeGrant('release-bot', 't-1');
    cli.store.seed({ ...grant, audit: grant.audit.map((entry) => (entry.seq === 2 ? { ...entry, actor: 'mallory' } : entry)) });

    const { code, out } = await cli.run('audit', 'verify', '--json');

    expect(code).toBe(1);
    expect(JSON.parse(out)).toEqual({
      ok: false,
      grants: 1,
      links: 3,
      broken: [{ grantId: grant.grantId, agentId: 'release-bot', taskId: 't-1', link: 2, why: 'entry 2 was altered' }],
    });
  });
});

describe('taskbound audit verify, on a store edited by hand', () => {
  const deadGrant = () =>
    revokedGrant(activeGrant('release-bot', 't-1'), { noticeAt: '2026-11-28T10:05:00.000Z', revokedAfterMs: 40, verifiedAfterMs: 20 });

  it('names a grant whose last entries were cut off, though every remaining hash verifies', async () => {
    const cli = harness();
    const grant = deadGrant();
    cli.store.seed({ ...grant, audit: grant.audit.slice(0, 3) });

    const { code, out } = await cli.run('audit', 'verify');

    expect(code).toBe(1);
    expect(out).toContain(
      `BROKEN ${grant.grantId} (release-bot/t-1) at link 3: the chain ends in active but the grant is verified: entries after entry 2 were deleted, or the state was edited`,
    );
  });

  it('says entries were reordered, and whose chain a swapped one is', async () => {
    const cli = harness();
    const [first, second, reordered] = [deadGrant(), activeGrant('deploy-bot', 't-2'), activeGrant('ops-bot', 't-3')];
    const [a, b, c] = reordered.audit;
    cli.store.seed({ ...first, audit: second.audit }, { ...second, audit: first.audit }, { ...reordered, audit: [a!, c!, b!] });

    const { code, out } = await cli.run('audit', 'verify');

    expect(code).toBe(1);
    expect(out).toContain(
      `BROKEN ${first.grantId} (release-bot/t-1) at link 0: entry 0 was altered: the chain is grant ${second.grantId}'s (deploy-bot/t-2), swapped or copied here`,
    );
    expect(out).toContain(
      `BROKEN ${second.grantId} (deploy-bot/t-2) at link 0: entry 0 was altered: the chain is grant ${first.grantId}'s (release-bot/t-1), swapped or copied here`,
    );
    expect(out).toContain(`BROKEN ${reordered.grantId} (ops-bot/t-3) at link 1: entry 1 has seq 2: entries were reordered or copied`);
  });

  it('names a grant whose chain was removed, and still reports, exports and shows the others', async () => {
    const cli = harness();
    const honest = activeGrant('deploy-bot', 't-2', '2026-11-28T11:00:00.000Z');
    const stripped = { ...deadGrant(), audit: undefined } as unknown as Grant;
    cli.store.seed(honest, stripped);

    const verify = await cli.run('audit', 'verify');
    const exported = await cli.run('audit', 'export', '--since', '7d');
    const report = await cli.run('report', '--since', '7d', '--json');
    const shown = await cli.run('grants', 'show', stripped.grantId);

    expect(verify).toMatchObject({ code: 1 });
    expect(verify.out).toContain(
      `BROKEN ${stripped.grantId} (release-bot/t-1) at link 0: the grant has no audit entries: its chain was deleted`,
    );
    expect(exported.code).toBe(0);
    expect(exported.out.split('\n').map((line) => (JSON.parse(line) as { grantId: string }).grantId)).toEqual(
      honest.audit.map(() => honest.grantId),
    );
    expect(report.code).toBe(0);
    expect((JSON.parse(report.out) as { overall: { brokenChains: { grantId: string }[] } }).overall.brokenChains).toEqual([
      expect.objectContaining({ grantId: stripped.grantId, brokenAt: 0 }),
    ]);
    expect(shown.code).toBe(1);
    expect(shown.out).toContain('AUDIT CHAIN BROKEN at entry 0: the grant has no audit entries');
  });
});

describe('taskbound audit export', () => {
  it('warns on stderr when chains it exports do not verify, so the copy is not taken for clean evidence', async () => {
    const cli = harness();
    const grant = activeGrant('release-bot', 't-1');
    cli.store.seed(activeGrant('deploy-bot', 't-2'), { ...grant, audit: grant.audit.slice(0, 2) });

    const { code, out, err } = await cli.run('audit', 'export', '--since', '7d');

    expect(code).toBe(0);
    expect(out.split('\n')).toHaveLength(5);
    expect(err).toBe(
      'taskbound: 1 of 2 audit chains do not verify (`taskbound audit verify` names them); their entries are exported as stored',
    );
  });

  it('says nothing on stderr when every chain verifies', async () => {
    const cli = harness();
    cli.store.seed(activeGrant('release-bot', 't-1'));
    expect((await cli.run('audit', 'export', '--since', '7d')).err).toBe('');
  });
});

describe('taskbound audit verify --against an earlier export', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskbound-against-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const dead = (taskId: string) =>
    revokedGrant(activeGrant('release-bot', taskId), { noticeAt: '2026-11-28T10:05:00.000Z', revokedAfterMs: 40, verifiedAfterMs: 20 });
  /** The chain rewritten from `index` on with valid hashes, as anyone who can write the table can. */
  const rehashed = (grant: Grant, index: number, change: Partial<AuditEntry>): Grant => {
    const chain: AuditEntry[] = [];
    for (const { seq: _seq, prevHash: _prev, hash: _hash, ...facts } of grant.audit)
      chain.push(nextAuditEntry(grant.grantId, chain.at(-1), chain.length === index ? { ...facts, ...change } : facts));
    return { ...grant, audit: chain };
  };

  async function exported(format: string, ...grants: Grant[]): Promise<string> {
    const source = harness();
    source.store.seed(...grants);
    const { code, out } = await source.run('audit', 'export', '--since', '7d', '--format', format);
    expect(code).toBe(0);
    const file = join(dir, `export-${format}-${grants.length}.jsonl`);
    await writeFile(file, `${out}\n`);
    return file;
  }

  it.each(['json', 'ocsf'])(
    'names a chain rewritten with valid hashes, one cut with its state set back, and a grant deleted (%s export)',
    async (format) => {
      const [rewritten, cut, deleted, kept] = [dead('t-1'), dead('t-2'), dead('t-3'), dead('t-4')];
      const file = await exported(format, rewritten, cut, deleted, kept);
      const cli = harness();
      cli.store.seed(
        rehashed(rewritten, 1, { reason: 'approved by the CFO' }),
        { ...cut, state: 'active', audit: cut.audit.slice(0, 3) },
        kept,
      );
      expect((await cli.run('audit', 'verify')).code).toBe(0);

      const { code, out } = await cli.run('audit', 'verify', '--against', file);

      expect(code).toBe(1);
      const [summary, ...lines] = out.split('\n').reverse();
      expect(summary).toBe('3 of 4 audit chains do not verify; `taskbound grants show ID` shows a chain entry by entry');
      expect(lines.sort()).toEqual(
        [
          `BROKEN ${rewritten.grantId} (release-bot/t-1) at link 1: link 1 differs from the export: the stored chain was rewritten from there`,
          `BROKEN ${cut.grantId} (release-bot/t-2) at link 3: link 3 of the export is not in the store: the chain was cut after entry 2`,
          `BROKEN ${deleted.grantId} (release-bot/t-3) at link 0: the grant is not in the store, though the export holds its link 0 (deleted, or expired by the table's retention)`,
        ].sort(),
      );
    },
  );

  it('says the store holds every exported link when nothing changed, and counts them under --json', async () => {
    const grants = [dead('t-1'), activeGrant('deploy-bot', 't-2')];
    const file = await exported('json', ...grants);
    const cli = harness();
    cli.store.seed(...grants);

    const text = await cli.run('audit', 'verify', '--against', file);
    const asJson = await cli.run('audit', 'verify', '--against', file, '--json');

    expect(text).toMatchObject({ code: 0 });
    expect(text.out).toContain(`the store holds all 9 links of ${file} as exported`);
    expect(JSON.parse(asJson.out)).toEqual({ ok: true, grants: 2, links: 9, against: { file, links: 9 }, broken: [] });
  });

  it('refuses a file that is not an export, naming the line (exit 2)', async () => {
    const file = join(dir, 'not-an-export.jsonl');
    await writeFile(file, `${JSON.stringify({ kind: 'audit-entry', grantId: 'g-x', seq: 0, hash: 'h' })}\n{"hello":1}\n`);

    const { code, err } = await harness().run('audit', 'verify', '--against', file);

    expect(code).toBe(2);
    expect(err).toContain(`--against ${file}: line 2 is not an audit entry of \`audit export\``);
  });
});

describe('taskbound policy check', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskbound-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the version hash and the agents of a valid policy', async () => {
    const file = join(dir, 'valid.yaml');
    await writeFile(file, TEST_POLICY_YAML);

    const { code, out } = await harness().run('policy', 'check', file);

    expect(code).toBe(0);
    expect(out).toContain(`${file}: valid`);
    expect(out).toMatch(/version: sha256:[0-9a-f]{64}/);
    expect(out).toMatch(/release-bot\s+lead@example.com\s+medium\s+900\/1800\s+repo-read,repo-write/);
    expect(out).toMatch(/deploy-bot\s+sre@example.com\s+high/);
  });

  it('names the file, the path and the problem of an invalid policy (exit 2)', async () => {
    const file = join(dir, 'invalid.yaml');
    await writeFile(file, TEST_POLICY_YAML.replace('riskTier: medium', 'riskTier: low'));

    const { code, err } = await harness().run('policy', 'check', file);

    expect(code).toBe(2);
    expect(err).toContain(`${file}: invalid policy`);
    expect(err).toContain('agents.release-bot.scopes.1: scope "repo-write" is a write scope, above risk tier low');
  });

  it('prints a valid policy as one JSON document with --json', async () => {
    const file = join(dir, 'valid-json.yaml');
    await writeFile(file, TEST_POLICY_YAML);

    const { code, out } = await harness().run('policy', 'check', file, '--json');

    expect(code).toBe(0);
    const answer = JSON.parse(out);
    expect(answer).toMatchObject({ file, valid: true, version: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(answer.agents).toContainEqual(
      expect.objectContaining({ agentId: 'release-bot', owner: 'lead@example.com', riskTier: 'medium', maxTtlSeconds: 1800 }),
    );
  });

  it('prints the problems of an invalid policy as JSON with --json, each with its line and path (exit 2)', async () => {
    const file = join(dir, 'invalid-json.yaml');
    await writeFile(file, TEST_POLICY_YAML.replace('riskTier: medium', 'riskTier: low'));

    const { code, out, err } = await harness().run('policy', 'check', file, '--json');

    expect(code).toBe(2);
    expect(err).toBe('');
    const answer = JSON.parse(out);
    expect(answer).toMatchObject({ file, valid: false });
    expect(answer.problems).toContainEqual({
      severity: 'error',
      line: expect.any(Number),
      path: 'agents.release-bot.scopes.1',
      message: 'scope "repo-write" is a write scope, above risk tier low (allows read)',
    });
  });

  it("gives a YAML syntax error its line, and a mistyped key the key's own line (text and --json)", async () => {
    const yamlError = join(dir, 'yaml-error.yaml');
    await writeFile(yamlError, TEST_POLICY_YAML.replace(/^(\s+)purpose: (.*)$/m, '$1purpose: one: $2'));
    const yamlLine = TEST_POLICY_YAML.split('\n').findIndex((line) => /^\s+purpose: /.test(line)) + 1;
    const typo = join(dir, 'typo.yaml');
    await writeFile(typo, TEST_POLICY_YAML.replace(/^(\s+)maxTtlSeconds:/m, '$1maxTtlSecond:'));
    const typoLine = TEST_POLICY_YAML.split('\n').findIndex((line) => /^\s+maxTtlSeconds:/.test(line)) + 1;

    const yamlText = await harness().run('policy', 'check', yamlError);
    const yamlJson = JSON.parse((await harness().run('policy', 'check', yamlError, '--json')).out);
    const typoText = await harness().run('policy', 'check', typo);
    const typoJson = JSON.parse((await harness().run('policy', 'check', typo, '--json')).out);

    expect(yamlText.code).toBe(2);
    expect(yamlText.err).toContain(`${yamlError}:${yamlLine}: YAML: `);
    expect(yamlJson.problems).toEqual([expect.objectContaining({ line: yamlLine, path: 'YAML' })]);
    expect(typoText.err).toMatch(new RegExp(`${typo}:${typoLine}: agents\\.[a-z-]+: Unrecognized key: "maxTtlSecond"`));
    expect(typoJson.problems).toContainEqual(expect.objectContaining({ line: typoLine, message: 'Unrecognized key: "maxTtlSecond"' }));
  });

  it('reports a file it cannot read (exit 2)', async () => {
    const file = join(dir, 'missing.yaml');
    const { code, err } = await harness().run('policy', 'check', file);
    expect(code).toBe(2);
    expect(err).toContain(`${file}: cannot read the policy file (ENOENT)`);
  });

  it('reports a file it cannot read as one JSON document under --json (exit 2)', async () => {
    const file = join(dir, 'missing.yaml');
    const { code, out } = await harness().run('policy', 'check', file, '--json');
    expect(code).toBe(2);
    expect(JSON.parse(out)).toEqual({
      file,
      valid: false,
      problems: [{ severity: 'error', path: '(file)', message: `${file}: cannot read the policy file (ENOENT)` }],
    });
  });
});
