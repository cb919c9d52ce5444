// Tests: the engine's health reaches Slack: alarms through the alarm topic, routine events in a digest.
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesizedApp, type SynthesizedApp } from './synthesized-app';

describe('SlackHealth', () => {
  let synth: SynthesizedApp;
  beforeAll(() => {
    synth = synthesizedApp();
  });

  it('subscribes the alarm-to-slack function to the alarm topic every alarm publishes to', () => {
    const alarmFunction = synth.engine.getLogicalId(synth.engine.functions['alarm-to-slack'].node.defaultChild as never);
    const topics = synth.engineTemplate.findResources('AWS::SNS::Topic');
    expect(Object.keys(topics)).toHaveLength(1);
    synth.engineTemplate.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: Object.keys(topics)[0] },
      Endpoint: { 'Fn::GetAtt': [alarmFunction, 'Arn'] },
    });
  });

  it('posts the digest on a schedule, with a dead-letter queue, and lets only the digest scan the grant table (the sweep: its live index)', () => {
    const digest = synth.engine.getLogicalId(synth.engine.functions.digest.node.defaultChild as never);
    synth.engineTemplate.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [digest, 'Arn'] }, DeadLetterConfig: Match.anyValue() })],
    });
    const policies = Object.values(synth.engineTemplate.findResources('AWS::IAM::Policy')) as {
      Properties: { PolicyDocument: { Statement: { Action: unknown }[] }; Roles: unknown[] };
    }[];
    const scanning = policies.filter((policy) =>
      policy.Properties.PolicyDocument.Statement.some((statement) => JSON.stringify(statement.Action).includes('dynamodb:Scan')),
    );
    // The digest scans the table; the sweep only the sparse index of live grants (engine-permissions.ts scanLiveGrants).
    expect(scanning).toHaveLength(2);
    const scanners = scanning.map((policy) => JSON.stringify(policy.Properties.Roles));
    expect(scanners.filter((roles) => roles.includes('Digest'))).toHaveLength(1);
    const sweepScan = scanning
      .find((policy) => JSON.stringify(policy.Properties.Roles).includes('Sweep'))
      ?.Properties.PolicyDocument.Statement.find((statement) => JSON.stringify(statement.Action).includes('dynamodb:Scan'));
    expect(JSON.stringify(sweepScan)).toContain('/index/liveByAgent');
  });
});
