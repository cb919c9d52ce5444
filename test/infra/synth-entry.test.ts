// Tests: `cdk synth` runs bin/app.ts (and bin/spoke.ts); a bad setting must end it with the
// setting's message and exit 1, not a stack trace. CDK hands the context over in CDK_CONTEXT_JSON.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');

function synth(entry: 'bin/app.ts' | 'bin/spoke.ts', context: Record<string, unknown>) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', resolve(ROOT, entry)], {
    cwd: ROOT,
    env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: mkdtempSync(resolve(tmpdir(), 'taskbound-synth-')) },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: run.status, stderr: run.stderr };
}

describe('the CDK entry points', () => {
  it.each(['bin/app.ts', 'bin/spoke.ts'] as const)(
    '%s: a policy file that cannot be read names the setting, no stack trace (exit 1)',
    (entry) => {
      const { code, stderr } = synth(entry, {
        'taskbound:policyFile': 'policies/prod.yaml',
        taskboundSpoke: { hubEngineRoleArns: ['arn:aws:iam::111122223333:role/taskbound-engine/taskbound-sweep-us-east-1'] },
      });
      expect(code).toBe(1);
      expect(stderr).toContain('policyFile: cannot read the policy file (ENOENT): policies/prod.yaml, read as');
      expect(stderr).not.toMatch(/^\s+at /m);
    },
  );

  // The hub's EngineRoleArns output goes in taskboundSpoke: forgotten or mistyped on the command line,
  // synth must say what to type, not print zod's "expected object" or a JSON.parse stack trace.
  it.each([
    ['is not given', {}],
    ['is not JSON', { taskboundSpoke: '{hubEngineRoleArns:arn:aws:iam::111122223333:role/x}' }],
  ])('bin/spoke.ts: a taskboundSpoke that %s says how to write it, no stack trace (exit 1)', (_case, spoke) => {
    const { code, stderr } = synth('bin/spoke.ts', { 'taskbound:policyFile': 'test/infra/fixtures/orgs.policy.yaml', ...spoke });
    expect(code).toBe(1);
    expect(stderr).toContain(`taskboundSpoke: `);
    expect(stderr).toContain(`-c 'taskboundSpoke={"hubEngineRoleArns":"<the hub's EngineRoleArns output>"}'`);
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});
