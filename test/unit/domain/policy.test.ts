import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../../lambdas/domain/policy-file';
import { longestRoleSessionSeconds, roleMaxSessionSeconds } from '../../../lambdas/domain/policy';
import { PolicyError } from '../../../lambdas/domain/errors';
import { TEST_POLICY_YAML } from '../../helpers/test-policy';

function policyErrorOf(text: string): PolicyError {
  try {
    parsePolicy(text, 'bad.policy.yaml');
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  throw new Error('expected a PolicyError');
}

describe('parsePolicy', () => {
  it('loads a valid policy and versions it by the hash of its text', () => {
    const policy = parsePolicy(TEST_POLICY_YAML, 'test.policy.yaml');
    expect(policy.agents['release-bot']?.scopes).toEqual(['repo-read', 'repo-write']);
    expect(policy.policyVersion).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(parsePolicy(`${TEST_POLICY_YAML}\n# edited\n`, 'x').policyVersion).not.toBe(policy.policyVersion);
  });

  it('names the file, the path and the problem', () => {
    const error = policyErrorOf(TEST_POLICY_YAML.replace('maxTtlSeconds: 1800', 'maxTtlSeconds: 10'));
    expect(error.message).toContain('bad.policy.yaml');
    expect(error.issues.join('\n')).toMatch(/agents\.release-bot\.maxTtlSeconds: .*60/);
  });

  it('refuses an agent scope that is not defined', () => {
    const error = policyErrorOf(TEST_POLICY_YAML.replace('scopes: [repo-read, repo-write]', 'scopes: [repo-read, nope]'));
    expect(error.issues).toContain('agents.release-bot.scopes.1: scope "nope" is not defined under scopes');
  });

  it('refuses a scope above the agent risk tier', () => {
    const error = policyErrorOf(TEST_POLICY_YAML.replace('scopes: [repo-read, repo-write]', 'scopes: [repo-read, deploy-web]'));
    expect(error.issues.join('\n')).toMatch(/deploy scope, above risk tier medium/);
  });

  it('refuses a manual rule with fewer people than approvers', () => {
    const error = policyErrorOf(
      TEST_POLICY_YAML.replace(
        'approvers: 2, approverGroup: [cfo@example.com, sre@example.com, lead@example.com]',
        'approvers: 2, approverGroup: [cfo@example.com, cfo@example.com]',
      ),
    );
    expect(error.issues.join('\n')).toMatch(/approvals\.transact/);
  });

  it("refuses a scope its agent's owner leaves too few approvers for, since every request would be denied at once", () => {
    // deploy-bot's owner is sre@: of the three in the transact group, two remain, and three are asked for.
    const error = policyErrorOf(
      TEST_POLICY_YAML.replace('transact: { mode: manual, approvers: 2,', 'transact: { mode: manual, approvers: 3,'),
    );
    expect(error.issues).toContainEqual(
      expect.stringMatching(
        /^agents\.deploy-bot\.scopes\.2: scope "refund" \(transact\) needs 3 approval\(s\), but its approver group has 2 besides the agent's owner sre@example\.com, who may not decide: every request would be denied/,
      ),
    );
    // Two of the three besides the owner: approvable, and loads.
    expect(() => parsePolicy(TEST_POLICY_YAML, 'ok.policy.yaml')).not.toThrow();
  });

  it('says an empty file is empty, rather than that null is not an object', () => {
    for (const empty of ['', '# only a comment\n\n', '\uFEFF']) {
      expect(policyErrorOf(empty).issues).toEqual([
        '(file): the file is empty (or only comments): a policy needs version, approvals, people, scopes and agents',
      ]);
    }
  });

  it('names a YAML merge key as unsupported, once, instead of an unknown "<<" and every key it meant to bring', () => {
    const merged = TEST_POLICY_YAML.replace(
      '  deploy-bot:\n    owner: sre@example.com\n',
      '  deploy-bot:\n    <<: &owned { owner: sre@example.com }\n',
    );
    expect(policyErrorOf(merged).issues).toEqual([
      'agents.deploy-bot.<<: YAML merge keys (<<) are not supported; write the keys out (an alias of a whole value, such as scopes: *common, works)',
    ]);
    // An alias of a whole value is plain YAML 1.2, and loads.
    const aliased = TEST_POLICY_YAML.replace('scopes: [repo-read, repo-write]', 'scopes: &common [repo-read, repo-write]').replace(
      'scopes: [repo-read, deploy-web, refund, bucket-read-key]',
      'scopes: *common',
    );
    expect(parsePolicy(aliased, 'aliased.policy.yaml').agents['deploy-bot']?.scopes).toEqual(['repo-read', 'repo-write']);
  });

  it('refuses unknown keys and YAML syntax errors', () => {
    expect(policyErrorOf(`${TEST_POLICY_YAML}\nsurprise: true\n`).issues.join()).toMatch(/surprise/);
    expect(policyErrorOf('version: 1\napprovals: [\n').issues.join()).toMatch(/^YAML/);
  });

  it('names the line a YAML error is on and what is written there, e.g. an agent declared twice', () => {
    const twice = TEST_POLICY_YAML.replace('agents:\n', 'agents:\n  release-bot:\n    owner: sre@example.com\n');
    const lines = twice.split('\n');
    const second = lines.indexOf('  release-bot:', lines.indexOf('  release-bot:') + 1) + 1;

    expect(policyErrorOf(twice).issues).toEqual([`YAML: Map keys must be unique at line ${second}, column 3 (near "release-bot:")`]);
  });

  it('keeps control characters of the file out of a YAML error', () => {
    const issues = policyErrorOf(`${TEST_POLICY_YAML}\nversion: "1\u001b[31m"\n`).issues;

    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^YAML: Map keys must be unique at line \d+, column 1 \(near "version: "1\?\[31m""\)$/);
  });

  it('says a key left out is required, and names the key a misspelt one stands for', () => {
    const issues = policyErrorOf(
      TEST_POLICY_YAML.replace('    owner: lead@example.com\n', '').replace('maxTtlSeconds: 1800', 'maxTTLSeconds: 1800'),
    ).issues;

    expect(issues).toContain('agents.release-bot.owner: required, not given');
    expect(issues).toContain('agents.release-bot.maxTtlSeconds: required, not given');
    expect(issues).toContain('agents.release-bot: Unrecognized key: "maxTTLSeconds" (did you mean "maxTtlSeconds"?)');
  });

  it("keeps zod's words for a value of the wrong type", () => {
    const issues = policyErrorOf(TEST_POLICY_YAML.replace('maxConcurrentGrants: 2', 'maxConcurrentGrants: two')).issues;

    expect(issues).toEqual(['agents.release-bot.maxConcurrentGrants: Invalid input: expected number, received string']);
  });

  it('refuses maxTtlSeconds above an hour for an agent with only aws-sts-session scopes (STS caps a role-chained session at one)', () => {
    const error = policyErrorOf(TEST_POLICY_YAML.replace('maxTtlSeconds: 1800', 'maxTtlSeconds: 7200'));
    expect(error.issues).toEqual([
      expect.stringMatching(/^agents\.release-bot\.maxTtlSeconds: at most 3600 for an agent whose scopes are all aws-sts-session/),
    ]);
    // deploy-bot also holds access-key scopes, which may run longer.
    expect(() => parsePolicy(TEST_POLICY_YAML.replace('maxTtlSeconds: 3600', 'maxTtlSeconds: 7200'), 'x')).not.toThrow();
  });

  it('refuses defaultTtlSeconds above maxTtlSeconds', () => {
    const error = policyErrorOf(TEST_POLICY_YAML.replace('defaultTtlSeconds: 900', 'defaultTtlSeconds: 2000'));
    expect(error.issues.join()).toMatch(/agents\.release-bot\.defaultTtlSeconds/);
  });
});

describe('the agent roles’ session length', () => {
  const agents = (...maxTtls: number[]) =>
    ({ agents: Object.fromEntries(maxTtls.map((maxTtlSeconds, index) => [`bot-${index}`, { maxTtlSeconds }])) }) as never;

  it('is the longest task any agent may run, so no session is cut short of its task', () => {
    expect(longestRoleSessionSeconds(agents(1800, 7200, 900))).toBe(7200);
  });

  it('is at least IAM’s 3,600 s floor for MaxSessionDuration, and at most its 43,200 s ceiling', () => {
    expect(longestRoleSessionSeconds(agents(900, 1800))).toBe(3600);
    expect(roleMaxSessionSeconds(50_000)).toBe(43_200);
  });
});
