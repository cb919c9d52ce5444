// E2E test (local engine as a child process): a scope narrowed under the same name in the policy
// file takes back what it withdrew. The engine restarted on the edited file revokes the live grant
// issued under the wider definition (its credential cannot be narrowed in place), a new task gets
// the narrower policy, and a grant whose scope was only widened keeps working.
import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyVersionOf } from '../../lambdas/domain/policy';
import { AgentRuntime, type Delivery } from '../helpers/agent-runtime';
import { freeLoopbackPort, startEngineProcess, type EngineProcess } from './engine-process';
import { issuedAndActive, readGrantTable, type GrantTableReader } from './grant-table-reader';
import { EXAMPLE_POLICY } from './local-engine';

const REPO_WRITE = '[codecommit:GitPush, codecommit:CreateBranch], Resource: "arn:aws:codecommit:us-east-1:111122223333:web" }';
const REPO_READ = 'Action: [codecommit:GitPull], Resource';
/** repo-write may also describe and read the Stripe key: the statement the edit narrows. */
const SECRETS_STATEMENT = (actions: string) =>
  `\n      - { Effect: Allow, Action: [${actions}], Resource: "arn:aws:secretsmanager:us-east-1:*:secret:stripe-key-*" }`;
const BEFORE = 'secretsmanager:GetSecretValue, secretsmanager:DescribeSecret';
const AFTER = 'secretsmanager:GetSecretValue';

const NARROWED = { agentId: 'release-bot', taskId: 'issued-wide', scopes: ['repo-write'] };
const WIDENED = { agentId: 'deploy-bot', taskId: 'read-widened', scopes: ['repo-read'] };
const AFTER_EDIT = { agentId: 'release-bot', taskId: 'issued-narrow', scopes: ['repo-write'] };

const describeKey = () => new DescribeSecretCommand({ SecretId: 'stripe-key' });
const readKey = () => new GetSecretValueCommand({ SecretId: 'stripe-key' });

describe('local engine: a scope narrowed under the same name revokes what was issued under the wider one', () => {
  let dir: string;
  let policyFile: string;
  let engine: EngineProcess | undefined;
  let runtime: AgentRuntime | undefined;
  let grants: GrantTableReader | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskbound-narrowed-scope-'));
    policyFile = join(dir, 'taskbound.policy.yaml');
    const example = await readFile(EXAMPLE_POLICY, 'utf8');
    const wide = example.replace(REPO_WRITE, `${REPO_WRITE}${SECRETS_STATEMENT(BEFORE)}`);
    expect(wide, 'the example policy defines repo-write as the test expects').not.toBe(example);
    await writeFile(policyFile, wide);
  });

  afterAll(async () => {
    runtime?.close();
    grants?.close();
    await engine?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (dataDir: string, port: number) => {
    engine = await startEngineProcess({ dataDir, port, policyFile });
    runtime = new AgentRuntime({ endpoint: engine.url });
    grants = readGrantTable(engine.url);
  };
  const issue = (task: typeof NARROWED): Promise<Delivery> => issuedAndActive(runtime!, grants!, task, 'narrowed scope test');
  /** `ok`, or the refusal's name: what a call with the task's credential gets from the local Secrets Manager. */
  const callAs = async (delivery: Delivery, command: DescribeSecretCommand | GetSecretValueCommand) =>
    (await runtime!.secretsManagerAs(delivery, (client) => client.send(command as DescribeSecretCommand))).split(':')[0];

  it('revokes at the restart the grant whose scope lost an action, and issues the next task the narrower policy', async () => {
    const port = await freeLoopbackPort();
    const dataDir = join(dir, 'state');
    await start(dataDir, port);
    const [wide, widened] = [await issue(NARROWED), await issue(WIDENED)];
    expect(await callAs(wide, describeKey())).toBe('ok');
    await engine!.kill();
    grants!.close();
    runtime!.close();

    const text = await readFile(policyFile, 'utf8');
    const edited = text
      .replace(SECRETS_STATEMENT(BEFORE), SECRETS_STATEMENT(AFTER))
      .replace(REPO_READ, 'Action: [codecommit:GitPull, codecommit:GetBranch], Resource');
    expect(edited.length, 'both edits applied').toBe(
      text.length - ', secretsmanager:DescribeSecret'.length + ', codecommit:GetBranch'.length,
    );
    await writeFile(policyFile, edited);
    await start(dataDir, port);

    const revoked = await grants!.waitFor(NARROWED.agentId, NARROWED.taskId, ['verified'], 20_000);
    expect(revoked.revocation?.reason).toBe(
      `the policy in force (${policyVersionOf(edited)}) narrowed what it was issued: scope "repo-write" no longer allows 1 of the ` +
        'action-resource pairs the grant was issued (removed, or changed: an action, resource or condition)',
    );
    expect(await runtime!.whoAmI(wide)).toMatchObject({ ok: false });
    expect(await callAs(wide, readKey())).not.toBe('ok');
    // Only widened: kept, and still works.
    expect(await runtime!.whoAmI(widened)).toMatchObject({ ok: true });
    expect((await grants!.waitFor(WIDENED.agentId, WIDENED.taskId, ['active'])).state).toBe('active');

    const narrow = await issue(AFTER_EDIT);
    expect(await callAs(narrow, readKey())).toBe('ok');
    expect(await callAs(narrow, describeKey())).toBe('AccessDeniedException');
  }, 90_000);
});
