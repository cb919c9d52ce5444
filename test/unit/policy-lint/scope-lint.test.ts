// Tests: the scope lint against the Service Authorization Reference, the privilege rules the
// schema enforces without it, and how `taskbound policy check` reports both.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyError } from '../../../lambdas/domain/errors';
import { parsePolicy } from '../../../lambdas/domain/policy-file';
import { assertPolicyLints, lintPolicy } from '../../../lambdas/policy-lint/scope-lint';
import { TEST_POLICY_YAML } from '../../helpers/test-policy';
import { harness } from '../cli/cli-harness';

/** The test policy with the repo-read scope's statement replaced (and `extra` lines added to the scope). */
const withRepoRead = (statement: string, extra = '') =>
  TEST_POLICY_YAML.replace(
    '  repo-read:\n    action: read\n    credential: aws-sts-session\n    statements:\n      - { Effect: Allow, Action: [codecommit:GitPull], Resource: "arn:aws:codecommit:us-east-1:111122223333:web" }',
    `  repo-read:\n    action: read\n    credential: aws-sts-session\n${extra}    statements:\n      - ${statement}`,
  );
const lint = async (yaml: string) => lintPolicy(parsePolicy(yaml, 'test.yaml'));

describe('lintPolicy', () => {
  it('finds nothing wrong with the example policy and the test policy', async () => {
    expect(await lint(TEST_POLICY_YAML)).toEqual([]);
  });

  it('refuses an action the Service Authorization Reference does not list, and a wildcard that matches none', async () => {
    const findings = await lint(
      withRepoRead('{ Effect: Allow, Action: [codecommit:GitPul, "codecommit:Zz*", nosuch:GetThing], Resource: "*" }'),
    );
    expect(findings).toEqual([
      expect.objectContaining({ rule: 'unknown-action', severity: 'error', path: ['scopes', 'repo-read', 'statements', 0, 'Action', 0] }),
      expect.objectContaining({ rule: 'unknown-action', path: ['scopes', 'repo-read', 'statements', 0, 'Action', 1] }),
      expect.objectContaining({ rule: 'unknown-service', path: ['scopes', 'repo-read', 'statements', 0, 'Action', 2] }),
    ]);
  });

  it('refuses a read scope that holds a write, and accepts Read and List wildcards', async () => {
    const write = await lint(withRepoRead('{ Effect: Allow, Action: codecommit:GitPush, Resource: "*" }'));
    expect(write).toEqual([
      expect.objectContaining({ rule: 'class-access-level', path: ['scopes', 'repo-read', 'statements', 0, 'Action'] }),
    ]);
    expect(write[0]?.message).toMatch(/allows Write actions \(codecommit:GitPush\); a read scope may hold only Read, List/);
    expect(await lint(withRepoRead('{ Effect: Allow, Action: ["ec2:Describe*", "s3:List*"], Resource: "*" }'))).toEqual([]);
  });

  it('refuses permissions management in any class unless the scope is privileged', async () => {
    const writeScope = TEST_POLICY_YAML.replace('Action: [codecommit:GitPush]', 'Action: ["s3:Put*"]');
    const findings = await lint(writeScope);
    expect(findings).toEqual([
      expect.objectContaining({ rule: 'permissions-management', path: ['scopes', 'repo-write', 'statements', 0, 'Action', 0] }),
    ]);
    expect(findings[0]?.message).toMatch(/allows permissions management \(s3:Put\w+Policy, .* and \d+ more\)/);
  });

  it.each([['iam:CreateAccessKey'], ['iam:AddUserToGroup'], ['lambda:UpdateFunctionCode'], ['ssm:SendCommand']])(
    'refuses %s, which acts as another identity, unless the scope is privileged',
    async (action) => {
      const findings = await lint(TEST_POLICY_YAML.replace('Action: [codecommit:GitPush]', `Action: [${action}]`));
      expect(findings).toEqual([
        expect.objectContaining({
          rule: 'identity-takeover',
          severity: 'error',
          path: ['scopes', 'repo-write', 'statements', 0, 'Action', 0],
        }),
      ]);
      const privileged = TEST_POLICY_YAML.replace(
        '  repo-write:\n    action: write\n',
        '  repo-write:\n    action: deploy\n    privileged: true\n',
      ).replace('Action: [codecommit:GitPush]', `Action: [${action}]`);
      expect(
        (await lint(privileged.replace('scopes: [repo-read, repo-write]', 'scopes: [repo-read]'))).filter(
          (finding) => finding.severity === 'error',
        ),
      ).toEqual([]);
    },
  );

  it('lets a privileged scope hold permissions management, warning that role chaining stays denied', async () => {
    const yaml = TEST_POLICY_YAML.replace(
      '  deploy-web:\n    action: deploy\n',
      '  deploy-web:\n    action: deploy\n    privileged: true\n',
    ).replace('Action: [codedeploy:CreateDeployment]', 'Action: ["iam:*", "sts:AssumeRole"]');
    const findings = await lint(yaml);
    expect(findings.filter((finding) => finding.severity === 'error')).toEqual([]);
    expect(findings).toContainEqual(
      expect.objectContaining({
        severity: 'warning',
        rule: 'role-chaining-denied',
        path: ['scopes', 'deploy-web', 'statements', 0, 'Action', 1],
      }),
    );
  });

  it('warns of every session-minting action the boundary denies, federation tokens included', async () => {
    const yaml = TEST_POLICY_YAML.replace(
      '  deploy-web:\n    action: deploy\n',
      '  deploy-web:\n    action: deploy\n    privileged: true\n',
    ).replace('Action: [codedeploy:CreateDeployment]', 'Action: ["sts:GetFederationToken"]');
    expect(await lint(yaml)).toContainEqual(
      expect.objectContaining({
        severity: 'warning',
        rule: 'role-chaining-denied',
        path: ['scopes', 'deploy-web', 'statements', 0, 'Action', 0],
      }),
    );
  });

  it('warns about a scope no agent holds (it is left out of the boundary)', async () => {
    const yaml = TEST_POLICY_YAML.replace(
      'scopes: [repo-read, deploy-web, refund, bucket-read-key]',
      'scopes: [repo-read, deploy-web, refund]',
    );
    expect(await lint(yaml)).toEqual([
      expect.objectContaining({ severity: 'warning', rule: 'unassigned-scope', path: ['scopes', 'bucket-read-key'] }),
    ]);
  });

  it('throws a PolicyError naming file, path, problem and rule when any finding is an error', async () => {
    const policy = parsePolicy(withRepoRead('{ Effect: Allow, Action: codecommit:GitPush, Resource: "*" }'), 'test.yaml');
    await expect(assertPolicyLints(policy)).rejects.toThrow(PolicyError);
    await expect(assertPolicyLints(policy)).rejects.toThrow(
      /^test\.yaml: invalid policy\n {2}- scopes\.repo-read\.statements\.0\.Action: .*\[class-access-level\]$/,
    );
  });
});

describe('privilege rules at load (no Service Authorization Reference needed)', () => {
  const refused = (yaml: string) => {
    try {
      parsePolicy(yaml, 'test.yaml');
    } catch (error) {
      if (error instanceof PolicyError) return error.issues;
    }
    return [];
  };

  it.each([
    ['"*"', 'Action: "*"', 'scopes.repo-read.statements.0.Action.0'],
    ['iam:*', 'Action: ["iam:*"]', 'scopes.repo-read.statements.0.Action.0'],
    ['iam:PassRole', 'Action: [iam:PassRole]', 'scopes.repo-read.statements.0.Action.0'],
    ['sts:AssumeRole*', 'Action: ["sts:Assume*"]', 'scopes.repo-read.statements.0.Action.0'],
    ['NotAction', 'NotAction: [s3:DeleteBucket]', 'scopes.repo-read.statements.0.NotAction'],
  ])('refuses %s in a scope that does not say privileged: true', (_name, action, path) => {
    const issues = refused(withRepoRead(`{ Effect: Allow, ${action}, Resource: "*" }`));
    expect(issues).toEqual([expect.stringMatching(new RegExp(`^${path.replaceAll('.', '\\.')}: .*must say \`privileged: true\``))]);
  });

  it('refuses NotResource too', () => {
    expect(refused(withRepoRead('{ Effect: Allow, Action: [s3:GetObject], NotResource: "arn:aws:s3:::secret/*" }'))).toEqual([
      expect.stringMatching(/^scopes\.repo-read\.statements\.0\.NotResource: NotResource matches every resource/),
    ]);
  });

  it('refuses a privileged scope in a class that is approved automatically', () => {
    const issues = refused(withRepoRead('{ Effect: Allow, Action: [iam:PassRole], Resource: "*" }', '    privileged: true\n'));
    expect(issues).toEqual([
      expect.stringMatching(/^scopes\.repo-read\.privileged: a privileged scope always needs manual approval, but approvals\.read is auto/),
    ]);
  });

  it('refuses an sts assumed-role ARN or a wildcard as runtimePrincipal', () => {
    const sts = refused(
      TEST_POLICY_YAML.replace('arn:aws:iam::111122223333:role/agent-runtime', 'arn:aws:sts::111122223333:assumed-role/agent-runtime/s1'),
    );
    expect(sts).toEqual([
      expect.stringMatching(/^agents\.release-bot\.runtimePrincipal: must be an IAM role or user ARN without wildcards/),
    ]);
    expect(refused(TEST_POLICY_YAML.replace('role/agent-runtime', 'role/agent-*'))).toHaveLength(1);
  });
});

describe('taskbound policy check', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskbound-lint-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints each lint error with its line and path, and exits 2', async () => {
    const file = join(dir, 'write-in-read.yaml');
    await writeFile(file, withRepoRead('{ Effect: Allow, Action: [codecommit:GitPull, codecommit:DeleteRepository], Resource: "*" }'));

    const { code, err } = await harness().run('policy', 'check', file);

    expect(code).toBe(2);
    expect(err).toContain(`${file}: invalid policy`);
    expect(err).toMatch(
      new RegExp(
        `${file}:14: scopes\\.repo-read\\.statements\\.0\\.Action\\.1: "codecommit:DeleteRepository" allows Write actions .*\\[class-access-level\\]`,
      ),
    );
  });

  it('prints a schema error with its line too', async () => {
    const file = join(dir, 'passrole.yaml');
    await writeFile(file, withRepoRead('{ Effect: Allow, Action: [iam:PassRole], Resource: "*" }'));

    const { code, err } = await harness().run('policy', 'check', file);

    expect(code).toBe(2);
    expect(err).toMatch(new RegExp(`${file}:14: scopes\\.repo-read\\.statements\\.0\\.Action\\.0: "iam:PassRole" allows iam:PassRole`));
  });

  it('passes the example policy', async () => {
    const { code, out } = await harness().run('policy', 'check', 'examples/taskbound.policy.yaml');
    expect(code).toBe(0);
    expect(out).toContain('examples/taskbound.policy.yaml: valid');
  });
});
