// SIGINT and SIGTERM: a runtime stopped by a signal still ends its task (as `cancelled`), and then
// dies of that signal as it would have without the SDK.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { harnessPerFile, startSdkHarness, type SdkHarness } from './sdk-harness';

const REPO = resolve(__dirname, '../..');

function interrupt(
  h: SdkHarness,
  taskId: string,
  signal: NodeJS.Signals,
): Promise<{ signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, 'fixtures/interrupted-agent.ts')], {
    cwd: REPO,
    env: {
      ...process.env,
      TASK_ID: taskId,
      AWS_ENDPOINT_URL: h.engine.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIALOCALSIGNAL00000',
      AWS_SECRET_ACCESS_KEY: 'local',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdout.on('data', (chunk: Buffer) => {
    if (chunk.toString('utf8').includes('working under')) child.kill(signal);
  });
  return new Promise((done) => child.once('exit', (code, exitSignal) => done({ signal: exitSignal, code, stderr })));
}

describe('withTaskCredentials on SIGINT and SIGTERM', () => {
  const h = harnessPerFile(startSdkHarness);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`ends the task as cancelled on ${signal}, then the process dies of ${signal}`, async () => {
      const exit = await interrupt(h(), `sdk-${signal.toLowerCase()}`, signal);

      expect(exit).toMatchObject({ signal, code: null });
      const grant = await h().waitForGrant('release-bot', `sdk-${signal.toLowerCase()}`, ['verified']);
      expect(grant.revocation).toMatchObject({ trigger: 'task_ended', reason: 'task cancelled' });
    }, 20_000);
  }
});
