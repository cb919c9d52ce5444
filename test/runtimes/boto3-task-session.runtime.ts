// examples/python-runtime/taskbound_task.py: a boto3 Session whose credentials re-read the delivery
// every so often (not before every call, as botocore does with a credential_process near its expiry),
// and refuse once the task has ended.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../e2e/local-engine';
import { runPythonCases } from './processes';

describe('a boto3 task session read from the delivery', () => {
  let h: Harness;
  let seen: Map<string, Record<string, unknown>>;
  beforeAll(async () => {
    h = await startHarness();
    const cases = await runPythonCases('task_session.py', h.engine.url);
    expect(cases.finished.stderr).toBe('');
    expect(cases.finished.code).toBe(0);
    seen = cases.seen;
  });
  afterAll(async () => {
    await h.stop();
  });

  it('raises InvalidTaskIds at once for a task id the engine would refuse without a delivery, instead of waiting 60 s', () => {
    expect(seen.get('invalid task id')).toMatchObject({
      raised: 'InvalidTaskIds',
      message: expect.stringContaining("taskId 'nightly audit/1' must be 1-128 of A-Za-z0-9._:-"),
    });
    expect(seen.get('invalid task id')?.seconds).toBeLessThan(1);
  });

  it('raises TaskDenied with the engine reason when the task is refused', () => {
    expect(seen.get('denied')).toMatchObject({ raised: 'TaskDenied', reason: expect.stringContaining('deploy-web') });
  });

  it('works as the task, re-reading the delivery at most once a second rather than before every call', () => {
    const working = seen.get('working')!;
    expect(working.arns).toEqual([expect.stringMatching(/^arn:aws:sts::000000000000:assumed-role\/taskbound-agent-release-bot\/g-/)]);
    expect(working.rereads).toBeLessThanOrEqual(1 + Math.floor(Number(working.seconds)));
  });

  it('raises CredentialRevoked at the first call after the next re-read once the task has ended', () => {
    expect(seen.get('ended')).toMatchObject({ raised: 'CredentialRevoked', message: expect.stringMatching(/^revoked: /) });
  });

  it('reads a delivery refused for a moment (created, not yet locked to it) as not delivered yet, and raises a refusal past the grace', () => {
    expect(seen.get('refused, then locked')).toMatchObject({ status: 'issued', left: 0 });
    expect(seen.get('refused for good')).toMatchObject({ raised: 'AccessDeniedException' });
  });
});
