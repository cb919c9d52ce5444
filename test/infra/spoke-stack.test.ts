// Tests: the hub and spoke templates for a policy naming two member accounts (cdk-nag runs at synth).
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { SESSION_MINTING_ACTIONS } from '../../lib/constructs/issued-credential-boundary';
import { buildSpokeApp } from '../../lib/spoke-app';
import { retainedFixedNames } from './retained-names';
import { REVOKING } from '../../lib/naming';
import { buildTaskboundApp } from '../../lib/taskbound-app';

const PROD = '444455556666';
const LOGS = '777788889999';
const HUB_ROLES = ['arn:aws:iam::111122223333:role/taskbound-engine/TaskStarted', 'arn:aws:iam::111122223333:role/taskbound-engine/Sweep'];
const context = { taskbound: { policyFile: 'test/infra/fixtures/orgs.policy.yaml', alarmEmail: 'oncall@example.com' } };

let prod: Template;
let logs: Template;
let hub: Template;
beforeAll(() => {
  const spokes = buildSpokeApp({ app: new App({ context: { ...context, taskboundSpoke: { hubEngineRoleArns: HUB_ROLES } } }) });
  // Synthesis runs cdk-nag: an unacknowledged finding throws here.
  spokes.app.synth();
  [prod, logs] = spokes.spokes.map((spoke) => Template.fromStack(spoke)) as [Template, Template];
  const hubApp = buildTaskboundApp({
    app: new App({ context }),
    codeFor: () => lambda.Code.fromInline('export const handler = async () => ({});'),
  });
  hubApp.app.synth();
  hub = Template.fromStack(hubApp.engine);
}, 180_000);

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
const statementsOfType = (template: Template, type: string): Statement[] =>
  Object.values(template.findResources(type)).flatMap(
    (resource) => (resource.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
  );

describe('spoke template as a StackSet deploys it', () => {
  // A StackSet creates the stack in member accounts that were never CDK-bootstrapped: a parameter
  // read from the bootstrap's SSM parameter (/cdk-bootstrap/.../version) fails every such instance.
  it.each([
    ['the production', () => prod],
    ['the logging', () => logs],
  ])('%s spoke asks nothing of a CDK bootstrap (no BootstrapVersion parameter, no rule checking it)', (_account, template) => {
    const { Parameters, Rules } = template().toJSON() as { Parameters?: object; Rules?: object };
    expect(JSON.stringify({ Parameters, Rules })).not.toContain('cdk-bootstrap');
    expect(Parameters ?? {}).not.toHaveProperty('BootstrapVersion');
  });
});

describe('spoke engine role', () => {
  it('is named <instanceName>-spoke-engine and trusts only the hub engine role ARNs, in sessions named for the engine, setting no source identity', () => {
    prod.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'taskbound-spoke-engine',
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: HUB_ROLES },
            Action: 'sts:AssumeRole',
            Condition: { StringLike: { 'sts:RoleSessionName': 'taskbound-engine-*' } },
          },
        ],
      },
    });
  });

  it('may act only on this account’s agent roles and /taskbound/ users (listing users and reading CloudTrail aside, which IAM authorizes on *)', () => {
    const anyResource = ['iam:ListUsers', 'cloudtrail:LookupEvents'];
    const scoped = statementsOfType(prod, 'AWS::IAM::Policy').filter((statement) => !anyResource.includes(String(statement.Action)));
    expect(
      statementsOfType(prod, 'AWS::IAM::Policy')
        .filter((statement) => statement.Resource === '*')
        .map((statement) => statement.Action),
    ).toEqual(anyResource);
    const resources = scoped.flatMap((statement) => [statement.Resource].flat());
    expect(resources.length).toBeGreaterThan(0);
    for (const resource of resources) {
      const text = JSON.stringify(resource);
      expect(text).toContain('{"Ref":"AWS::AccountId"}');
      expect(text).toMatch(/:role\/taskbound-agent-\*|:user\/taskbound\/\*/);
    }
  });

  it('refuses a policy that names no account, saying which file and how to give the hub’s (no stack would be deployed)', () => {
    const examplePolicy = { taskbound: { ...context.taskbound, policyFile: 'examples/taskbound.policy.yaml' } };
    expect(() =>
      buildSpokeApp({ app: new App({ context: { ...examplePolicy, taskboundSpoke: { hubEngineRoleArns: HUB_ROLES } } }) }),
    ).toThrow(
      "examples/taskbound.policy.yaml names no account (a scope's or agent's `account:`), so there is no spoke to deploy: " +
        'synthesize with the policy file the hub was deployed with (-c taskbound:policyFile=FILE)',
    );
  });

  it('refuses a spoke without the hub engine role ARNs', () => {
    expect(() =>
      buildSpokeApp({ app: new App({ context: { ...context, taskboundSpoke: { hubEngineRoleArns: ['not-an-arn'] } } }) }),
    ).toThrow(/not an IAM role ARN/);
  });
});

describe('agent roles in a spoke', () => {
  it('trust only the spoke engine role, for a grant-shaped SourceIdentity, under the boundary, tagged managed', () => {
    prod.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'taskbound-agent-ops-bot',
      PermissionsBoundary: Match.anyValue(),
      Tags: Match.arrayWith([{ Key: 'taskbound:managed', Value: 'true' }]),
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: {
              AWS: {
                'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':role/taskbound-spoke-engine']],
              },
            },
            Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'],
            Condition: { StringLike: { 'sts:SourceIdentity': `g-${'?'.repeat(26)}` } },
          },
        ],
      },
    });
  });

  it('hold only this account’s session scopes, and deny chaining to any other role', () => {
    const statements = statementsOfType(prod, 'AWS::IAM::ManagedPolicy');
    // The hub boundary's list (issued-credential-boundary.ts): chaining and sts:GetSessionToken.
    expect(statements).toContainEqual(
      expect.objectContaining({ Sid: 'NoRoleChaining', Effect: 'Deny', Action: [...SESSION_MINTING_ACTIONS], Resource: '*' }),
    );
    const allowed = JSON.stringify(statements.filter((statement) => statement.Effect === 'Allow'));
    expect(allowed).toContain(`arn:aws:codedeploy:us-east-1:${PROD}:deploymentgroup:web/prod`);
    expect(allowed).not.toContain(LOGS);
    expect(allowed).not.toContain('hub-reports');
    expect(JSON.stringify(statementsOfType(logs, 'AWS::IAM::ManagedPolicy'))).not.toContain(PROD);
  });

  it('retain nothing under a fixed name, so a spoke can be deployed again after a destroy', () => {
    expect(retainedFixedNames(prod.toJSON())).toEqual([]);
    expect(retainedFixedNames(logs.toJSON())).toEqual([]);
  });

  it('keep the inline budget whole for the revoked-sessions deny (no inline policies)', () => {
    for (const role of Object.values(prod.findResources('AWS::IAM::Role', { Properties: { RoleName: 'taskbound-agent-ops-bot' } }))) {
      expect(role.Properties.Policies).toBeUndefined();
    }
  });
});

describe('issued-user boundary in a spoke', () => {
  it('has the fixed name the hub computes, under /taskbound/', () => {
    prod.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: 'taskbound-issued-credential-boundary',
      Path: '/taskbound/',
    });
  });
});

describe('session canary in a spoke', () => {
  const canaryArnPattern = {
    'Fn::Join': [
      '',
      ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:', { Ref: 'AWS::Region' }, `:${PROD}:secret:taskbound-engine/canary-??????`],
    ],
  };
  const describesCanary = { Effect: 'Allow', Action: 'secretsmanager:DescribeSecret', Resource: canaryArnPattern };

  it('is a secret of this account with the name the hub probes in every account', () => {
    prod.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'taskbound-engine/canary', SecretString: 'canary' });
    prod.hasOutput('SpokeCanaryArn', { Value: { Ref: Match.stringLikeRegexp('^SessionCanary') } });
  });

  it('may be described by every agent role and under the issued-credential boundary, and by nothing else', () => {
    prod.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: 'taskbound-issued-credential-boundary',
      PolicyDocument: { Statement: Match.arrayWith([describesCanary]) },
    });
    const agentPolicies = Object.values(prod.findResources('AWS::IAM::ManagedPolicy')).filter(
      (resource) => resource.Properties.ManagedPolicyName === undefined,
    );
    expect(agentPolicies.length).toBeGreaterThan(0);
    for (const policy of agentPolicies) expect(policy.Properties.PolicyDocument.Statement).toContainEqual(describesCanary);
    expect(JSON.stringify(statementsOfType(prod, 'AWS::IAM::Policy'))).not.toContain('canary');
  });
});

describe('hub engine', () => {
  it('may assume exactly the spoke engine roles of the accounts the policy names, in sessions named for the engine', () => {
    const assume = statementsOfType(hub, 'AWS::IAM::Policy').filter((statement) => statement.Sid === 'AssumeSpokeEngineRoles');
    expect(assume.length).toBeGreaterThan(0);
    for (const statement of assume) {
      const resources = JSON.stringify(statement.Resource);
      expect(resources).toContain(`:iam::${PROD}:role/taskbound-spoke-engine`);
      expect(resources).toContain(`:iam::${LOGS}:role/taskbound-spoke-engine`);
      expect([statement.Resource].flat()).toHaveLength(2);
      expect(statement.Action).toBe('sts:AssumeRole');
      expect(statement.Condition).toEqual({ StringLike: { 'sts:RoleSessionName': 'taskbound-engine-*' } });
    }
  });

  it('outputs the engine role ARNs the spokes trust', () => {
    hub.hasOutput('EngineRoleArns', { Value: Match.anyValue() });
    const value = JSON.stringify(hub.findOutputs('EngineRoleArns').EngineRoleArns!.Value);
    for (const handler of ['task-started', 'slack-interactions', ...REVOKING])
      expect(value).toContain(`:role/taskbound-engine/taskbound-${handler}-`);
    // No operators are configured: the operator endpoint's role does not exist, so no spoke may trust its name.
    for (const handler of ['operator-api', 'grant-decision', 'alerts', 'digest']) expect(value).not.toContain(`taskbound-${handler}-`);
  });
});
