// The runtime commands of the CLI against the local engine: `credentials` (credential_process)
// and `serve-credentials` (the container credentials endpoint), run as the CLI runs them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '../../cli/clients';
import { runCli } from '../../cli/program';
import { serveCredentials } from '../../cli/commands/serve-credentials';
import { issuedMarks } from '../../cli/issued-marks';
import { runtimeClient } from '../../cli/runtime-connection';
import { approve } from './approve';
import { startSdkHarness, type SdkHarness } from './sdk-harness';

const START = { purpose: 'cli runtime test', requestedBy: 'dev@example.com' };

async function cli(h: SdkHarness, ...argv: string[]) {
  return cliHearing(h, () => undefined, ...argv);
}

/** Runs the CLI in process; `onErr` hears each stderr line as it is written. */
async function cliHearing(h: SdkHarness, onErr: (line: string) => void, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (line: string) => out.push(line), err: (line: string) => (err.push(line), onErr(line)) };
  const code = await runCli(['--endpoint', h.engine.url, ...argv], { io, connect });
  return { code, out, err };
}

describe('taskbound credentials and serve-credentials against the local engine', () => {
  let h: SdkHarness;
  let stateDir: string;
  beforeAll(async () => {
    h = await startSdkHarness();
    stateDir = await mkdtemp(join(tmpdir(), 'taskbound-cli-state-'));
    process.env.TASKBOUND_STATE_DIR = stateDir;
  });
  afterAll(async () => {
    delete process.env.TASKBOUND_STATE_DIR;
    await h.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('prints the credential_process JSON of an issued task, and after Task Ended refuses at once', async () => {
    const taskbound = h.client();
    await taskbound.startTask({ ...START, agentId: 'release-bot', taskId: 'cli-issued', scopes: ['repo-read'] });

    const issued = await cli(h, 'credentials', '--agent', 'release-bot', '--task', 'cli-issued');

    expect(issued.code).toBe(0);
    expect(issued.err).toEqual([]);
    const json = JSON.parse(issued.out.join('\n'));
    expect(json).toEqual({
      Version: 1,
      AccessKeyId: expect.any(String),
      SecretAccessKey: expect.any(String),
      SessionToken: expect.any(String),
      Expiration: expect.any(String),
    });
    expect(
      await h.whoAmI({ accessKeyId: json.AccessKeyId, secretAccessKey: json.SecretAccessKey, sessionToken: json.SessionToken }),
    ).toContain('arn:');

    await taskbound.endTask({ agentId: 'release-bot', taskId: 'cli-issued', outcome: 'succeeded' });
    await h.waitForGrant('release-bot', 'cli-issued', ['verified']);
    const started = Date.now();
    const after = await cli(h, 'credentials', '--agent', 'release-bot', '--task', 'cli-issued');

    expect(after.code).toBe(1);
    expect(after.out).toEqual([]);
    expect(after.err).toEqual([expect.stringMatching(/^taskbound: revoked: /)]);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('exits 1 with the denial’s reason on one line, printing nothing on stdout', async () => {
    await h.client().startTask({ ...START, agentId: 'release-bot', taskId: 'cli-denied', scopes: ['deploy-web'] });

    const denied = await cli(h, 'credentials', '--agent', 'release-bot', '--task', 'cli-denied');

    expect(denied).toMatchObject({ code: 1, out: [] });
    expect(denied.err).toEqual([expect.stringMatching(/^taskbound: denied: .*deploy-web/)]);
  });

  it('waits while the grant is pending, saying so on stderr, and prints the credential once approved', async () => {
    await h.client().startTask({ ...START, agentId: 'deploy-bot', taskId: 'cli-pending', scopes: ['deploy-web'] });
    const grant = await h.waitForGrant('deploy-bot', 'cli-pending', ['pending_approval']);

    let approved: Promise<void> | undefined;
    const result = await cliHearing(
      h,
      () => (approved ??= approve(h.engine, grant.grantId, 'lead@example.com')),
      'credentials',
      '--agent',
      'deploy-bot',
      '--task',
      'cli-pending',
    );
    await approved;

    expect(result.err).toEqual([`taskbound: deploy-bot/cli-pending is waiting for approval (grant ${grant.grantId})`]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out.join(''))).toMatchObject({ Version: 1 });
    await h.client().endTask({ agentId: 'deploy-bot', taskId: 'cli-pending', outcome: 'succeeded' });
  });

  it('times out on a grant nobody approves, with exit 1 and the reason', async () => {
    await h.client().startTask({ ...START, agentId: 'deploy-bot', taskId: 'cli-unanswered', scopes: ['deploy-web'] });

    const result = await cli(h, 'credentials', '--agent', 'deploy-bot', '--task', 'cli-unanswered', '--timeout', '1');

    expect(result).toMatchObject({ code: 1, out: [] });
    expect(result.err.at(-1)).toMatch(/^taskbound: timed out: .*waiting for approval/);
    await h.client().endTask({ agentId: 'deploy-bot', taskId: 'cli-unanswered', outcome: 'cancelled' });
  });

  it('serves the credential to a command’s AWS SDK through the container endpoint, only with the token', async () => {
    await h.client().startTask({ ...START, agentId: 'release-bot', taskId: 'cli-served', scopes: ['repo-read'] });
    const outFile = join(stateDir, 'served.json');
    const script = [
      "import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';",
      "import { writeFileSync } from 'node:fs';",
      'const url = process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI;',
      'const anonymous = (await fetch(url)).status;',
      "const wrongToken = (await fetch(url, { headers: { authorization: 'guess' } })).status;",
      "const sts = new STSClient({ region: 'us-east-1', endpoint: process.env.ENGINE_URL });",
      'const { Arn } = await sts.send(new GetCallerIdentityCommand({}));',
      'writeFileSync(process.env.OUT_FILE, JSON.stringify({ anonymous, wrongToken, arn: Arn, url }));',
    ].join('\n');
    process.env.OUT_FILE = outFile;
    process.env.ENGINE_URL = h.engine.url;

    const served = await cli(
      h,
      'serve-credentials',
      '--agent',
      'release-bot',
      '--task',
      'cli-served',
      '--',
      process.execPath,
      '--input-type=module',
      '-e',
      script,
    );

    delete process.env.OUT_FILE;
    delete process.env.ENGINE_URL;
    expect(served).toMatchObject({ code: 0, out: [], err: [] });
    const seen = JSON.parse(await readFile(outFile, 'utf8'));
    const grant = await h.waitForGrant('release-bot', 'cli-served', ['active']);
    expect(seen).toMatchObject({
      anonymous: 401,
      wrongToken: 401,
      arn: expect.stringContaining(grant.grantId),
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/credentials$/),
    });
    await h.client().endTask({ agentId: 'release-bot', taskId: 'cli-served', outcome: 'succeeded' });
  }, 20_000);

  it('serves until stopped with the caller’s token, and refuses once the engine has revoked the credential', async () => {
    await h.client().startTask({ ...START, agentId: 'release-bot', taskId: 'cli-standalone', scopes: ['repo-read'] });
    const out: string[] = [];
    const stop = new AbortController();
    const deps = {
      out: (line: string) => out.push(line),
      err: () => undefined,
      taskbound: runtimeClient({ endpoint: h.engine.url }),
      marks: issuedMarks(),
      stop: stop.signal,
    };
    const env = { ...process.env, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'a-token-the-caller-chose' };
    const serving = serveCredentials(deps, { agent: 'release-bot', task: 'cli-standalone', json: true }, [], env);
    await expect.poll(() => out.length, { timeout: 5_000 }).toBe(1);
    const url = JSON.parse(out[0]!).AWS_CONTAINER_CREDENTIALS_FULL_URI as string;
    const ask = () => fetch(url, { headers: { authorization: 'a-token-the-caller-chose' } });

    const live = await ask();
    const body = (await live.json()) as Record<string, string>;
    await h.client().endTask({ agentId: 'release-bot', taskId: 'cli-standalone', outcome: 'succeeded' });
    await h.waitForGrant('release-bot', 'cli-standalone', ['verified']);
    await new Promise((done) => setTimeout(done, 1_100));
    const dead = await ask();
    stop.abort();

    expect(live.status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['AccessKeyId', 'Expiration', 'SecretAccessKey', 'Token']);
    expect(dead.status).toBe(403);
    expect(await dead.json()).toMatchObject({ code: 'CredentialRevoked' });
    expect(await serving).toBe(0);
  });

  it('refuses to run as its own credential source instead of calling itself forever', async () => {
    process.env.TASKBOUND_IN_CREDENTIAL_PROCESS = '1';
    try {
      const nested = await cli(h, 'credentials', '--agent', 'release-bot', '--task', 'cli-nested');

      expect(nested).toMatchObject({ code: 1, out: [] });
      expect(nested.err).toEqual([expect.stringMatching(/^taskbound: credentials called itself/)]);
    } finally {
      delete process.env.TASKBOUND_IN_CREDENTIAL_PROCESS;
    }
  });
});
