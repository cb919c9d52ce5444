// Tests: the decision paths in the synthesized stacks. The operator endpoint is an AWS_IAM
// function URL only the configured principals may invoke, closed (with a warning) when none
// are configured; the functions that decide hold the issuing permissions, the bus route none.
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config';
import { OPERATOR_ENDPOINT_CLOSED } from '../../lib/constructs/operator-endpoint';
import { buildTaskboundApp } from '../../lib/taskbound-app';
import { synthesizedApp, type SynthesizedApp } from './synthesized-app';

const OPERATORS = ['arn:aws:iam::111122223333:role/security-operators'];
type Statement = { Sid?: string; Action: unknown; Condition?: unknown };

let synth: SynthesizedApp;
beforeAll(() => {
  synth = synthesizedApp();
}, 120_000);

function statementsOf(template: Template, handlerPascal: string): Statement[] {
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const roleId = Object.keys(resources).find((id) => id.startsWith(`${handlerPascal}Role`) && !id.includes('Policy'));
  if (!roleId) throw new Error(`no role for ${handlerPascal}`);
  return Object.values(resources)
    .filter((resource) => resource.Type === 'AWS::IAM::Policy' && JSON.stringify(resource.Properties.Roles).includes(roleId))
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
const sids = (template: Template, handlerPascal: string) =>
  statementsOf(template, handlerPascal)
    .map((statement) => statement.Sid)
    .filter(Boolean)
    .sort();

describe('operator endpoint, with operators configured', () => {
  it('is a function URL with AuthType AWS_IAM, output as OperatorUrl', () => {
    synth.engineTemplate.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OperatorApi'), 'Arn'] },
    });
    synth.engineTemplate.hasOutput('OperatorUrl', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('OperatorApi'), 'FunctionUrl'] } });
  });

  it('lets exactly the configured principals invoke it, and only through the URL', () => {
    const permissions = Object.values(
      synth.engineTemplate.findResources('AWS::Lambda::Permission', {
        Properties: { FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OperatorApi'), 'Arn'] } },
      }),
    );
    expect(permissions.map((permission) => permission.Properties).sort((a, b) => String(a.Action).localeCompare(String(b.Action)))).toEqual(
      [
        expect.objectContaining({ Action: 'lambda:InvokeFunction', Principal: OPERATORS[0], InvokedViaFunctionUrl: true }),
        expect.objectContaining({ Action: 'lambda:InvokeFunctionUrl', Principal: OPERATORS[0], FunctionUrlAuthType: 'AWS_IAM' }),
      ],
    );
  });

  it('gives the deciding functions the issuing permissions, and the bus decision route only reading and answering', () => {
    const issuing = [
      'AssumeAgentRoles',
      'CreateBoundedUsers',
      'CreateDeliverySecrets',
      'GrantTable',
      'ManageExpirySchedules',
      'PublishGrantEvents',
    ];
    expect(sids(synth.engineTemplate, 'OperatorApi')).toEqual(expect.arrayContaining(issuing));
    expect(sids(synth.engineTemplate, 'SlackInteractions')).toEqual(expect.arrayContaining([...issuing, 'ReadSlackSecret']));
    expect(sids(synth.engineTemplate, 'GrantDecision')).toEqual([
      'FreeConcurrencySlots',
      'GrantTable',
      'PublishGrantEvents',
      'WriteOwnLogs',
    ]);
    expect(sids(synth.engineTemplate, 'OperatorApi')).not.toContain('ReadSlackSecret');
  });

  it('publishes nothing on the bus as taskbound.slack and no longer trusts a CLI source', () => {
    const everything = JSON.stringify([synth.engineTemplate.toJSON(), synth.stateTemplate.toJSON()]);
    expect(everything).not.toContain('PublishSlackDecisions');
    expect(everything).not.toContain('OnlyOperatorsSpeakAsTheCli');
    expect(everything).not.toContain('SLACK_APPROVERS');
  });
});

describe('operator endpoint, closed by default', () => {
  it('creates no operator function or IAM URL, and synth warns that decisions are Slack-only', () => {
    const built = buildTaskboundApp({
      app: new App({ context: { taskbound: {} } }),
      codeFor: () => lambda.Code.fromInline('export const handler = async () => ({});'),
    });
    built.app.synth();
    const template = Template.fromStack(built.engine);
    template.resourcePropertiesCountIs('AWS::Lambda::Url', { AuthType: 'AWS_IAM' }, 0);
    template.resourceCountIs('AWS::Lambda::Url', 1);
    expect(Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { Description: 'Taskbound operator-api' } }))).toEqual(
      [],
    );
    expect(Object.keys(template.findOutputs('OperatorUrl'))).toEqual([]);
    Annotations.fromStack(built.engine).hasWarning(
      '*',
      Match.stringLikeRegexp('decisions are Slack-only|approvals, denials and resumes are Slack-only'),
    );
    expect(OPERATOR_ENDPOINT_CLOSED).toContain('Slack-only');
  }, 120_000);
});

describe('operatorPrincipalArns', () => {
  it('takes exact IAM role or user ARNs only: no wildcards, no session ARNs, and no longer slackApprovers', () => {
    expect(
      loadConfig({
        taskbound: { operatorPrincipalArns: ['arn:aws:iam::111122223333:role/ops/lead', 'arn:aws:iam::111122223333:user/cfo'] },
      }).operatorPrincipalArns,
    ).toHaveLength(2);
    for (const arn of [
      'arn:aws:iam::111122223333:role/*',
      'arn:aws:sts::111122223333:assumed-role/lead/s',
      'arn:aws:iam::111122223333:root',
    ]) {
      expect(() => loadConfig({ taskbound: { operatorPrincipalArns: [arn] } })).toThrow(
        /operatorPrincipalArns\.0: an exact IAM role or user ARN/,
      );
    }
    expect(() => loadConfig({ taskbound: { slackApprovers: { U0ABC: 'a@example.com' } } })).toThrow(/slackApprovers/);
  });
});
