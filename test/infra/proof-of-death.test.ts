// Tests: what the stacks give the proof of death: the session canary, the boundary's room for
// it, and CloudTrail lookups for the sweep alone.
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { roleStatements } from './iam-escalation';
import { synthesizedApp, type SynthesizedApp } from './synthesized-app';

let synth: SynthesizedApp;
beforeAll(() => {
  synth = synthesizedApp();
}, 120_000);

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
const actionsOf = (statement: { Action?: unknown }) => [statement.Action].flat().map((action) => String(action).toLowerCase());

describe('the session canary', () => {
  it('is a secret of the stateful stack, named outside the delivery prefix, deleted with the stack (it holds nothing)', () => {
    synth.stateTemplate.hasResource('AWS::SecretsManager::Secret', {
      Properties: Match.objectLike({ Name: 'taskbound-engine/canary' }),
      DeletionPolicy: 'Delete',
    });
  });

  it('may be described by every issued credential, as far as the boundary is concerned', () => {
    const boundary = Object.values(synth.stateTemplate.toJSON().Resources as Resources).find(
      (resource) => resource.Type === 'AWS::IAM::ManagedPolicy',
    );
    const statements = (boundary?.Properties.PolicyDocument as { Statement: { Effect: string; Action: unknown; Resource: unknown }[] })
      .Statement;
    const canary = statements.filter((statement) => actionsOf(statement).includes('secretsmanager:describesecret'));

    expect(canary).toHaveLength(1);
    expect(canary[0]?.Effect).toBe('Allow');
    expect(JSON.stringify(canary[0]?.Resource)).toContain(':secret:taskbound-engine/canary-??????');
  });

  it('is named to every function, so sessions are issued with it and probed against it', () => {
    synth.engineTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Taskbound sweep',
      Environment: { Variables: Match.objectLike({ CANARY_SECRET_NAME: 'taskbound-engine/canary' }) },
    });
  });
});

describe('use after revocation', () => {
  it('lets only the sweep look up CloudTrail events, and nothing else there', () => {
    const resources = synth.engineTemplate.toJSON().Resources as Resources;
    const statementsOf = (resource: Resources[string]) =>
      (resource.Properties.PolicyDocument as { Statement: { Action: unknown }[] }).Statement;
    const touchesCloudTrail = (statement: { Action: unknown }) => actionsOf(statement).some((action) => action.startsWith('cloudtrail:'));
    const lookingUp = Object.entries(resources).filter(
      ([, resource]) => resource.Type === 'AWS::IAM::Policy' && statementsOf(resource).some(touchesCloudTrail),
    );

    expect(lookingUp.map(([id]) => id)).toEqual([expect.stringMatching(/^SweepRole/)]);
    const cloudTrail = statementsOf(lookingUp[0]![1]).filter(touchesCloudTrail);
    expect(cloudTrail).toEqual([expect.objectContaining({ Action: 'cloudtrail:LookupEvents', Resource: '*' })]);
  });

  it('no longer asks IAM for a key’s last use', () => {
    const all = roleStatements(synth.engineTemplate.toJSON()).flatMap(actionsOf);
    expect(all).not.toContain('iam:getaccesskeylastused');
  });
});
