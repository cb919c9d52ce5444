import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../../lambdas/domain/errors';
import { designates, personForPrincipal, personForSlackUser, principalKey } from '../../../lambdas/domain/people';
import { parsePolicy } from '../../../lambdas/domain/policy-file';
import { TEST_POLICY_YAML, testPolicy } from '../../helpers/test-policy';

function issuesOf(text: string): string[] {
  try {
    parsePolicy(text, 'bad.policy.yaml');
  } catch (error) {
    if (error instanceof PolicyError) return [...error.issues];
    throw error;
  }
  throw new Error('expected a PolicyError');
}

describe('people in the policy', () => {
  it('refuses an approverGroup member who is not a declared person, naming the path', () => {
    const issues = issuesOf(
      TEST_POLICY_YAML.replace(
        'approverGroup: [lead@example.com, sre@example.com]',
        'approverGroup: [lead@example.com, ghost@example.com]',
      ),
    );
    expect(issues).toEqual(['approvals.deploy.approverGroup.1: "ghost@example.com" is not declared under people']);
  });

  it('refuses a principal declared for two people, even spelled with another path', () => {
    const issues = issuesOf(
      TEST_POLICY_YAML.replace(
        'awsPrincipals: ["arn:aws:iam::111122223333:user/cfo"]',
        'awsPrincipals: ["arn:aws:iam::111122223333:role/team/lead"]',
      ),
    );
    expect(issues).toEqual([
      'people.cfo@example.com.awsPrincipals.0: arn:aws:iam::111122223333:role/team/lead is declared already for lead@example.com; a principal or Slack user stands for one person only',
    ]);
  });

  it('refuses a Slack user declared for two people', () => {
    const issues = issuesOf(TEST_POLICY_YAML.replace('slackUserIds: [U0CFO00001]', 'slackUserIds: [U0SRE00001]'));
    expect(issues.join()).toMatch(/people\.cfo@example\.com\.slackUserIds\.0: U0SRE00001 is declared already for sre@example\.com/);
  });

  it('refuses wildcards, session ARNs, malformed ids and a person with no identity', () => {
    expect(issuesOf(TEST_POLICY_YAML.replace('user/cfo"]', 'user/*"]')).join()).toMatch(
      /people\.cfo@example\.com\.awsPrincipals\.0: must be an IAM role or user ARN/,
    );
    expect(
      issuesOf(TEST_POLICY_YAML.replace('arn:aws:iam::111122223333:user/cfo', 'arn:aws:sts::111122223333:assumed-role/cfo/s')).join(),
    ).toMatch(/awsPrincipals\.0/);
    expect(issuesOf(TEST_POLICY_YAML.replace('slackUserIds: [U0CFO00001]', 'slackUserIds: [cfo]')).join()).toMatch(
      /slackUserIds\.0: must be a Slack user id/,
    );
    expect(
      issuesOf(
        TEST_POLICY_YAML.replace('{ awsPrincipals: ["arn:aws:iam::111122223333:user/cfo"], slackUserIds: [U0CFO00001] }', '{}'),
      ).join(),
    ).toMatch(/people\.cfo@example\.com: declares no awsPrincipals and no slackUserIds/);
    expect(issuesOf(TEST_POLICY_YAML.replace('  cfo@example.com: {', '  cfo: {')).join()).toMatch(/person ids look like e-mail addresses/);
  });
});

describe('personForPrincipal', () => {
  const people = testPolicy().people;

  it('maps a role session to the person declaring the role, whatever the role path', () => {
    expect(personForPrincipal(people, 'arn:aws:sts::111122223333:assumed-role/sre/alice@example.com')).toEqual({
      ok: true,
      person: 'sre@example.com',
    });
    expect(personForPrincipal(people, 'arn:aws:sts::111122223333:assumed-role/lead/cli')).toEqual({ ok: true, person: 'lead@example.com' });
    expect(personForPrincipal(people, 'arn:aws:iam::111122223333:user/cfo')).toEqual({ ok: true, person: 'cfo@example.com' });
  });

  it('refuses the same role name in another account, another partition, roots and unknown callers, with a reason', () => {
    for (const arn of [
      'arn:aws:sts::999999999999:assumed-role/lead/cli',
      'arn:aws-cn:sts::111122223333:assumed-role/lead/cli',
      'arn:aws:iam::111122223333:root',
      'arn:aws:sts::111122223333:federated-user/lead',
      'arn:aws:sts::111122223333:assumed-role/intern/cli',
    ]) {
      expect(personForPrincipal(people, arn)).toEqual({ ok: false, reason: expect.stringContaining(arn) });
    }
  });

  it('treats a role and a user of the same name as different principals', () => {
    expect(principalKey('arn:aws:iam::111122223333:user/lead')).not.toBe(principalKey('arn:aws:iam::111122223333:role/lead'));
    expect(personForPrincipal(people, 'arn:aws:iam::111122223333:user/lead').ok).toBe(false);
  });
});

describe('personForSlackUser and designates', () => {
  const people = testPolicy().people;

  it('maps declared Slack users only', () => {
    expect(personForSlackUser(people, 'U0LEAD0001')).toEqual({ ok: true, person: 'lead@example.com' });
    expect(personForSlackUser(people, 'U0NOBODY1')).toMatchObject({ ok: false, reason: expect.stringContaining('not mapped') });
  });

  it('recognises a person by id, by a session of their role, or by Slack id', () => {
    expect(designates(people, 'sre@example.com', 'sre@example.com')).toBe(true);
    expect(designates(people, 'sre@example.com', 'arn:aws:sts::111122223333:assumed-role/sre/x')).toBe(true);
    expect(designates(people, 'sre@example.com', 'U0SRE00001')).toBe(true);
    expect(designates(people, 'sre@example.com', 'lead@example.com')).toBe(false);
    expect(designates(people, 'sre@example.com', undefined)).toBe(false);
  });

  it('recognises a person however the case of their id, role name or Slack id is written', () => {
    // Mail treats the id's case as one address, IAM refuses two roles differing only in case, Slack ids are upper case.
    expect(designates(people, 'lead@example.com', 'Lead@Example.COM')).toBe(true);
    expect(designates(people, 'lead@example.com', 'arn:aws:iam::111122223333:role/LEAD')).toBe(true);
    expect(designates(people, 'sre@example.com', 'arn:aws:sts::111122223333:assumed-role/Sre/laptop')).toBe(true);
    expect(designates(people, 'lead@example.com', 'u0lead0001')).toBe(true);
    expect(designates(people, 'lead@example.com', 'lead@example.co')).toBe(false);
  });
});
