// E2E test: `npm run demo`, the README's first command, plays its whole scenario and exits 0. It
// had stopped at step 5 once prove-revocation moved a revoked grant's due time past its one sweep,
// and nothing ran it.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = resolve(__dirname, '../..');

describe('npm run demo', () => {
  it('plays every step as described and exits 0', async () => {
    const demo = spawn(process.execPath, ['--import', 'tsx', resolve(REPO_ROOT, 'examples/demo.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    demo.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    demo.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => demo.kill('SIGKILL'), 150_000);
    const code = await new Promise<number | null>((done) => demo.once('exit', (exitCode) => done(exitCode)));
    clearTimeout(timer);

    expect(output).not.toContain('✗');
    expect(output).toMatch(/(\d+)\/\1 steps happened as described\./);
    expect(code, output.slice(-3_000)).toBe(0);
  }, 180_000);
});
