import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantKey } from '../../lambdas/adapters/aws/grant-table';
import { nextAuditEntry, type AuditEntry } from '../../lambdas/domain/audit';
import { grantIdFor } from '../../lambdas/domain/ids';
import { LOCAL_TABLE } from '../../lambdas/local/engine';
import { localClientConfig } from '../../lambdas/local/host/sdk-clients';
import { ocsfProblems } from '../helpers/ocsf-validator';
import { taskboundProcess } from './cli-process';
import { freeLoopbackPort, startEngineProcess, type EngineProcess } from './engine-process';
import { readGrantTable, type GrantTableReader } from './grant-table-reader';

const RELEASE = grantIdFor('release-bot', 'cli-1');
const DEPLOY = grantIdFor('deploy-bot', 'cli-ship');

describe('the taskbound CLI against the local engine, each command its own process', () => {
  let dir: string;
  let engine: EngineProcess;
  let table: GrantTableReader;
  const taskbound = (...argv: string[]) => taskboundProcess(engine.url, ...argv);
  const json = async (...argv: string[]) => {
    const result = await taskbound(...argv, '--json');
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskbound-cli-e2e-'));
    engine = await startEngineProcess({ dataDir: join(dir, 'data'), port: await freeLoopbackPort() });
    table = readGrantTable(engine.url);
    const started = await Promise.all([
      taskbound(
        'emit',
        'task-started',
        '--agent',
        'release-bot',
        '--task',
        'cli-1',
        '--purpose',
        'bump lodash',
        '--requested-by',
        'dev@example.com',
        '--scopes',
        'repo-read',
      ),
      taskbound(
        'emit',
        'task-started',
        '--agent',
        'deploy-bot',
        '--task',
        'cli-ship',
        '--purpose',
        'release 7',
        '--requested-by',
        'dev@example.com',
        '--scopes',
        'deploy-web',
      ),
    ]);
    for (const result of started) expect(result.code, result.stderr).toBe(0);
    await table.waitFor('release-bot', 'cli-1', ['active']);
    await table.waitFor('deploy-bot', 'cli-ship', ['pending_approval']);
  }, 120_000);

  afterAll(async () => {
    table?.close();
    await engine?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the inventory: every agent of the policy with its owner, scopes, status and live grants', async () => {
    const { agents, policy } = await json('agents', 'list');

    expect(policy.version).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(agents.map((agent: { agentId: string }) => agent.agentId)).toEqual(['release-bot', 'deploy-bot', 'ops-bot', 'finance-bot']);
    expect(agents[0]).toMatchObject({
      owner: 'lead@example.com',
      riskTier: 'medium',
      status: { state: 'active' },
      liveGrants: [{ grantId: RELEASE, state: 'active' }],
    });
    expect(agents[1].scopes).toContainEqual(
      expect.objectContaining({ scope: 'deploy-web', actionClass: 'deploy', approval: expect.stringMatching(/^manual: 1 of /) }),
    );
  });

  it('shows one agent with when each live grant expires: relative for people, ISO under --json', async () => {
    const [text, { agent }] = await Promise.all([taskbound('agents', 'show', 'release-bot'), json('agents', 'show', 'release-bot')]);

    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/owner:\s+lead@example.com/);
    expect(text.stdout).toMatch(new RegExp(`${RELEASE}\\s+cli-1\\s+active\\s+\\d+s ago\\s+expires in 1[45]m`));
    expect(agent.limits).toEqual({ defaultTtlSeconds: 900, maxTtlSeconds: 1800, maxConcurrentGrants: 5 });
    expect(Date.parse(agent.liveGrants[0].expiresAt) - Date.now()).toBeGreaterThan(13 * 60_000);
  });

  it("lists in `grants show` the calls the runtime made with the grant's credential", async () => {
    const secrets = new SecretsManagerClient(localClientConfig(engine.url));
    const delivery = JSON.parse(
      (await secrets.send(new GetSecretValueCommand({ SecretId: 'taskbound/release-bot/cli-1' }))).SecretString ?? '{}',
    );
    secrets.destroy();
    const credentials = {
      accessKeyId: delivery.accessKeyId,
      secretAccessKey: delivery.secretAccessKey,
      sessionToken: delivery.sessionToken,
    };
    const sts = new STSClient({ ...localClientConfig(engine.url), credentials });
    await sts.send(new GetCallerIdentityCommand({}));
    sts.destroy();

    const [shown, text] = await Promise.all([json('grants', 'show', RELEASE), taskbound('grants', 'show', RELEASE)]);

    // The engine's own probes with the credential (the session canary) are recorded too.
    expect(shown.calls).toMatchObject({
      source: 'local-engine',
      calls: expect.arrayContaining([expect.objectContaining({ service: 'sts', operation: 'GetCallerIdentity', status: 200 })]),
    });
    expect(text.stdout).toMatch(/\d+ calls? made with the credential[\s\S]*sts\s+GetCallerIdentity\s+allowed/);
  });

  it("revokes a grant and prints the engine's outcome once the credential is proven dead", async () => {
    const result = await json('revoke', RELEASE, '--reason', 'e2e', '--as', 'oncall@example.com');
    expect(result).toMatchObject({
      grantId: RELEASE,
      settled: true,
      state: 'verified',
      grant: { revocation: { trigger: 'manual', by: 'oncall@example.com' } },
    });
  });

  it('suspends an agent and waits until its pending grant is closed', async () => {
    const result = await json('suspend', 'deploy-bot', '--reason', 'drill', '--as', 'secops@example.com');
    expect(result).toMatchObject({
      agentId: 'deploy-bot',
      settled: true,
      agent: { suspended: true, by: 'secops@example.com' },
      grants: [{ grantId: DEPLOY, state: 'denied' }],
    });
    const shown = await json('agents', 'show', 'deploy-bot');
    expect(shown.agent.status).toMatchObject({ state: 'suspended', by: 'secops@example.com', reason: 'drill' });
  });

  it('sweeps and reports what was due', async () => {
    const result = await json('sweep');
    expect(result).toMatchObject({ sent: true });
  });

  it('reports the period in text, JSON and a self-contained HTML page', async () => {
    const file = join(dir, 'report.html');
    const [text, report, html] = await Promise.all([
      taskbound('report', '--since', '1h'),
      json('report', '--since', '1h'),
      taskbound('report', '--html', file),
    ]);

    expect(text.code).toBe(0);
    expect(text.stdout).toContain('grants: 2 requested, 1 issued, 1 denied');
    expect(report.overall.grants).toMatchObject({ requested: 2, issued: 1, denied: 1, pending: 0 });
    expect(report.overall.standingPrivilege.count).toBe(0);
    expect(report.overall.revocation.noticeToRevokedMs.count).toBe(1);
    expect(report.agents['deploy-bot'].suspensions.suspendedNow).toMatchObject([{ agentId: 'deploy-bot', by: 'secops@example.com' }]);
    expect(html.code).toBe(0);
    expect(await readFile(file, 'utf8')).toContain('id="chart-latency"');
  });

  it('exports the audit trail as OCSF lines that the claimed classes accept', async () => {
    const [plain, ocsf] = await Promise.all([
      taskbound('audit', 'export', '--since', '1h'),
      taskbound('audit', 'export', '--since', '1h', '--format', 'ocsf'),
    ]);
    const lines = ocsf.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));

    expect(ocsf.code).toBe(0);
    expect(lines.length).toBe(plain.stdout.trim().split('\n').length);
    expect(lines.flatMap(ocsfProblems)).toEqual([]);
    expect(new Set(lines.map((line) => line.class_uid))).toEqual(new Set([3001, 3004, 3005]));
  });

  it('verifies every audit chain, then names the grant and the link edited in the store', async () => {
    expect(await json('audit', 'verify')).toMatchObject({ ok: true, grants: 2, broken: [] });
    const dynamo = new DynamoDBClient(localClientConfig(engine.url));
    await DynamoDBDocumentClient.from(dynamo).send(
      new UpdateCommand({
        TableName: LOCAL_TABLE,
        Key: grantKey(RELEASE),
        UpdateExpression: 'SET audit[1].actor = :who',
        ExpressionAttributeValues: { ':who': 'mallory' },
      }),
    );
    dynamo.destroy();

    const [text, tampered] = await Promise.all([taskbound('audit', 'verify'), taskbound('audit', 'verify', '--json')]);

    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`BROKEN ${RELEASE} (release-bot/cli-1) at link 1: entry 1 was altered`);
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stdout)).toMatchObject({ ok: false, broken: [{ grantId: RELEASE, link: 1, why: 'entry 1 was altered' }] });
  });

  it('names, against an earlier export, a chain rewritten in the store with valid hashes', async () => {
    const exported = await taskbound('audit', 'export', '--since', '1d', '--format', 'ocsf');
    expect(exported.code, exported.stderr).toBe(0);
    const file = join(dir, 'siem-copy.ocsf.jsonl');
    await writeFile(file, exported.stdout);
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig(engine.url)));
    const { Item } = await documents.send(new GetCommand({ TableName: LOCAL_TABLE, Key: grantKey(DEPLOY) }));
    const rewritten: AuditEntry[] = [];
    for (const { seq: _seq, prevHash: _prevHash, hash: _hash, ...facts } of (Item as { audit: AuditEntry[] }).audit)
      rewritten.push(
        nextAuditEntry(DEPLOY, rewritten.at(-1), rewritten.length === 1 ? { ...facts, reason: 'approved by the CFO' } : facts),
      );
    await documents.send(
      new UpdateCommand({
        TableName: LOCAL_TABLE,
        Key: grantKey(DEPLOY),
        UpdateExpression: 'SET audit = :chain',
        ExpressionAttributeValues: { ':chain': rewritten },
      }),
    );
    documents.destroy();

    const [alone, against] = await Promise.all([taskbound('audit', 'verify'), taskbound('audit', 'verify', '--against', file)]);

    expect(alone.stdout).not.toContain(DEPLOY);
    expect(against.code).toBe(1);
    expect(against.stdout).toContain(
      `BROKEN ${DEPLOY} (deploy-bot/cli-ship) at link 1: link 1 differs from the export: the stored chain was rewritten from there`,
    );
  });

  it('exits 2 with a message on wrong usage, and 1 with what to do next when something is not found', async () => {
    const [period, agent, format, unknown, missing] = await Promise.all([
      taskbound('report', '--since', 'yesterday'),
      taskbound('agents', 'show', 'Bad_Agent'),
      taskbound('audit', 'export', '--format', 'csv'),
      taskbound('agents', 'remove', 'x'),
      taskbound('agents', 'show', 'no-such-bot'),
    ]);
    expect(period).toMatchObject({ code: 2, stderr: expect.stringContaining('--since: "yesterday" is not a period') });
    expect(agent).toMatchObject({ code: 2, stderr: expect.stringContaining('is not an agent id') });
    expect(format).toMatchObject({ code: 2, stderr: expect.stringContaining('--format: "csv" is not one of json, ocsf') });
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown command 'remove'") });
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('`taskbound agents list` shows the agents') });
  });
});
