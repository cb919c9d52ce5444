// End to end: the CLI's inventory and report across accounts, against a local engine running a
// policy whose scopes take their credentials from the hub and two member accounts.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantIdFor } from '../../lambdas/domain/ids';
import { taskboundProcess } from './cli-process';
import { freeLoopbackPort, startEngineProcess, type EngineProcess } from './engine-process';
import { readGrantTable, type GrantTableReader } from './grant-table-reader';

const POLICY = resolve(import.meta.dirname, '../infra/fixtures/orgs.policy.yaml');
const PROD = '444455556666';
const LOGS = '777788889999';

describe('the taskbound CLI across accounts (local engine, a policy naming two member accounts)', () => {
  let dir: string;
  let engine: EngineProcess;
  let table: GrantTableReader;
  const taskbound = (...argv: string[]) => taskboundProcess(engine.url, '--policy', POLICY, ...argv);
  const json = async (...argv: string[]) => {
    const result = await taskbound(...argv, '--json');
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };
  const start = (taskId: string, scope: string) =>
    taskbound(
      'emit',
      'task-started',
      '--agent',
      'ops-bot',
      '--task',
      taskId,
      '--purpose',
      `work in ${scope}`,
      '--requested-by',
      'dev@example.com',
      '--scopes',
      scope,
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskbound-accounts-e2e-'));
    engine = await startEngineProcess({ dataDir: join(dir, 'data'), port: await freeLoopbackPort(), policyFile: POLICY });
    table = readGrantTable(engine.url);
    const started = await Promise.all([start('hub-1', 'hub-read'), start('prod-1', 'prod-deploy'), start('logs-1', 'logs-read')]);
    for (const result of started) expect(result.code, result.stderr).toBe(0);
    for (const taskId of ['hub-1', 'prod-1', 'logs-1']) await table.waitFor('ops-bot', taskId, ['active']);
    const ended = await taskbound('emit', 'task-ended', '--agent', 'ops-bot', '--task', 'prod-1', '--outcome', 'succeeded');
    expect(ended.code, ended.stderr).toBe(0);
    await table.waitFor('ops-bot', 'prod-1', ['verified']);
  }, 120_000);

  afterAll(async () => {
    table?.close();
    await engine?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the accounts each agent’s scopes take credentials from', async () => {
    const [text, { agents }] = await Promise.all([taskbound('agents', 'list'), json('agents', 'list')]);

    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`ops-bot .* hub ${PROD} ${LOGS} `));
    expect(agents[0].scopes.map((scope: { scope: string; account?: string }) => [scope.scope, scope.account ?? 'hub'])).toEqual([
      ['hub-read', 'hub'],
      ['prod-deploy', PROD],
      ['prod-key', PROD],
      ['logs-read', LOGS],
    ]);
  });

  it('reads the policy file the engine loaded when given none, not the example policy', async () => {
    const named = await json('agents', 'list');
    const unnamed = await taskboundProcess(engine.url, 'agents', 'list', '--json');

    expect(unnamed.code, unnamed.stderr).toBe(0);
    expect(JSON.parse(unnamed.stdout)).toEqual(named);
    expect(named.agents.map((agent: { agentId: string }) => agent.agentId)).toContain('ops-bot');
  });

  it('shows each scope’s account and each live grant’s account', async () => {
    const [text, { agent }] = await Promise.all([taskbound('agents', 'show', 'ops-bot'), json('agents', 'show', 'ops-bot')]);

    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`prod-deploy\\s+deploy\\s+aws-sts-session\\s+${PROD}\\s+auto`));
    expect(text.stdout).toMatch(new RegExp(`${grantIdFor('ops-bot', 'logs-1')}\\s+logs-1\\s+active\\s+.*\\s+${LOGS}\\s+logs-read`));
    expect(text.stdout).toMatch(new RegExp(`${grantIdFor('ops-bot', 'hub-1')}\\s+hub-1\\s+active\\s+.*\\s+hub\\s+hub-read`));
    expect(agent.liveGrants.map((grant: { taskId: string; account?: string }) => [grant.taskId, grant.account ?? 'hub']).sort()).toEqual([
      ['hub-1', 'hub'],
      ['logs-1', LOGS],
    ]);
  });

  it('breaks the report down by account in text, JSON and HTML', async () => {
    const file = join(dir, 'accounts.html');
    const [text, report, html, byAgent] = await Promise.all([
      taskbound('report', '--since', '1h', '--by', 'account'),
      json('report', '--since', '1h', '--by', 'account'),
      taskbound('report', '--since', '1h', '--by', 'account', '--html', file),
      json('report', '--since', '1h'),
    ]);

    expect(text.code).toBe(0);
    expect(text.stdout).toContain('== per account');
    expect(text.stdout).toMatch(new RegExp(`${PROD}\\s+1\\s+1\\s+0\\s+0\\s+0\\s+[\\d.]+ m?s\\s+0\\s+0\\n`));
    expect(text.stdout).toMatch(new RegExp(`${LOGS}\\s+1\\s+1\\s+0\\s+0\\s+0\\s+-\\s+0\\s+0\\n`));
    expect(Object.keys(report.accounts)).toEqual(['hub', PROD, LOGS]);
    expect(report.accounts[PROD].grants).toMatchObject({ requested: 1, issued: 1 });
    expect(report.accounts[PROD].byState).toEqual({ verified: 1 });
    expect(report.accounts[LOGS].byState).toEqual({ active: 1 });
    expect(report.accounts.hub.byState).toEqual({ active: 1 });
    expect(byAgent.accounts).toBeUndefined();
    expect(html.code).toBe(0);
    const page = await readFile(file, 'utf8');
    expect(page).toContain('<table id="per-account">');
    expect(page).toContain(`<tr><th>${PROD}</th><td>1</td><td>1</td>`);
  });

  it('refuses a breakdown it does not know, saying which it knows', async () => {
    const result = await taskbound('report', '--by', 'region');
    expect(result).toMatchObject({ code: 2, stderr: expect.stringContaining('--by: "region" is not one of agent, account') });
  });
});
