// E2E test (local engine as a child process): a scope taken from an agent in the policy file takes
// the credentials it was issued with it. The engine restarted on the changed file revokes the live
// grant the file no longer allows, and STS refuses its credential; another agent's keeps working.
// An account retired from the policy (`retiredAccounts`) loses its access keys the same way.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { AgentRuntime, type Delivery } from '../helpers/agent-runtime';
import { freeLoopbackPort, startEngineProcess, type EngineProcess } from './engine-process';
import { issuedAndActive, readGrantTable, type GrantTableReader } from './grant-table-reader';
import { EXAMPLE_POLICY } from './local-engine';

const WITHDRAWN = { agentId: 'release-bot', taskId: 'push-after-withdrawal', scopes: ['repo-write'] };
const KEPT = { agentId: 'deploy-bot', taskId: 'still-allowed', scopes: ['repo-read'] };

describe('local engine: a policy change revokes what the new policy no longer allows', () => {
  let dir: string;
  let policyFile: string;
  let engine: EngineProcess | undefined;
  let runtime: AgentRuntime | undefined;
  let grants: GrantTableReader | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskbound-policy-change-'));
    policyFile = join(dir, 'taskbound.policy.yaml');
    await writeFile(policyFile, await readFile(EXAMPLE_POLICY, 'utf8'));
  });

  afterAll(async () => {
    runtime?.close();
    grants?.close();
    await engine?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  const issue = (task: typeof WITHDRAWN): Promise<Delivery> => issuedAndActive(runtime!, grants!, task, 'policy change test');

  it('revokes, at the restart, a live grant whose scope the agent no longer holds', async () => {
    const port = await freeLoopbackPort();
    const dataDir = join(dir, 'state');
    engine = await startEngineProcess({ dataDir, port, policyFile });
    runtime = new AgentRuntime({ endpoint: engine.url });
    grants = readGrantTable(engine.url);
    const [withdrawn, kept] = [await issue(WITHDRAWN), await issue(KEPT)];
    await engine.kill();
    grants.close();
    runtime.close();

    const text = await readFile(policyFile, 'utf8');
    const narrowed = text.replace('scopes: [repo-read, repo-write]', 'scopes: [repo-read]');
    expect(narrowed, 'the example policy gives release-bot repo-read and repo-write').not.toBe(text);
    await writeFile(policyFile, narrowed);
    engine = await startEngineProcess({ dataDir, port, policyFile });
    runtime = new AgentRuntime({ endpoint: engine.url });
    grants = readGrantTable(engine.url);

    const revoked = await grants.waitFor(WITHDRAWN.agentId, WITHDRAWN.taskId, ['verified'], 20_000);
    expect(revoked.revocation?.reason).toContain('scope "repo-write" is not allowed for agent "release-bot"');
    expect(await runtime.whoAmI(withdrawn)).toMatchObject({ ok: false });
    expect(await runtime.whoAmI(kept)).toMatchObject({ ok: true });
    expect((await grants.waitFor(KEPT.agentId, KEPT.taskId, ['active'])).state).toBe('active');
  }, 90_000);
});

/**
 * Locally every account is emulated in the one process, so this proves the file and the flow end to end;
 * that the hub may still reach a retired account on AWS is for test/unit/composition/account-issuers.test.ts
 * and test/policy/spoke-policies.test.ts (the IAM evaluator) to show.
 */
describe('local engine: retiring an account revokes the access key that lives there', () => {
  const PROD = '444455556666';
  const IN_PROD = { agentId: 'ops-bot', taskId: 'key-in-prod', scopes: ['prod-key'] };
  let dir: string;
  let engine: EngineProcess | undefined;
  let runtime: AgentRuntime | undefined;
  let grants: GrantTableReader | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskbound-retired-account-'));
  });

  afterAll(async () => {
    runtime?.close();
    grants?.close();
    await engine?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('revokes and proves dead, at the restart, a key in an account the policy now retires', async () => {
    const policyFile = join(dir, 'orgs.policy.yaml');
    const policy = parse(await readFile(resolve(import.meta.dirname, '../infra/fixtures/orgs.policy.yaml'), 'utf8'));
    await writeFile(policyFile, stringify(policy));
    const port = await freeLoopbackPort();
    const dataDir = join(dir, 'state');
    engine = await startEngineProcess({ dataDir, port, policyFile });
    runtime = new AgentRuntime({ endpoint: engine.url });
    grants = readGrantTable(engine.url);
    const key = await issuedAndActive(runtime, grants, IN_PROD, 'retired account test');
    expect(key.accessKeyId).toMatch(/^AKIA/);
    await engine.kill();
    grants.close();
    runtime.close();

    // Production retired: its scopes go, and the account is listed so the engine still reaches it.
    delete policy.scopes['prod-deploy'];
    delete policy.scopes['prod-key'];
    policy.agents['ops-bot'].scopes = ['hub-read', 'logs-read'];
    policy.retiredAccounts = [PROD];
    await writeFile(policyFile, stringify(policy));
    engine = await startEngineProcess({ dataDir, port, policyFile });
    runtime = new AgentRuntime({ endpoint: engine.url });
    grants = readGrantTable(engine.url);

    const revoked = await grants.waitFor(IN_PROD.agentId, IN_PROD.taskId, ['verified'], 20_000);
    expect(revoked).toMatchObject({ account: PROD, credentialKind: 'aws-iam-access-key' });
    expect(await runtime.whoAmI(key)).toMatchObject({ ok: false });
  }, 90_000);
});
