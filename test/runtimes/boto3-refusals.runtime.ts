// A boto3 runtime written from the docs alone (test/runtimes/python/refusals.py), against the local
// engine: every refusal it meets is one it can act on, in botocore's own parsing, with no secret in it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../e2e/local-engine';
import { runPythonCases } from './processes';

describe('what a boto3 runtime sees of each refusal', () => {
  let h: Harness;
  let seen: Map<string, Record<string, unknown>>;
  let output: string;
  beforeAll(async () => {
    h = await startHarness();
    const cases = await runPythonCases('refusals.py', h.engine.url);
    expect(cases.finished.stderr).toBe('');
    expect(cases.finished.code).toBe(0);
    ({ output, seen } = cases);
  });
  afterAll(async () => {
    await h.stop();
  });

  it('reads why an invalid Task Started was refused from its delivery, at once, instead of waiting for one that never comes', () => {
    expect(seen.get('invalid start')).toMatchObject({
      status: 'denied',
      reason: `invalid Task Started event: detail.ttlSeconds: at most 43,200 seconds (12 hours; an aws-sts-session scope at most 3,600, STS's limit for a chained role session); the agent's maxTtlSeconds in the policy may allow less`,
    });
    expect(seen.get('invalid start')?.waited).toBeLessThan(2);
  });

  it("works as the task's session for a call it may make, and gets AWS's AccessDenied for one its scope does not allow", () => {
    const allowed = seen.get('allowed');
    expect(allowed?.arn).toBe(`arn:aws:sts::000000000000:assumed-role/taskbound-agent-release-bot/${String(allowed?.grantId)}`);
    expect(seen.get('not allowed')).toMatchObject({
      code: 'AccessDeniedException',
      status: 400,
      message: expect.stringMatching(
        /is not authorized to perform: secretsmanager:ListSecrets on resource: \* because no session policy allows/,
      ),
    });
  });

  it('is told which services the local engine emulates when it calls another (S3 over REST-XML)', () => {
    expect(seen.get('not emulated')).toMatchObject({
      code: 'UnknownOperationException',
      status: 400,
      message: expect.stringMatching(
        /^No local service handles s3 GET \/\. The local engine emulates EventBridge PutEvents, Secrets Manager, STS/,
      ),
    });
  });

  it('after Task Ended, gets InvalidClientTokenId with its credential and finds the delivery gone', () => {
    expect(seen.get('ended')).toMatchObject({ code: 'InvalidClientTokenId', status: 403, delivery: 'ResourceNotFoundException' });
  });

  it('gets MissingAuthenticationToken from STS for an unsigned call, parsed by botocore rather than failing to parse', () => {
    expect(seen.get('unsigned sts')).toMatchObject({ code: 'MissingAuthenticationToken', status: 403 });
  });

  it('sees its credential refused after a Task Ended whose outcome the contract does not name (it still ends the task)', () => {
    expect(seen.get('ended with a bad outcome')).toMatchObject({ code: 'InvalidClientTokenId', status: 403 });
  });

  it('never meets secret material in a refusal', () => {
    expect(output).not.toMatch(/[A-Za-z0-9/+]{40}/);
    expect(output).not.toMatch(/secretAccessKey|sessionToken/);
  });
});
