// A shell runtime through the container credentials endpoint (examples/shell-runtime), against the
// local engine: the AWS CLI inside works as the task, and the task ends when the script does.
import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { startHarness } from '../e2e/local-engine';
import { harnessPerFile } from '../sdk/sdk-harness';
import { REPO, run, runtimeEnv, taskboundCommand } from './processes';

describe('a shell runtime through serve-credentials', () => {
  const h = harnessPerFile(startHarness);

  it('runs the AWS CLI as the task and ends the task on exit', async () => {
    const example = await run(resolve(REPO, 'examples/shell-runtime/runtime.sh'), [], {
      env: runtimeEnv(h().engine.url, { TASKBOUND: taskboundCommand(h().engine.url) }),
    });

    expect(example.stderr).toBe('');
    expect(example.code).toBe(0);
    const [, taskId] = /task (sh-[0-9-]+) ended \(succeeded\)/.exec(example.stdout) ?? [];
    const grant = await h().waitForGrant('release-bot', taskId ?? 'missing', ['verified']);
    expect(example.stdout).toMatch(
      new RegExp(`task working as arn:aws:sts::\\d+:assumed-role/\\S+/${grant.grantId}|task working with access key ASIA`),
    );
  });
});
