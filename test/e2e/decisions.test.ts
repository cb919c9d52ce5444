import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect } from '../../cli/clients';
import { runCli } from '../../cli/program';
import { GRANT_TABLE } from '../../lambdas/adapters/aws/grant-table';
import { LOCAL_TABLE } from '../../lambdas/local/engine';
import { LOCAL_CREDENTIALS, localClientConfig } from '../../lambdas/local/host/sdk-clients';
import { AgentRuntime } from '../helpers/agent-runtime';
import { startHarness, type Harness } from './local-engine';
import { signOperatorPost, signedOperatorPost } from '../helpers/signed-operator-post';

describe('local engine: decisions count only from authenticated people', () => {
  let h: Harness;
  let dataDir: string;
  let rejected: DynamoDBDocumentClient;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'taskbound-decisions-'));
    h = await startHarness({ dataDir });
    rejected = DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig(h.engine.url)));
  });
  afterAll(async () => {
    rejected.destroy();
    await h.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** `taskbound --endpoint <engine> ARGS`, as a user types it. */
  async function cli(...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (line: string) => void out.push(line), err: (line: string) => void err.push(line) };
    const code = await runCli(['--endpoint', h.engine.url, ...argv], {
      io,
      connect: (flags, cliIo) => connect(flags, cliIo, { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_PROFILE: '' }),
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }
  const asPerson = (person: string) => ['--as', person, '--data-dir', dataDir];

  async function rejectedToday(detailType: string) {
    const answer = await rejected.send(
      new QueryCommand({
        TableName: LOCAL_TABLE,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': GRANT_TABLE.partitionKey },
        ExpressionAttributeValues: { ':pk': `REJECTED#${new Date().toISOString().slice(0, 10)}` },
      }),
    );
    return (answer.Items ?? []).filter((item) => item.detailType === detailType);
  }

  async function pending(agentId: string, taskId: string, scopes: string[]) {
    await h.runtime.startTask({ agentId, taskId, purpose: 'e2e', requestedBy: 'dev@example.com', scopes });
    return (await h.runtime.waitForDelivery(agentId, taskId, ['pending_approval'])).grantId;
  }

  it('keeps one key per person of the policy in a file only its owner can read', async () => {
    expect(h.engine.operatorCredentialsFile).toBe(join(dataDir, 'operator-credentials.json'));
    expect((await stat(h.engine.operatorCredentialsFile as string)).mode & 0o777).toBe(0o600);
    expect(Object.keys(h.engine.operatorCredentials.people).sort()).toEqual(['cfo@example.com', 'lead@example.com', 'sre@example.com']);
  });

  it('never counts a forged bus approval, from any source and naming any approver, and records it', async () => {
    const grantId = await pending('deploy-bot', 'forged-1', ['deploy-web']);
    // The bus refuses `taskbound.slack` from anyone but the Slack function (the engine's own key locally): signed as
    // the engine, it shows that not even the engine's Slack source makes a bus decision count.
    const asEngine = new AgentRuntime({ endpoint: h.engine.url, credentials: LOCAL_CREDENTIALS });
    try {
      for (const [sender, source] of [
        [h.runtime, 'taskbound.cli'],
        [asEngine, 'taskbound.slack'],
        [h.runtime, 'attacker.tool'],
      ] as const) {
        await sender.emit('Grant Decision', { grantId, decision: 'approve', approver: 'lead@example.com', reason: 'forged' }, source);
      }
    } finally {
      asEngine.close();
    }
    await h.engine.bus.idle();
    const grant = await h.waitForGrant('deploy-bot', 'forged-1', ['pending_approval']);
    expect(grant.approvals).toEqual([]);
    const records = (await rejectedToday('Grant Decision')).filter((item) => String(item.excerpt).includes(grantId));
    expect(records.map((item) => item.source).sort()).toEqual(['attacker.tool', 'taskbound.cli', 'taskbound.slack']);
    await h.runtime.endTask({ agentId: 'deploy-bot', taskId: 'forged-1', outcome: 'cancelled' });
  });

  it('refuses the owner through the endpoint (exit 1, with the reason) and issues on an eligible person', async () => {
    const grantId = await pending('deploy-bot', 'ship-e2e', ['deploy-web']);
    const owner = await cli('approve', grantId, ...asPerson('sre@example.com'), '--reason', 'mine');
    expect(owner).toMatchObject({ code: 1, err: expect.stringContaining('sre@example.com owns agent "deploy-bot"') });
    const lead = await cli('approve', grantId, ...asPerson('lead@example.com'), '--reason', 'release train', '--json');
    expect(lead.code).toBe(0);
    expect(JSON.parse(lead.out)).toEqual({ outcome: 'issued', grantId, person: 'lead@example.com' });
    expect(await h.runtime.whoAmI(await h.runtime.waitForDelivery('deploy-bot', 'ship-e2e', ['issued']))).toMatchObject({ ok: true });
    await h.runtime.endTask({ agentId: 'deploy-bot', taskId: 'ship-e2e', outcome: 'succeeded' });
    await h.waitForGrant('deploy-bot', 'ship-e2e', ['verified']);
  });

  it('does not let one operator satisfy dual control by signing twice', async () => {
    const grantId = await pending('finance-bot', 'refund-e2e', ['refund']);
    expect(await cli('approve', grantId, ...asPerson('lead@example.com'), '--reason', 'first')).toMatchObject({
      code: 0,
      out: expect.stringContaining('counted; 1 more'),
    });
    expect(await cli('approve', grantId, ...asPerson('lead@example.com'), '--reason', 'again')).toMatchObject({
      code: 1,
      err: expect.stringContaining('one approver counts once'),
    });
    expect(
      (await h.waitForGrant('finance-bot', 'refund-e2e', ['pending_approval'])).approvals.map((approval) => approval.approver),
    ).toEqual(['lead@example.com']);
    expect(await cli('approve', grantId, ...asPerson('sre@example.com'), '--reason', 'second person')).toMatchObject({
      code: 0,
      out: expect.stringContaining('credential issued'),
    });
  });

  it('refuses a bad signature, an unknown key and a person the engine holds no key for', async () => {
    const grantId = await pending('deploy-bot', 'sig-e2e', ['deploy-web']);
    const lead = h.engine.operatorCredentials.people['lead@example.com'];
    const wrongSecret = await signedPost(
      { accessKeyId: lead?.accessKeyId ?? '', secretAccessKey: 'x'.repeat(40) },
      { action: 'approve', grantId, reason: 'forged' },
    );
    expect(wrongSecret).toEqual({ status: 403, body: { outcome: 'refused', reason: expect.stringContaining('SignatureDoesNotMatch') } });
    const unknownKey = await signedPost(
      { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'y'.repeat(40) },
      { action: 'approve', grantId, reason: 'forged' },
    );
    expect(unknownKey).toEqual({ status: 403, body: { outcome: 'refused', reason: expect.stringContaining('InvalidClientTokenId') } });
    await h.runtime.startTask({
      agentId: 'release-bot',
      taskId: 'agent-decides',
      purpose: 'e2e',
      requestedBy: 'dev@example.com',
      scopes: ['repo-read'],
    });
    const agentKey = await h.runtime.waitForDelivery('release-bot', 'agent-decides', ['issued']);
    const byAgent = await signedPost(
      { accessKeyId: agentKey.accessKeyId ?? '', secretAccessKey: agentKey.secretAccessKey ?? '' },
      { action: 'approve', grantId, reason: 'an agent approving' },
    );
    expect(byAgent).toEqual({ status: 403, body: { outcome: 'refused', reason: expect.stringContaining('InvalidClientTokenId') } });
    const stsSigned = await signedPost(
      lead ?? { accessKeyId: '', secretAccessKey: '' },
      { action: 'approve', grantId, reason: 'wrong service' },
      'sts',
    );
    expect(stsSigned.body.reason).toMatch(/sign for service "lambda"/);
    expect(await cli('approve', grantId, ...asPerson('intern@example.com'), '--reason', 'x')).toMatchObject({
      code: 2,
      err: expect.stringContaining('holds no key for this person'),
    });
    expect((await h.waitForGrant('deploy-bot', 'sig-e2e', ['pending_approval'])).approvals).toEqual([]);
    expect((await rejectedToday('Operator Request')).length).toBeGreaterThanOrEqual(3);
    await h.runtime.endTask({ agentId: 'deploy-bot', taskId: 'sig-e2e', outcome: 'cancelled' });
  });

  it('signs with the AWS SDK default credential chain when --as is absent, as an operator on AWS does', async () => {
    const grantId = await pending('deploy-bot', 'chain-e2e', ['deploy-web']);
    const cfo = h.engine.operatorCredentials.people['cfo@example.com'];
    vi.stubEnv('AWS_ACCESS_KEY_ID', cfo?.accessKeyId ?? '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', cfo?.secretAccessKey ?? '');
    try {
      const answer = await cli('deny', grantId, '--reason', 'not in the approver group', '--json');
      expect(answer.code).toBe(1);
      expect(JSON.parse(answer.out)).toEqual({
        outcome: 'refused',
        reason: 'cfo@example.com is not in the approver group for this grant',
        grantId,
        person: 'cfo@example.com',
      });
    } finally {
      vi.unstubAllEnvs();
    }
    await h.runtime.endTask({ agentId: 'deploy-bot', taskId: 'chain-e2e', outcome: 'cancelled' });
  });

  it('lifts a suspension only through the endpoint', async () => {
    await h.runtime.emit('Agent Suspended', { agentId: 'ops-bot', by: 'secops@example.com', reason: 'drill' });
    await h.engine.bus.idle();
    await h.runtime.emit('Agent Resumed', { agentId: 'ops-bot', by: 'secops@example.com', reason: 'forged' }, 'taskbound.cli');
    await h.engine.bus.idle();
    expect((await h.grants.getAgent('ops-bot')).suspended).toBe(true);
    expect(h.alerts.join('\n')).toContain('Resume not counted: ops-bot');
    expect(await cli('resume', 'ops-bot', ...asPerson('cfo@example.com'), '--reason', 'drill over')).toMatchObject({
      code: 0,
      out: 'agent ops-bot resumed as cfo@example.com',
    });
    expect(await h.grants.getAgent('ops-bot')).toMatchObject({ suspended: false, by: 'cfo@example.com' });
  });

  it('refuses fuzzed bodies from an authenticated person with a clear reason and keeps serving', async () => {
    const grantId = await pending('deploy-bot', 'fuzz-e2e', ['deploy-web']);
    const lead = h.engine.operatorCredentials.people['lead@example.com'] ?? { accessKeyId: '', secretAccessKey: '' };
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((value) => JSON.stringify(value)),
        ),
        async (body) => {
          const answer = await signedPost(lead, body);
          expect(answer.status).toBe(400);
          expect(answer.body.reason).toMatch(/^(request body is not JSON|invalid request: .+)$/);
        },
      ),
      { numRuns: 60 },
    );
    expect((await fetch(`${h.engine.url}/healthz`)).status).toBe(200);
    expect(await cli('deny', grantId, ...asPerson('lead@example.com'), '--reason', 'after the storm')).toMatchObject({
      code: 0,
      out: expect.stringContaining('denied'),
    });
  });

  it('records a body over the local size limit as a refusal, with its size and never the body', async () => {
    const lead = h.engine.operatorCredentials.people['lead@example.com'] ?? { accessKeyId: '', secretAccessKey: '' };
    const marker = 'OVERSIZED-BODY-MARKER';

    const answer = await signedPost(lead, { action: 'approve', grantId: 'g-abcdefghijklmnopqrstuvwxyz', reason: marker.repeat(110_000) });

    expect(answer).toEqual({
      status: 413,
      body: {
        outcome: 'refused',
        reason: expect.stringMatching(/^request body is \d+ bytes, over the local operator endpoint's limit of 2097152 bytes/),
      },
    });
    const recorded = (await rejectedToday('Operator Request')).filter((item) => item.reason === answer.body.reason);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]?.excerpt).toContain(`${lead.accessKeyId} (claimed, not verified)`);
    expect(recorded[0]?.excerpt).not.toContain(marker);
    expect((await fetch(`${h.engine.url}/healthz`)).status).toBe(200);
  });

  it('never lets a captured resume request, sent again, lift a later suspension', async () => {
    const cfo = h.engine.operatorCredentials.people['cfo@example.com'] ?? { accessKeyId: '', secretAccessKey: '' };
    await h.runtime.emit('Agent Suspended', { agentId: 'ops-bot', by: 'secops@example.com', reason: 'first leak' });
    await h.engine.bus.idle();
    const { send } = await signOperatorPost(h.engine.operatorUrl, cfo, { action: 'resume', agentId: 'ops-bot', reason: 'all clear' });
    expect((await send()).body.outcome).toBe('resumed');

    // X-Amz-Date has whole seconds: the second suspension comes a second after the signature.
    await new Promise((done) => setTimeout(done, 1_100));
    await h.runtime.emit('Agent Suspended', { agentId: 'ops-bot', by: 'secops@example.com', reason: 'second leak' });
    await h.engine.bus.idle();
    const replayed = await send();

    expect(replayed).toEqual({
      status: 403,
      body: expect.objectContaining({
        outcome: 'refused',
        reason: expect.stringContaining('a resume lifts no suspension made after it was signed'),
      }),
    });
    expect(await cli('agents', 'show', 'ops-bot', '--json')).toMatchObject({ code: 0, out: expect.stringContaining('second leak') });
    await h.runtime.startTask({
      agentId: 'ops-bot',
      taskId: 'after-replay',
      purpose: 'e2e',
      requestedBy: 'dev@example.com',
      scopes: ['reports-upload-key'],
    });
    expect(await h.runtime.waitForDelivery('ops-bot', 'after-replay', ['issued', 'denied'])).toMatchObject({
      status: 'denied',
      reason: expect.stringContaining('suspended'),
    });
    expect((await rejectedToday('Operator Request')).map((item) => item.reason)).toContain(replayed.body.reason);
  });

  /** A POST to the operator route signed by hand, as any SigV4 client would sign it. */
  function signedPost(credentials: { accessKeyId: string; secretAccessKey: string }, payload: unknown, service = 'lambda') {
    return signedOperatorPost(h.engine.operatorUrl, credentials, payload, { service });
  }
});
