import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness } from './cli-harness';

describe('taskbound policy check across accounts', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskbound-orgs-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('accepts a policy whose scopes name accounts, and warns about an agent whose scopes span them', async () => {
    const file = join(dir, 'orgs.policy.yaml');
    await writeFile(file, await readFile('test/infra/fixtures/orgs.policy.yaml', 'utf8'));

    const { code, out, err } = await harness().run('policy', 'check', file);

    expect(code).toBe(0);
    expect(out).toContain(`${file}: valid`);
    expect(err).toMatch(/warning: agent "ops-bot": its scopes span 3 accounts/);
  });

  it('refuses an account id that is not 12 digits, naming the path', async () => {
    const file = join(dir, 'bad.policy.yaml');
    await writeFile(
      file,
      (await readFile('test/infra/fixtures/orgs.policy.yaml', 'utf8')).replace('account: "777788889999"', 'account: "7777-8888-9999"'),
    );

    const { code, err } = await harness().run('policy', 'check', file);

    expect(code).toBe(2);
    expect(err).toContain('scopes.logs-read.account: an AWS account id is 12 digits');
  });
});
