import { describe, expect, it } from 'vitest';
import { accountsNamed, accountWarnings } from '../../../lambdas/domain/accounts';
import { evaluateTaskRequest } from '../../../lambdas/domain/evaluate';
import { parsePolicy } from '../../../lambdas/domain/policy-file';
import { PolicyError } from '../../../lambdas/domain/errors';

const PROD = '444455556666';
const LOGS = '777788889999';

/** A policy whose scopes come from the engine's account, a production account and a logging account. */
const policyYaml = (overrides: { readonly prodResource?: string; readonly agentAccount?: string; readonly prodAccount?: string } = {}) => `
version: 1
approvals:
  read:     { mode: auto }
  write:    { mode: auto }
  deploy:   { mode: auto }
  transact: { mode: auto }
scopes:
  local-read:
    action: read
    credential: aws-sts-session
    statements: [{ Effect: Allow, Action: [s3:GetObject], Resource: "arn:aws:s3:::local/*" }]
  prod-deploy:
    action: deploy
    credential: aws-sts-session
    account: "${overrides.prodAccount ?? PROD}"
    statements: [{ Effect: Allow, Action: [lambda:UpdateFunctionCode], Resource: "${overrides.prodResource ?? `arn:aws:lambda:us-east-1:${PROD}:function:web`}" }]
  logs-read:
    action: read
    credential: aws-sts-session
    statements: [{ Effect: Allow, Action: [logs:GetLogEvents], Resource: "arn:aws:logs:us-east-1:${LOGS}:log-group:web:*" }]
agents:
  ops-bot:
    owner: lead@example.com
    purpose: Deploys and reads logs
    riskTier: high
    runtimePrincipal: arn:aws:iam::111122223333:role/ops-runtime
    scopes: [prod-deploy, logs-read]
    ${overrides.agentAccount === undefined ? `account: "${LOGS}"` : overrides.agentAccount}
    maxTtlSeconds: 3600
    defaultTtlSeconds: 600
    maxConcurrentGrants: 5
  local-bot:
    owner: lead@example.com
    purpose: Reads local data
    riskTier: low
    runtimePrincipal: arn:aws:iam::111122223333:role/local-runtime
    scopes: [local-read]
    maxTtlSeconds: 3600
    defaultTtlSeconds: 600
    maxConcurrentGrants: 5
`;

const problemsOf = (yaml: string): string => {
  try {
    parsePolicy(yaml, 'orgs.policy.yaml');
  } catch (error) {
    if (error instanceof PolicyError) return error.message;
    throw error;
  }
  return '';
};

const request = (agentId: string, scopes: string[]) => ({
  agentId,
  taskId: 't-1',
  purpose: 'ship',
  requestedBy: 'dev@example.com',
  scopes,
});
const standing = { suspended: false, liveGrants: 0 };

describe('scope accounts in the policy', () => {
  it('takes a scope’s account from the scope, else from its agent, and lists every account named', () => {
    const policy = parsePolicy(policyYaml(), 'orgs.policy.yaml');
    expect(evaluateTaskRequest(policy, request('ops-bot', ['prod-deploy']), standing)).toMatchObject({
      outcome: 'auto-approved',
      account: PROD,
    });
    expect(evaluateTaskRequest(policy, request('ops-bot', ['logs-read']), standing)).toMatchObject({
      outcome: 'auto-approved',
      account: LOGS,
    });
    expect(evaluateTaskRequest(policy, request('local-bot', ['local-read']), standing)).not.toHaveProperty('account');
    expect(accountsNamed(policy)).toEqual([PROD, LOGS]);
  });

  it('refuses a task whose scopes come from two accounts, naming both', () => {
    const policy = parsePolicy(policyYaml(), 'orgs.policy.yaml');
    const decision = evaluateTaskRequest(policy, request('ops-bot', ['prod-deploy', 'logs-read']), standing);
    expect(decision).toMatchObject({ outcome: 'denied', reason: expect.stringContaining(`different accounts (${PROD}, ${LOGS})`) });
  });

  it('rejects an account id that is not 12 digits, with its path', () => {
    expect(problemsOf(policyYaml({ prodAccount: '4444-5555-6666' }))).toMatch(
      /scopes\.prod-deploy\.account: an AWS account id is 12 digits/,
    );
    expect(problemsOf(policyYaml({ agentAccount: 'account: "12345"' }))).toMatch(
      /agents\.ops-bot\.account: an AWS account id is 12 digits/,
    );
  });

  it('rejects a statement naming another account than the scope’s credential comes from', () => {
    const problems = problemsOf(policyYaml({ prodResource: `arn:aws:lambda:us-east-1:${LOGS}:function:web` }));
    expect(problems).toMatch(
      new RegExp(
        `scopes\\.prod-deploy\\.statements\\.0\\.Resource: .* is in account ${LOGS}, but scope "prod-deploy" takes its credential from account ${PROD}`,
      ),
    );
  });

  it('rejects a statement naming another account than its agent’s default account', () => {
    const problems = problemsOf(
      policyYaml({ agentAccount: `account: "${PROD}"`, prodResource: `arn:aws:lambda:us-east-1:${PROD}:function:web` }),
    );
    expect(problems).toMatch(
      new RegExp(
        `scopes\\.logs-read\\.statements\\.0\\.Resource: .* is in account ${LOGS}, but agent "ops-bot" takes its credential from account ${PROD}`,
      ),
    );
  });

  it('reaches a retired account (to revoke what lives there) without any scope issuing in it', () => {
    const RETIRED = '121212121212';
    const policy = parsePolicy(`${policyYaml()}retiredAccounts: ["${RETIRED}"]\n`, 'orgs.policy.yaml');

    expect(accountsNamed(policy)).toEqual([RETIRED, PROD, LOGS]);
    expect(accountWarnings(policy)).toHaveLength(1);
  });

  it('rejects a retired account that a scope or an agent still takes credentials from, or that is listed twice', () => {
    expect(problemsOf(`${policyYaml()}retiredAccounts: ["${PROD}"]\n`)).toMatch(
      new RegExp(
        `scopes\\.prod-deploy\\.account: account ${PROD} is retired \\(retiredAccounts\\), but scope "prod-deploy" still takes credentials from it`,
      ),
    );
    expect(problemsOf(`${policyYaml()}retiredAccounts: ["${LOGS}"]\n`)).toMatch(
      new RegExp(
        `agents\\.ops-bot\\.account: account ${LOGS} is retired \\(retiredAccounts\\), but agent "ops-bot" still takes credentials from it`,
      ),
    );
    expect(problemsOf(`${policyYaml()}retiredAccounts: ["121212121212", "121212121212"]\n`)).toMatch(
      /retiredAccounts\.1: account 121212121212 is listed twice/,
    );
    expect(problemsOf(`${policyYaml()}retiredAccounts: ["1212"]\n`)).toMatch(/retiredAccounts\.0: an AWS account id is 12 digits/);
  });

  it('warns about an agent whose scopes span accounts, and not about one whose scopes share one', () => {
    const policy = parsePolicy(policyYaml(), 'orgs.policy.yaml');
    const warnings = accountWarnings(policy);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/agent "ops-bot": its scopes span 2 accounts/);
    expect(warnings[0]).toContain(`prod-deploy (aws-sts-session in ${PROD})`);
  });
});
