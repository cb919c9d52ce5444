// Tests: the stacks synthesized in the two scale modes (docs/scale.md §8), cdk-nag included:
// `deliveryMode: dynamodb-kms` adds the delivery table (TTL, no stream, its resource policy) and
// tells the functions and runtimes where it is; `expiry: due-index` replaces per-grant schedules
// with per-minute readers, one per due shard, and no engine role may schedule.
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { DUE_SHARDS } from '../../lambdas/adapters/aws/grant-table';
import { buildTaskboundApp } from '../../lib/taskbound-app';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

function synthesize(context: Record<string, unknown>) {
  const built = buildTaskboundApp({
    app: new App({ context: { taskbound: context } }),
    codeFor: () => lambda.Code.fromInline('export const handler = async () => ({});'),
  });
  built.app.synth(); // cdk-nag: an unacknowledged finding throws here
  return { state: Template.fromStack(built.stateful), engine: Template.fromStack(built.engine) };
}

describe('the scale modes, synthesized', () => {
  let scaled: ReturnType<typeof synthesize>;
  let defaults: ReturnType<typeof synthesize>;
  beforeAll(() => {
    scaled = synthesize({ deliveryMode: 'dynamodb-kms', expiry: 'due-index' });
    defaults = synthesize({});
  }, 240_000);

  const resources = (template: Template) => template.toJSON().Resources as Resources;
  const environments = (template: Template) =>
    Object.values(resources(template))
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map((resource) => (resource.Properties.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {});

  it('adds a delivery table keyed by agent and task, with TTL, and outputs its name for runtimes', () => {
    scaled.state.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'agentId', KeyType: 'HASH' },
        { AttributeName: 'taskId', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAtEpoch', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
    expect(Object.keys(scaled.state.toJSON().Outputs)).toContain('DeliveryTableName');
    defaults.state.resourceCountIs('AWS::DynamoDB::Table', 0);
    expect(Object.keys(defaults.state.toJSON().Outputs)).not.toContain('DeliveryTableName');
  });

  it('tells every engine function the modes, and the delivery table in the dynamodb-kms mode', () => {
    for (const variables of environments(scaled.engine).filter(
      (variables) => 'TABLE_NAME' in variables && 'ENGINE_ROLE_ARNS' in variables,
    )) {
      expect(variables).toMatchObject({ DELIVERY_MODE: 'dynamodb-kms', EXPIRY_MODE: 'due-index', DELIVERY_TABLE_NAME: expect.anything() });
    }
    for (const variables of environments(defaults.engine).filter((variables) => 'ENGINE_ROLE_ARNS' in variables)) {
      expect(variables).toMatchObject({ DELIVERY_MODE: 'secrets-manager', EXPIRY_MODE: 'schedule' });
      expect(variables).not.toHaveProperty('DELIVERY_TABLE_NAME');
    }
  });

  it(`invokes the expire function every minute once per due shard (${DUE_SHARDS}), at most five targets per rule`, () => {
    const rules = Object.values(resources(scaled.engine)).filter(
      (resource) => resource.Type === 'AWS::Events::Rule' && String(resource.Properties.Description ?? '').includes('due-index shards'),
    );
    const targets = rules.flatMap((rule) => rule.Properties.Targets as { Input: string }[]);
    expect(rules.every((rule) => rule.Properties.ScheduleExpression === 'rate(1 minute)')).toBe(true);
    expect(rules.every((rule) => (rule.Properties.Targets as unknown[]).length <= 5)).toBe(true);
    expect(
      targets
        .map((target) => JSON.parse(target.Input) as { dueShard: number })
        .map((input) => input.dueShard)
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: DUE_SHARDS }, (_, shard) => shard));
    const defaultRules = Object.values(resources(defaults.engine)).filter((resource) =>
      String(resource.Properties.Description ?? '').includes('due-index shards'),
    );
    expect(defaultRules).toEqual([]);
  });

  it('grants no engine role a scheduler action in the due-index mode (and some in the default)', () => {
    const schedulerActions = (template: Template) =>
      JSON.stringify(Object.values(resources(template)).filter((resource) => resource.Type === 'AWS::IAM::Policy')).match(
        /scheduler:\w+/g,
      ) ?? [];
    expect(schedulerActions(scaled.engine)).toEqual([]);
    expect(schedulerActions(defaults.engine)).toContain('scheduler:CreateSchedule');
  });
});
