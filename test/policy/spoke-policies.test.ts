// Policy tier (hub and spoke): the spoke engine role's and the hub engine roles' synthesized
// policies, judged by the independent IAM evaluator. The spoke template is resolved with the
// tier's fixed account, then read as the spoke's (no other account's ARN appears in it).
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { buildSpokeApp } from '../../lib/spoke-app';
import { ACCOUNT, CfnResolver, type CfnTemplate } from './cfn';
import { decide } from './simulate';
import { synthesizedPolicies } from './synthesized-policies';

const PROD = '444455556666';
const LOGS = '777788889999';
const HUB = '999900001111';
const FIXTURE = 'test/infra/fixtures/orgs.policy.yaml';
const GRANT = `g-${'a'.repeat(26)}`;

type Document = Record<string, unknown>;

/** The prod spoke's engine role policies, managed policies and role trust policies, with the template's account resolved to the spoke's. */
function spokeDocuments(): {
  readonly identity: Document[];
  readonly boundary: Document;
  readonly agentPolicies: Document[];
  readonly trustOf: (roleName: string) => Document;
} {
  const spokes = buildSpokeApp({
    app: new App({
      context: {
        taskbound: { policyFile: FIXTURE },
        taskboundSpoke: { hubEngineRoleArns: [`arn:aws:iam::${HUB}:role/taskbound-engine/taskbound-sweep-us-east-1`], accounts: [PROD] },
      },
    }),
  });
  const assembly = spokes.app.synth();
  const template = assembly.getStackByName(spokes.spokes[0]!.stackName).template as CfnTemplate;
  const resolver = new CfnResolver([template]);
  const documents = Object.values(template.Resources)
    .filter((resource) => resource.Type === 'AWS::IAM::Policy')
    .map((resource) => resolver.resolve(template, resource.Properties?.PolicyDocument));
  const asSpoke = <T>(value: T): T => JSON.parse(JSON.stringify(value).replaceAll(ACCOUNT, PROD)) as T;
  const trustOf = (roleName: string) => {
    const role = Object.values(template.Resources).find(
      (resource) => resource.Type === 'AWS::IAM::Role' && resource.Properties?.RoleName === roleName,
    );
    if (!role) throw new Error(`no role ${roleName} in the spoke`);
    return asSpoke(resolver.resolve(template, role.Properties?.AssumeRolePolicyDocument)) as Document;
  };
  const managed = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::IAM::ManagedPolicy');
  const managedDocument = (resource: (typeof managed)[number]) =>
    asSpoke(resolver.resolve(template, resource.Properties?.PolicyDocument)) as Document;
  const boundary = managed.find((resource) => resource.Properties?.ManagedPolicyName === 'taskbound-issued-credential-boundary');
  if (!boundary) throw new Error('no issued-credential boundary in the spoke');
  const agentPolicies = managed.filter((resource) => resource !== boundary).map(managedDocument);
  return { identity: asSpoke(documents) as Document[], boundary: managedDocument(boundary), agentPolicies, trustOf };
}

const spoke = spokeDocuments();
const identity = spoke.identity;
const SPOKE_SESSION = `arn:aws:sts::${PROD}:assumed-role/taskbound-spoke-engine/taskbound-engine-1`;
const asSpokeEngine = (action: string, resource: string, resourceAccount: string, context: Record<string, string> = {}, trust?: Document) =>
  decide({ principal: SPOKE_SESSION, action, resource, resourceAccount, context }, { identity, ...(trust ? { resource: trust } : {}) });

describe('spoke engine role (evaluated)', () => {
  it('may revoke an issued user’s key in its own account, under /taskbound/', async () => {
    expect(await asSpokeEngine('iam:DeleteAccessKey', `arn:aws:iam::${PROD}:user/taskbound/taskbound-${GRANT}`, PROD)).toBe('Allowed');
  });

  it('may measure an agent role’s inline policies there, the revoked-sessions deny’s budget', async () => {
    expect(await asSpokeEngine('iam:ListRolePolicies', `arn:aws:iam::${PROD}:role/taskbound-agent-ops-bot`, PROD)).toBe('Allowed');
    expect(await asSpokeEngine('iam:ListRolePolicies', `arn:aws:iam::${PROD}:role/OrganizationAccountAccessRole`, PROD)).not.toBe(
      'Allowed',
    );
  });

  it.each([
    ['iam:DeleteAccessKey', `arn:aws:iam::${LOGS}:user/taskbound/taskbound-${GRANT}`, LOGS],
    ['iam:DeleteUser', `arn:aws:iam::${PROD}:user/admins/alice`, PROD],
    ['iam:GetRolePolicy', `arn:aws:iam::${LOGS}:role/taskbound-agent-ops-bot`, LOGS],
    ['iam:GetRolePolicy', `arn:aws:iam::${PROD}:role/OrganizationAccountAccessRole`, PROD],
    ['iam:CreateAccessKey', `arn:aws:iam::${PROD}:user/admins/alice`, PROD],
    ['iam:AttachRolePolicy', `arn:aws:iam::${PROD}:role/taskbound-agent-ops-bot`, PROD],
    ['s3:GetObject', 'arn:aws:s3:::prod-exports/report.csv', PROD],
  ])('may not %s on %s', async (action, resource, account) => {
    expect(await asSpokeEngine(action, resource, account)).not.toBe('Allowed');
  });

  it('may not assume a role outside the agent-role prefix, nor an agent role in another account', async () => {
    const managed = { 'aws:ResourceTag/taskbound:managed': 'true', 'sts:SourceIdentity': GRANT };
    const agentTrust = spoke.trustOf('taskbound-agent-ops-bot');
    expect(await asSpokeEngine('sts:AssumeRole', `arn:aws:iam::${PROD}:role/taskbound-agent-ops-bot`, PROD, managed, agentTrust)).toBe(
      'Allowed',
    );
    expect(
      await asSpokeEngine(
        'sts:AssumeRole',
        `arn:aws:iam::${PROD}:role/taskbound-agent-ops-bot`,
        PROD,
        { ...managed, 'sts:SourceIdentity': 'x' },
        agentTrust,
      ),
    ).not.toBe('Allowed');
    expect(await asSpokeEngine('sts:AssumeRole', `arn:aws:iam::${PROD}:role/OrganizationAccountAccessRole`, PROD, managed)).not.toBe(
      'Allowed',
    );
    expect(await asSpokeEngine('sts:AssumeRole', `arn:aws:iam::${LOGS}:role/taskbound-agent-ops-bot`, LOGS, managed)).not.toBe('Allowed');
  });
});

describe('spoke engine role reading CloudTrail (evaluated)', () => {
  it('may look up events in its own account (LookupEvents takes no resource)', async () => {
    expect(await asSpokeEngine('cloudtrail:LookupEvents', '*', PROD)).toBe('Allowed');
  });

  it('may not look up events in another account', async () => {
    expect(await asSpokeEngine('cloudtrail:LookupEvents', '*', LOGS)).not.toBe('Allowed');
  });

  it.each([
    ['cloudtrail:StopLogging', `arn:aws:cloudtrail:us-east-1:${PROD}:trail/org-trail`],
    ['cloudtrail:DeleteTrail', `arn:aws:cloudtrail:us-east-1:${PROD}:trail/org-trail`],
    ['cloudtrail:UpdateTrail', `arn:aws:cloudtrail:us-east-1:${PROD}:trail/org-trail`],
    ['cloudtrail:PutEventSelectors', `arn:aws:cloudtrail:us-east-1:${PROD}:trail/org-trail`],
    ['cloudtrail:CreateTrail', `arn:aws:cloudtrail:us-east-1:${PROD}:trail/quiet`],
    ['cloudtrail:StartQuery', `arn:aws:cloudtrail:us-east-1:${PROD}:eventdatastore/lake`],
    ['secretsmanager:DescribeSecret', `arn:aws:secretsmanager:us-east-1:${PROD}:secret:taskbound-engine/canary-AbCdEf`],
    ['secretsmanager:DeleteSecret', `arn:aws:secretsmanager:us-east-1:${PROD}:secret:taskbound-engine/canary-AbCdEf`],
  ])('may not %s (it reads CloudTrail only)', async (action, resource) => {
    expect(await asSpokeEngine(action, resource, PROD)).not.toBe('Allowed');
  });
});

describe('a session in a spoke and its canary (evaluated)', () => {
  const SESSION = `arn:aws:sts::${PROD}:assumed-role/taskbound-agent-ops-bot/${GRANT}`;
  const canaryIn = (account: string) => `arn:aws:secretsmanager:us-east-1:${account}:secret:taskbound-engine/canary-AbCdEf`;
  const asAgentSession = (action: string, resource: string, account: string) =>
    decide(
      { principal: SESSION, action, resource, resourceAccount: account, context: { 'aws:SourceIdentity': GRANT } },
      { identity: spoke.agentPolicies, boundary: [spoke.boundary] },
    );

  it('may describe this account’s canary: the agent role and the boundary both allow it', async () => {
    expect(await asAgentSession('secretsmanager:DescribeSecret', canaryIn(PROD), PROD)).toBe('Allowed');
  });

  it.each([
    ['secretsmanager:DescribeSecret', canaryIn(HUB), HUB],
    ['secretsmanager:DescribeSecret', canaryIn(LOGS), LOGS],
    ['secretsmanager:GetSecretValue', canaryIn(PROD), PROD],
    ['secretsmanager:DescribeSecret', `arn:aws:secretsmanager:us-east-1:${PROD}:secret:taskbound/ops-bot/t1-AbCdEf`, PROD],
  ])('may not %s on %s', async (action, resource, account) => {
    expect(await asAgentSession(action, resource, account)).not.toBe('Allowed');
  });
});

describe('hub engine roles (evaluated)', () => {
  const hub = synthesizedPolicies({ policyFile: FIXTURE });
  // The spoke's trust as deployed with this hub's sweep role ARN (the EngineRoleArns output).
  const spokeTrust = (account: string): Document => ({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: hub.roleArnOf('sweep') },
        Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        Condition: { StringEquals: { 'sts:SourceIdentity': 'taskbound-engine' } },
        Resource: `arn:aws:iam::${account}:role/taskbound-spoke-engine`,
      },
    ],
  });
  /** The hub's sweep (of `engine`, this hub by default) assuming the spoke engine role in `account`. */
  const asSweep = (account: string, engine = hub) =>
    decide(
      {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/taskbound-sweep-us-east-1/fn`,
        action: 'sts:AssumeRole',
        resource: `arn:aws:iam::${account}:role/taskbound-spoke-engine`,
        resourceAccount: account,
        context: { 'sts:SourceIdentity': 'taskbound-engine' },
      },
      { identity: engine.identityOf('sweep'), resource: spokeTrust(account) },
      engine.roleArnOf('sweep'),
    );

  it('reach the spoke engine role of every account the policy names', async () => {
    expect(await asSweep(PROD)).toBe('Allowed');
    expect(await asSweep(LOGS)).toBe('Allowed');
  });

  it('cannot reach an account the policy does not name, even if a spoke role exists there', async () => {
    expect(await asSweep('123456789012')).toBe('ImplicitlyDenied');
    expect(await asSweep('121212121212')).toBe('ImplicitlyDenied');
  });

  it('still reach an account the policy retired, so what lives there can be revoked', async () => {
    const retiring = synthesizedPolicies({ policyFile: 'test/infra/fixtures/orgs-retiring.policy.yaml' });
    expect(await asSweep('121212121212', retiring)).toBe('Allowed');
    expect(await asSweep(PROD, retiring)).toBe('Allowed');
  });
});
