// Tests: stack settings and the policy file fail fast at synth, naming what is wrong.
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../lambdas/domain/errors';
import { parsePolicy } from '../../lambdas/domain/policy-file';
import { PROJECT_ROOT } from '../../lib/bundling';
import { ConfigError, loadConfig } from '../../lib/config';
import { assertBoundaryFits, boundaryStatements } from '../../lib/constructs/issued-credential-boundary';
import { contractSchemas } from '../../lib/constructs/event-schemas';
import { loadPolicyFile } from '../../lib/taskbound-app';
import { TEST_POLICY_YAML } from '../helpers/test-policy';

describe('loadConfig', () => {
  it('fills in the defaults', () => {
    expect(loadConfig({})).toMatchObject({
      busName: 'taskbound',
      sweepRateMinutes: 5,
      logRetentionDays: 30,
      removalPolicy: 'retain',
      agentRolePrefix: 'taskbound-agent-',
    });
  });

  it('takes -c taskbound:<key> overrides over the taskbound object', () => {
    expect(
      loadConfig({ taskbound: { sweepRateMinutes: 10 }, 'taskbound:sweepRateMinutes': '15', 'taskbound:reservedConcurrency': 'false' }),
    ).toMatchObject({
      sweepRateMinutes: 15,
      reservedConcurrency: false,
    });
  });

  it('names each invalid key', () => {
    const attempt = () => loadConfig({ taskbound: { logRetentionDays: 31, slackSecretName: 'taskbound/slack', bogus: 1 } });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/logRetentionDays/);
    expect(attempt).toThrow(/slackSecretName: must not start with taskbound\//);
    expect(attempt).toThrow(/bogus/);
  });
});

describe('loadConfig from the command line', () => {
  const problems = (context: Record<string, unknown>) => {
    try {
      loadConfig(context);
    } catch (error) {
      if (error instanceof ConfigError) return error.issues;
      throw error;
    }
    throw new Error('expected a ConfigError');
  };

  it('says how to write a list when one is given as a bare value, instead of "expected array" and a length check', () => {
    expect(problems({ 'taskbound:operatorPrincipalArns': 'arn:aws:iam::111122223333:role/secops' })).toEqual([
      `operatorPrincipalArns: a list; on the command line write it as JSON: -c 'taskbound:operatorPrincipalArns=["arn:aws:iam::111122223333:role/secops"]'`,
    ]);
    // A bare account id parses as a number first.
    expect(problems({ 'taskbound:producerAccounts': '444455556666' })).toEqual([
      `producerAccounts: a list; on the command line write it as JSON: -c 'taskbound:producerAccounts=["444455556666"]'`,
    ]);
    expect(loadConfig({ 'taskbound:producerAccounts': '["444455556666"]' }).producerAccounts).toEqual(['444455556666']);
  });

  // The alert functions read SLACK_ROUTING with this schema at cold start: a routing synth let through
  // would fail every alert of the deployed engine instead of the synth.
  it('checks slackRouting against the schema the alert functions read it with, naming the key in it', () => {
    expect(problems({ 'taskbound:slackRouting': '{"default":"#alerts"}' })).toEqual([expect.stringMatching(/^slackRouting: .*default/)]);
    expect(problems({ taskbound: { slackRouting: { severityChannels: { critical: 'sec oncall' } } } })).toEqual([
      expect.stringMatching(/^slackRouting\.severityChannels\.critical: a channel id like C0123ABCD or a name like #security/),
    ]);
    const routing = { defaultChannel: '#security', severityChannels: { critical: '#sec-oncall' } };
    expect(loadConfig({ 'taskbound:slackRouting': JSON.stringify(routing) }).slackRouting).toEqual(routing);
  });

  it('says what reservedConcurrency may be', () => {
    expect(problems({ 'taskbound:reservedConcurrency': 'lots' })).toEqual([
      'reservedConcurrency: an object {"issuing": N, "revoking": N} (1-1000 each), or false',
    ]);
  });
});

describe('loadPolicyFile', () => {
  it('accepts the example policy', () => {
    expect(Object.keys(loadPolicyFile('examples/taskbound.policy.yaml', PROJECT_ROOT).policy.agents)).toEqual([
      'release-bot',
      'deploy-bot',
      'ops-bot',
      'finance-bot',
    ]);
  });

  it('names the setting, the file, where it looked and where relative paths start when it cannot be read', () => {
    const attempt = () => loadPolicyFile('missing.policy.yaml', PROJECT_ROOT);
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      `policyFile: cannot read the policy file (ENOENT): missing.policy.yaml, read as ${PROJECT_ROOT}/missing.policy.yaml: ` +
        `a relative path is taken from ${PROJECT_ROOT}`,
    );
  });
});

describe('issued-credential boundary', () => {
  const policy = parsePolicy(TEST_POLICY_YAML, 'test.yaml');

  it("is the union of the assigned scopes' Allow statements plus the brokered secrets", () => {
    const statements = boundaryStatements(policy, 'arn:aws:iam::111122223333:role/taskbound-agent-*');
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['codecommit:GitPull'],
      Resource: 'arn:aws:codecommit:us-east-1:111122223333:web',
    });
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [
        'arn:aws:secretsmanager:us-east-1:111122223333:secret:stripe-key-AbCdEf',
        'arn:aws:secretsmanager:us-east-1:111122223333:secret:stripe-key-AbCdEf-??????',
      ],
    });
  });

  it('refuses, naming the policy file, a union too large for one managed policy', () => {
    const huge = Array.from({ length: 200 }, (_, index) => ({
      Effect: 'Allow' as const,
      Action: `s3:GetObject`,
      Resource: `arn:aws:s3:::bucket-number-${index}/*`,
    }));
    expect(() => assertBoundaryFits(policy, huge)).toThrow(PolicyError);
    expect(() => assertBoundaryFits(policy, huge)).toThrow(/^test\.yaml: invalid policy\n {2}- scopes: the union/);
  });
});

describe('contract event schemas', () => {
  it('describes Task Started from the zod schema the handler validates with', () => {
    const schema = contractSchemas()['taskbound@TaskStarted'] as {
      $schema: string;
      properties: { detail: { required: string[]; properties: Record<string, unknown> } };
    };
    expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect(schema.properties.detail.required).toEqual(expect.arrayContaining(['taskId', 'agentId', 'purpose', 'requestedBy', 'scopes']));
    expect(schema.properties.detail.properties.scopes).toMatchObject({ type: 'array', minItems: 1, maxItems: 10 });
  });
});
