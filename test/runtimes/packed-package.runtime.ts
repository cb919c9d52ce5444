// The package as a separate project gets it: `npm pack` (which builds first), the tarball unpacked into
// a fresh project's node_modules, then used from plain Node (ESM, no tsx) and type-checked with
// TypeScript's `nodenext` resolution. The dependencies come from this repository's node_modules
// (no registry needed), and every package the built code imports must be a declared dependency,
// so a registry install of the tarball would bring it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from '../e2e/local-engine';
import { REPO, run, runtimeEnv } from './processes';

const CONSUMER_MJS = `
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { GrantDeniedError, withTaskCredentials } from 'taskbound/sdk';

const request = { agentId: 'release-bot', purpose: 'from the packed package', requestedBy: 'dev@example.com' };
const arn = await withTaskCredentials({ ...request, scopes: ['repo-read'] }, async ({ credentials }) =>
  (await new STSClient({ credentials }).send(new GetCallerIdentityCommand({}))).Arn);
console.log('issued ' + arn);
try {
  await withTaskCredentials({ ...request, scopes: ['deploy-web'] }, async () => 'never');
} catch (error) {
  console.log(error instanceof GrantDeniedError ? 'denied ' + error.reason : 'unexpected ' + error);
}
`;

const CONSUMER_TS = `
import { withTaskCredentials, WaitTimeoutError, type TaskContext } from 'taskbound/sdk';

export async function work(): Promise<number> {
  const seconds: number = await withTaskCredentials(
    { agentId: 'release-bot', purpose: 'typed', requestedBy: 'dev@example.com', scopes: ['repo-read'] },
    async (context: TaskContext) => context.scopes.length,
  );
  // @ts-expect-error scopes is a list of names, so a typo here fails to compile
  await withTaskCredentials({ agentId: 'release-bot', purpose: 'typed', requestedBy: 'dev@example.com', scopes: 'repo-read' }, async () => 0);
  return seconds + (new WaitTimeoutError('a', 't', 1, 'absent').waitedMs);
}
`;

function barePackages(source: string): string[] {
  const statements =
    /^(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]|^import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;
  const specifiers = [...source.matchAll(statements)]
    .map((match) => (match[1] ?? match[2] ?? match[3])!)
    .filter((name) => !name.startsWith('.'));
  return specifiers
    .filter((name) => !name.startsWith('node:'))
    .map((name) => (name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]!));
}

async function* jsFiles(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* jsFiles(path);
    else if (entry.name.endsWith('.js')) yield path;
  }
}

describe('the packed package, installed into a separate project', () => {
  let h: Harness;
  let root: string;
  let app: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'taskbound-packed-'));
    const packed = await run('npm', ['pack', '--json', '--pack-destination', root]);
    if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`);
    // `prepack` prints the build's lines before npm's JSON.
    const [{ filename }] = JSON.parse(packed.stdout.slice(packed.stdout.search(/^\[/m))) as [{ filename: string }];
    app = join(root, 'app');
    await mkdir(join(app, 'node_modules'), { recursive: true });
    const untar = await run('tar', ['-xzf', join(root, filename), '-C', join(app, 'node_modules')]);
    if (untar.code !== 0) throw new Error(`tar failed: ${untar.stderr}`);
    await rename(join(app, 'node_modules', 'package'), join(app, 'node_modules', 'taskbound'));
    // The dependencies a registry install would bring, from this repository instead.
    await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'an-agent', private: true, type: 'module' }));
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('holds the built SDK and CLI, and no TypeScript sources or tests', async () => {
    const listing = await run('tar', [
      '-tzf',
      join(
        root,
        (await readdir(root)).find((name) => name.endsWith('.tgz'))!,
      ),
    ]);
    const files = listing.stdout.trim().split('\n');

    expect(files).toEqual(
      expect.arrayContaining([
        'package/package.json',
        'package/dist/sdk/index.js',
        'package/dist/sdk/index.d.ts',
        'package/dist/bin/taskbound.js',
      ]),
    );
    expect(files.filter((file) => /\.ts$/.test(file) && !file.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((file) => file.includes('/test/'))).toEqual([]);
  });

  it('declares every package its built code imports', async () => {
    const manifest = JSON.parse(await readFile(join(app, 'node_modules/taskbound/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const imported = new Set<string>();
    for await (const file of jsFiles(join(app, 'node_modules/taskbound/dist')))
      for (const name of barePackages(await readFile(file, 'utf8'))) imported.add(name);

    expect(imported).toContain('@aws-sdk/client-eventbridge');
    expect([...imported].filter((name) => !(name in manifest.dependencies))).toEqual([]);
  });

  it('runs from plain Node ESM: a task issued and used, a denial typed', async () => {
    await writeFile(join(app, 'agent.mjs'), CONSUMER_MJS);

    const agent = await run(process.execPath, ['agent.mjs'], { cwd: app, env: runtimeEnv(h.engine.url) });

    expect(agent.stderr).toBe('');
    expect(agent.code).toBe(0);
    expect(agent.stdout).toMatch(/^issued arn:aws:sts::\d+:assumed-role\/\S+\/g-[a-z2-7]{26}\ndenied .*deploy-web/);
  });

  it('type-checks a TypeScript consumer with nodenext resolution against the shipped declarations', async () => {
    await writeFile(join(app, 'consumer.ts'), CONSUMER_TS);
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );

    const checked = await run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', app], { cwd: app });

    expect(checked.stdout + checked.stderr).toBe('');
    expect(checked.code).toBe(0);
  });

  it('runs the built CLI with Node alone', async () => {
    const help = await run(process.execPath, [join(app, 'node_modules/taskbound/dist/bin/taskbound.js'), '--help'], { cwd: app });

    expect(help.code).toBe(0);
    expect(help.stdout).toContain('credentials');
    expect(help.stdout).toContain('serve-credentials');
  });
});
