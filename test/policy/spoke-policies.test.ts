// Policy tier (hub and spoke): the spoke engine role's and the hub engine roles' synthesized
// policies, judged by the independent IAM evaluator. The spoke template is resolved with the
// tier's fixed account, then read as the spoke's (no other account's ARN appears in it).
import { AssumeRoleCommand, STSClient, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { App } from 'aws-cdk-lib';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { spokeCredentials } from '../../lambdas/adapters/aws/spoke-credentials';
import { spokeRoleArn } from '../../lambdas/domain/accounts';
import { buildSpokeApp } from '../../lib/spoke-app';
import { ACCOUNT, CfnResolver, type CfnTemplate } from './cfn';
import { decide } from './simulate';
import { synthesizedPolicies } from './synthesized-policies';

const PROD = '444455556666';
const LOGS = '777788889999';
const HUB = '999900001111';
const FIXTURE = 'test/infra/fixtures/orgs.policy.yaml';
const GRANT = `g-${'a'.repeat(26)}`;
/** The hub roles the spoke is deployed with (the hub's EngineRoleArns output, two of them). */
const HUB_SWEEP_ROLE = `arn:aws:iam::${HUB}:role/taskbound-engine/taskbound-sweep-us-east-1`;
const HUB_PROVE_ROLE = `arn:aws:iam::${HUB}:role/taskbound-engine/taskbound-prove-revocation-us-east-1`;

type Document = Record<string, unknown>;

/** What the hub's spoke adapter (lambdas/adapters/aws/spoke-credentials.ts) asks STS for when it enters a spoke. */
async function hubHopRequest(): Promise<AssumeRoleCommandInput> {
  const sts = new STSClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIAHUB', secretAccessKey: 'hub' } });
  const mock = mockClient(sts);
  mock.on(AssumeRoleCommand).resolves({
    Credentials: { AccessKeyId: 'ASIASPOKE', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 3_600_000) },
  });
  await spokeCredentials({ sts, roleArn: spokeRoleArn(PROD, 'taskbound', 'engine'), clock: { now: () => new Date() } })();
  return mock.commandCalls(AssumeRoleCommand)[0]!.args[0].input;
}
const HUB_HOP = await hubHopRequest();
/** The hop's request context as STS evaluates it: its session name, and its source identity if it sets one. */
const HUB_HOP_CONTEXT: Record<string, string> = {
  'sts:RoleSessionName': HUB_HOP.RoleSessionName ?? '',
  ...(HUB_HOP.SourceIdentity === undefined ? {} : { 'sts:SourceIdentity': HUB_HOP.SourceIdentity }),
};

/** The prod spoke's engine role policies, managed policies and role trust policies, with the template's account resolved to the spoke's. */
function spokeDocuments(): {
  /** The inline policies of one spoke role (`taskbound-spoke-engine`, `taskbound-spoke-prover`). */
  readonly identityOf: (roleName: string) => Document[];
  readonly boundary: Document;
  readonly agentPolicies: Document[];
  readonly trustOf: (roleName: string) => Document;
} {
  const spokes = buildSpokeApp({
    app: new App({
      context: {
        taskbound: { policyFile: FIXTURE },
        taskboundSpoke: { hubEngineRoleArns: [HUB_SWEEP_ROLE, HUB_PROVE_ROLE], accounts: [PROD] },
      },
    }),
  });
  const assembly = spokes.app.synth();
  const template = assembly.getStackByName(spokes.spokes[0]!.stackName).template as CfnTemplate;
  const resolver = new CfnResolver([template]);
  const asSpoke = <T>(value: T): T => JSON.parse(JSON.stringify(value).replaceAll(ACCOUNT, PROD)) as T;
  const identityOf = (roleName: string) =>
    Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::IAM::Policy')
      .filter((resource) => (resolver.resolve(template, resource.Properties?.Roles) as string[]).includes(roleName))
      .map((resource) => asSpoke(resolver.resolve(template, resource.Properties?.PolicyDocument)) as Document);
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
  return { identityOf, boundary: managedDocument(boundary), agentPolicies, trustOf };
}

const spoke = spokeDocuments();
const identity = spoke.identityOf('taskbound-spoke-engine');
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

describe('spoke prover role (evaluated)', () => {
  const prover = spoke.identityOf('taskbound-spoke-prover');
  const PROVER_SESSION = `arn:aws:sts::${PROD}:assumed-role/taskbound-spoke-prover/taskbound-engine-1`;
  const asProver = (action: string, resource: string, account = PROD) =>
    decide({ principal: PROVER_SESSION, action, resource, resourceAccount: account }, { identity: prover });

  it('may read an agent role’s revoked-sessions deny and list an issued user’s keys, in its own account', async () => {
    expect(await asProver('iam:GetRolePolicy', `arn:aws:iam::${PROD}:role/taskbound-agent-ops-bot`)).toBe('Allowed');
    expect(await asProver('iam:ListAccessKeys', `arn:aws:iam::${PROD}:user/taskbound/taskbound-${GRANT}`)).toBe('Allowed');
  });

  it.each([
    ['iam:PutRolePolicy', `arn:aws:iam::${PROD}:role/taskbound-agent-ops-bot`],
    ['iam:DeleteRolePolicy', `arn:aws:iam::${PROD}:role/taskbound-agent-ops-bot`],
    ['iam:DeleteAccessKey', `arn:aws:iam::${PROD}:user/taskbound/taskbound-${GRANT}`],
    ['iam:CreateAccessKey', `arn:aws:iam::${PROD}:user/taskbound/taskbound-${GRANT}`],
    ['iam:UpdateAccessKey', `arn:aws:iam::${PROD}:user/taskbound/taskbound-${GRANT}`],
    ['iam:DeleteUser', `arn:aws:iam::${PROD}:user/taskbound/taskbound-${GRANT}`],
    ['iam:ListUsers', '*'],
    ['sts:AssumeRole', `arn:aws:iam::${PROD}:role/taskbound-agent-ops-bot`],
    ['iam:GetRolePolicy', `arn:aws:iam::${PROD}:role/OrganizationAccountAccessRole`],
    ['cloudtrail:LookupEvents', '*'],
  ])('may not %s on %s: it revokes and revives nothing', async (action, resource) => {
    expect(await asProver(action, resource)).not.toBe('Allowed');
  });

  it('may not read another account’s agent roles', async () => {
    expect(await asProver('iam:GetRolePolicy', `arn:aws:iam::${LOGS}:role/taskbound-agent-ops-bot`, LOGS)).not.toBe('Allowed');
  });
});

describe('spoke role trust (evaluated)', () => {
  /** A hub function's session assuming a spoke role: its identity allows it, so the spoke role's trust decides. */
  const assumes = (hubRole: string, roleName: string, context = HUB_HOP_CONTEXT, action = 'sts:AssumeRole') =>
    decide(
      {
        principal: `arn:aws:sts::${HUB}:assumed-role/${hubRole.slice(hubRole.lastIndexOf('/') + 1)}/fn`,
        action,
        resource: `arn:aws:iam::${PROD}:role/${roleName}`,
        resourceAccount: PROD,
        context,
      },
      {
        identity: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] }],
        resource: spoke.trustOf(roleName),
      },
      hubRole,
    );

  it('lets prove-revocation assume the prover role but not the engine role, which can revoke', async () => {
    expect(await assumes(HUB_PROVE_ROLE, 'taskbound-spoke-prover')).toBe('Allowed');
    expect(await assumes(HUB_PROVE_ROLE, 'taskbound-spoke-engine')).not.toBe('Allowed');
  });

  it('lets the revoking functions assume the engine role, each spoke role only in a session named as the engine names its own', async () => {
    expect(await assumes(HUB_SWEEP_ROLE, 'taskbound-spoke-engine')).toBe('Allowed');
    expect(await assumes(HUB_SWEEP_ROLE, 'taskbound-spoke-engine', { 'sts:RoleSessionName': 'someone' })).not.toBe('Allowed');
    expect(await assumes(HUB_PROVE_ROLE, 'taskbound-spoke-prover', { 'sts:RoleSessionName': 'someone' })).not.toBe('Allowed');
  });

  it('lets nobody set a source identity on a spoke role session: the agent sessions it starts must carry their grant’s', async () => {
    for (const [hubRole, roleName] of [
      [HUB_SWEEP_ROLE, 'taskbound-spoke-engine'],
      [HUB_PROVE_ROLE, 'taskbound-spoke-prover'],
    ] as const) {
      const context = { 'sts:SourceIdentity': 'taskbound-engine' };
      expect(await assumes(hubRole, roleName, context, 'sts:SetSourceIdentity'), roleName).not.toBe('Allowed');
    }
  });
});

describe('a spoke session’s chain of roles: hub function → spoke engine role → agent role (evaluated)', () => {
  // AWS keeps the first source identity set along a chain of role sessions and refuses to change it
  // (IAM User Guide, "Monitor and control actions taken with assumed roles"): had the hub's hop set
  // one, the agent session would carry it instead of its grant id, which the agent role's trust
  // requires and by which the revoked-sessions deny finds the session.
  it('lets the hub enter the spoke without a source identity, so the agent session carries its grant id', async () => {
    expect(HUB_HOP.SourceIdentity).toBeUndefined();
    const sweepSession = `arn:aws:sts::${HUB}:assumed-role/taskbound-sweep-us-east-1/fn`;
    const enters = await decide(
      {
        principal: sweepSession,
        action: 'sts:AssumeRole',
        resource: `arn:aws:iam::${PROD}:role/taskbound-spoke-engine`,
        resourceAccount: PROD,
        context: HUB_HOP_CONTEXT,
      },
      {
        identity: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] }],
        resource: spoke.trustOf('taskbound-spoke-engine'),
      },
      HUB_SWEEP_ROLE,
    );
    expect(enters).toBe('Allowed');
    const agentSession = { 'aws:ResourceTag/taskbound:managed': 'true', 'sts:SourceIdentity': HUB_HOP.SourceIdentity ?? GRANT };
    const agentRole = `arn:aws:iam::${PROD}:role/taskbound-agent-ops-bot`;
    expect(await asSpokeEngine('sts:AssumeRole', agentRole, PROD, agentSession, spoke.trustOf('taskbound-agent-ops-bot'))).toBe('Allowed');
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
  // A spoke role's trust as deployed with this hub's role ARN (the EngineRoleArns output).
  const spokeTrust = (account: string, roleName = 'taskbound-spoke-engine', hubRole = hub.roleArnOf('sweep')): Document => ({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: hubRole },
        Action: 'sts:AssumeRole',
        Condition: { StringLike: { 'sts:RoleSessionName': 'taskbound-engine-*' } },
        Resource: `arn:aws:iam::${account}:role/${roleName}`,
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
        context: HUB_HOP_CONTEXT,
      },
      { identity: engine.identityOf('sweep'), resource: spokeTrust(account) },
      engine.roleArnOf('sweep'),
    );

  /** The hub's prove-revocation assuming `roleName` in `account`, under a trust that would let it: its own policy decides. */
  const asProveRevocation = (roleName: string, account = PROD) =>
    decide(
      {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/taskbound-prove-revocation-us-east-1/fn`,
        action: 'sts:AssumeRole',
        resource: `arn:aws:iam::${account}:role/${roleName}`,
        resourceAccount: account,
        context: HUB_HOP_CONTEXT,
      },
      { identity: hub.identityOf('prove-revocation'), resource: spokeTrust(account, roleName, hub.roleArnOf('prove-revocation')) },
      hub.roleArnOf('prove-revocation'),
    );

  it('let prove-revocation reach each named spoke’s read-only prover role, and no spoke engine role even if one trusted it', async () => {
    expect(await asProveRevocation('taskbound-spoke-prover')).toBe('Allowed');
    expect(await asProveRevocation('taskbound-spoke-prover', LOGS)).toBe('Allowed');
    expect(await asProveRevocation('taskbound-spoke-engine')).toBe('ImplicitlyDenied');
    expect(await asProveRevocation('taskbound-spoke-prover', '123456789012')).toBe('ImplicitlyDenied');
  });

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
