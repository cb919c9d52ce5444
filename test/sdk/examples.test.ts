// The TypeScript examples run as a user runs them (their own Node process, only
// AWS_ENDPOINT_URL pointing at the local engine), and what they did is checked in the engine.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { approve } from './approve';
import { harnessPerFile, startSdkHarness, type SdkHarness } from './sdk-harness';

const REPO = resolve(__dirname, '../..');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runExample(h: SdkHarness, file: string, onLine: (line: string) => void = () => undefined): Promise<Run> {
  // No STRIPE_KEY_SECRET: refund-agent.ts reads the brokered secret by the policy's ARN, as its header runs it.
  const { AWS_PROFILE: _profile, STRIPE_KEY_SECRET: _stripe, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(REPO, file)], {
    cwd: REPO,
    env: {
      ...env,
      AWS_ENDPOINT_URL: h.engine.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIALOCALEXAMPLE0000',
      AWS_SECRET_ACCESS_KEY: 'local',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    for (const line of chunk.toString('utf8').split('\n')) if (line) onLine(line);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((done) => child.once('exit', (code) => done({ code, stdout, stderr })));
}

/** The grant once its credential is proven dead (the example exits as soon as Task Ended is accepted). */
async function settled(h: SdkHarness, grantId: string | undefined) {
  const grant = await h.engine.deps.store.get(grantId ?? 'missing');
  if (!grant) throw new Error(`no grant ${grantId}`);
  return h.waitForGrant(grant.agentId, grant.taskId, ['verified']);
}

describe('the TypeScript examples against the local engine', () => {
  const h = harnessPerFile(startSdkHarness);

  it('coding-agent.ts works under a task credential and its task ends with it', async () => {
    const run = await runExample(h(), 'examples/coding-agent.ts');

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const grantId = /grant (g-[a-z2-7]{26})/.exec(run.stdout)?.[1];
    expect(run.stdout).toContain(`working as arn:aws:sts::`);
    const grant = await settled(h(), grantId);
    expect(grant.revocation).toMatchObject({ trigger: 'task_ended', reason: 'task succeeded' });
    expect(grant.systemsTouched).toEqual(['codecommit:web']);
  }, 20_000);

  it('refund-agent.ts waits for two approvals, reads its brokered key, and ends the task', async () => {
    let approvals: Promise<void> | undefined;
    const run = await runExample(h(), 'examples/refund-agent.ts', (line) => {
      const grantId = /waiting for two approvals of grant (g-[a-z2-7]{26})/.exec(line)?.[1];
      if (grantId) approvals = approve(h().engine, grantId, 'sre@example.com').then(() => approve(h().engine, grantId, 'lead@example.com'));
    });
    await approvals;

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const grantId = /refund done under grant (g-[a-z2-7]{26})/.exec(run.stdout)?.[1];
    const grant = await settled(h(), grantId);
    expect(grant.audit.map((entry) => entry.action)).toEqual(expect.arrayContaining(['held-for-approval', 'issued', 'revoke:task_ended']));
    expect(grant.approvals.map((approval) => approval.approver).sort()).toEqual(['lead@example.com', 'sre@example.com']);
  }, 30_000);
});
