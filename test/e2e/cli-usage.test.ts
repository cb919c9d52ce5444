import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { grantIdFor } from '../../lambdas/domain/ids';
import { localClientConfig } from '../../lambdas/local/host/sdk-clients';
import { realSleep } from '../../lambdas/adapters/sleep';
import { taskboundProcess } from './cli-process';
import { freeLoopbackPort, startEngineProcess, type EngineProcess } from './engine-process';
import { readGrantTable, type GrantTableReader } from './grant-table-reader';

/** The delivery's credential once the engine has written it; absent or not yet `issued` is read again, for up to 10 s. */
type Credential = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
async function deliveredCredential(client: SecretsManagerClient, secretId: string): Promise<Credential> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const secret = await client.send(new GetSecretValueCommand({ SecretId: secretId })).catch((error: Error) => {
      if (error.name !== 'ResourceNotFoundException' || Date.now() > deadline) throw error;
      return undefined;
    });
    const payload = JSON.parse(secret?.SecretString ?? '{}');
    if (payload.status === 'issued') return payload;
    if (Date.now() > deadline) throw new Error(`no issued delivery in ${secretId} within 10 s (last: ${payload.status ?? 'none'})`);
    await realSleep(50);
  }
}

const EXAMPLE_POLICY = resolve(import.meta.dirname, '../../examples/taskbound.policy.yaml');
const GRANT = grantIdFor('audit-bot', 'browse-1');

/** The example policy plus a read scope of several Secrets Manager actions (one wildcard) held by one agent. */
async function policyWithBrowseScope(file: string): Promise<void> {
  const policy = parse(await readFile(EXAMPLE_POLICY, 'utf8'));
  policy.scopes['secrets-browse'] = {
    action: 'read',
    credential: 'aws-sts-session',
    statements: [{ Effect: 'Allow', Action: ['secretsmanager:List*', 'secretsmanager:DescribeSecret'], Resource: '*' }],
  };
  policy.agents['audit-bot'] = {
    owner: 'sre@example.com',
    purpose: 'Inventories the secrets of the account',
    riskTier: 'low',
    runtimePrincipal: 'arn:aws:iam::111122223333:role/audit-runtime',
    scopes: ['secrets-browse'],
    maxTtlSeconds: 1800,
    defaultTtlSeconds: 900,
    maxConcurrentGrants: 2,
  };
  await writeFile(file, stringify(policy), 'utf8');
}

describe('what credentials did, end to end: the local engine and the CLI, each its own process', () => {
  let dir: string;
  let policyFile: string;
  let engine: EngineProcess;
  let table: GrantTableReader;
  const taskbound = (...argv: string[]) => taskboundProcess(engine.url, '--policy', policyFile, ...argv);
  const json = async (...argv: string[]) => {
    const result = await taskbound(...argv, '--json');
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskbound-usage-e2e-'));
    policyFile = join(dir, 'policy.yaml');
    await policyWithBrowseScope(policyFile);
    engine = await startEngineProcess({ dataDir: join(dir, 'data'), port: await freeLoopbackPort(), policyFile });
    table = readGrantTable(engine.url);
    const started = await taskbound(
      ...['emit', 'task-started', '--agent', 'audit-bot', '--task', 'browse-1'],
      ...['--purpose', 'list the secrets', '--requested-by', 'dev@example.com', '--scopes', 'secrets-browse'],
    );
    expect(started.code, started.stderr).toBe(0);
    await table.waitFor('audit-bot', 'browse-1', ['active']);

    // The runtime reads its delivery, then uses one action of the scope's many: ListSecrets.
    // `active` is recorded before the delivery is written (docs/contract.md §5): wait for the delivery itself.
    const delivery = new SecretsManagerClient(localClientConfig(engine.url));
    const issued = await deliveredCredential(delivery, 'taskbound/audit-bot/browse-1');
    delivery.destroy();
    const agent = new SecretsManagerClient({
      ...localClientConfig(engine.url),
      credentials: { accessKeyId: issued.accessKeyId, secretAccessKey: issued.secretAccessKey, sessionToken: issued.sessionToken },
    });
    await agent.send(new ListSecretsCommand({}));
    agent.destroy();
  }, 120_000);

  afterAll(async () => {
    table?.close();
    await engine?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports, under --json, the actions of the scope that the task did not use', async () => {
    const report = await json('report', '--since', '1h');

    expect(report.permissionUsage).toMatchObject({ read: true, source: 'local-engine' });
    const [browse] = report.permissionUsage.usage.scopes;
    expect(browse).toMatchObject({ scope: 'secrets-browse', grants: 1, grantsRead: 1, used: ['secretsmanager:ListSecrets'] });
    // The wildcard was expanded from AWS's catalog: every other List* action is a candidate to narrow.
    expect(browse.unused).toEqual(expect.arrayContaining(['secretsmanager:DescribeSecret', 'secretsmanager:ListSecretVersionIds']));
    expect(browse.unused).not.toContain('secretsmanager:ListSecrets');
    expect(report.permissionUsage.usage.agents['audit-bot'][0].unused).toEqual(browse.unused);
  });

  it("still counts only the task's calls once the credential is revoked and the engine has probed it", async () => {
    const revoked = await json('revoke', GRANT, '--reason', 'e2e', '--as', 'oncall@example.com');
    expect(revoked).toMatchObject({ settled: true, state: 'verified' });

    const [shown, report] = await Promise.all([json('grants', 'show', GRANT), json('report', '--since', '1h')]);

    const calls: { action: string; phase: string }[] = shown.calls.calls;
    expect(calls.filter((call) => call.phase === 'before-revocation').map((call) => call.action)).toEqual(['secretsmanager:ListSecrets']);
    expect(calls.filter((call) => call.phase === 'after-revocation')).toEqual([]);
    // The engine's canary DescribeSecret (at issue, and after revocation) is recorded, and is not the task's.
    expect(calls.filter((call) => call.phase === 'engine-probe').map((call) => call.action)).toContain('secretsmanager:DescribeSecret');
    expect(report.permissionUsage.usage.scopes[0].unused).toContain('secretsmanager:DescribeSecret');
  });

  it('prints the unused actions in the text report and in the HTML page', async () => {
    const file = join(dir, 'report.html');
    const [text, html] = await Promise.all([taskbound('report', '--since', '1h'), taskbound('report', '--since', '1h', '--html', file)]);

    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('== permissions granted but unused (candidates to narrow)');
    expect(text.stdout).toMatch(/secrets-browse\s+1\/1\s+\d+\s+1\s+secretsmanager:DescribeSecret/);
    expect(html.code, html.stderr).toBe(0);
    expect(await readFile(file, 'utf8')).toMatch(/<table id="unused-permissions">[\s\S]*<code>secretsmanager:DescribeSecret<\/code>/);
  });
});

describe('taskbound --version, as a user runs it', () => {
  it("prints the package's version without reaching any engine", async () => {
    const manifest = JSON.parse(await readFile(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };

    const result = await taskboundProcess('http://127.0.0.1:1', '--version');

    expect(result).toEqual({ code: 0, stdout: `${manifest.version}\n`, stderr: '' });
  });
});
