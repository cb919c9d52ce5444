// A Python runtime with boto3 through `credential_process` (examples/python-runtime), against the
// local engine: the profile line works while the task runs, and refuses once it has ended.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { devNull, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startHarness, type Harness } from '../e2e/local-engine';
import { REPO, run, runtimeEnv, taskboundCommand } from './processes';

describe('boto3 through credential_process', () => {
  let h: Harness;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    h = await startHarness();
    dir = await mkdtemp(join(tmpdir(), 'taskbound-boto3-'));
    const config = join(dir, 'config');
    await writeFile(
      config,
      `[profile taskbound-task]\ncredential_process = ${taskboundCommand(h.engine.url)} credentials --agent release-bot\n`,
    );
    env = runtimeEnv(h.engine.url, {
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: devNull,
      TASKBOUND_STATE_DIR: join(dir, 'state'),
    });
  });
  afterAll(async () => {
    await h.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('works as the task while it runs, is refused what its scopes do not allow, and after Task Ended the profile refuses with the reason', async () => {
    const example = await run('python3', [resolve(REPO, 'examples/python-runtime/runtime.py')], { env });

    expect(example.stderr).toBe('');
    expect(example.code).toBe(0);
    const [, taskId, arn] = /task (py-[0-9a-f-]+) working as (\S+)/.exec(example.stdout) ?? [];
    const grant = await h.waitForGrant('release-bot', taskId ?? 'missing', ['verified']);
    expect(arn).toContain(grant.grantId);
    expect(example.stdout).toContain(`task ${taskId} refused ListSecrets: AccessDeniedException`);
    expect(grant.revocation).toMatchObject({ trigger: 'task_ended', reason: 'task succeeded' });

    const after = await run(
      'python3',
      ['-c', "import boto3; print(boto3.Session(profile_name='taskbound-task').client('sts').get_caller_identity()['Arn'])"],
      { env: { ...env, TASKBOUND_TASK_ID: taskId } },
    );

    expect(after.code).not.toBe(0);
    expect(after.stdout).toBe('');
    expect(after.stderr).toMatch(/CredentialRetrievalError.*taskbound: revoked: /s);
  });
});
