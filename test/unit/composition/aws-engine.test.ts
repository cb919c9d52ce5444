import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { compiledPolicy } from '../../../lib/bundling';
import { TEST_POLICY_YAML } from '../../helpers/test-policy';

const SLACK_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:taskbound/slack-AbCdEf';

/** A fresh module each time: the root memoizes what it built. */
const compositionRoot = () => import('../../../lambdas/composition/aws-engine');

describe('the AWS composition root', () => {
  beforeEach(() => {
    vi.resetModules();
    for (const name of ['TABLE_NAME', 'EVENT_BUS_NAME', 'CANARY_SECRET_NAME', 'SLACK_SECRET_ARN', 'SLACK_ROUTING', 'SLACK_TEAM_ID'])
      vi.stubEnv(name, undefined);
    vi.stubEnv('AWS_REGION', 'us-east-1');
  });
  afterEach(() => vi.unstubAllEnvs());

  it('refuses to build the alerts without the grant table, naming the variable', async () => {
    vi.stubEnv('SLACK_SECRET_ARN', SLACK_SECRET_ARN);
    const { awsAlerts } = await compositionRoot();
    await expect(awsAlerts()).rejects.toThrow(/^invalid configuration: TABLE_NAME/);
  });

  it('refuses to build the alerts without the Slack secret', async () => {
    vi.stubEnv('TABLE_NAME', 'taskbound-grants');
    const { awsAlerts } = await compositionRoot();
    await expect(awsAlerts()).rejects.toThrow('SLACK_SECRET_ARN is not set');
  });

  it('refuses a Slack routing that is not valid JSON before any alert is sent', async () => {
    vi.stubEnv('TABLE_NAME', 'taskbound-grants');
    vi.stubEnv('SLACK_SECRET_ARN', SLACK_SECRET_ARN);
    vi.stubEnv('SLACK_ROUTING', '{not json');
    const { awsAlerts } = await compositionRoot();
    await expect(awsAlerts()).rejects.toThrow('SLACK_ROUTING is not valid JSON');
  });

  it('builds what refusing a bus decision needs from the table and the bus alone, naming whichever is missing', async () => {
    vi.stubEnv('TABLE_NAME', 'taskbound-grants');
    const missingBus = await compositionRoot();
    await expect(missingBus.awsRefusals()).rejects.toThrow(/^invalid configuration: EVENT_BUS_NAME/);

    vi.resetModules();
    vi.stubEnv('EVENT_BUS_NAME', 'taskbound');
    const { awsRefusals } = await compositionRoot();
    const deps = await awsRefusals();
    expect(Object.keys(deps).sort()).toEqual(['clock', 'events', 'store']);
    expect(await awsRefusals()).toBe(deps);
  });

  it('takes the session canary’s name from the stack, with no default that could drift from it', async () => {
    for (const [name, value] of Object.entries({ TABLE_NAME: 'taskbound-grants', EVENT_BUS_NAME: 'taskbound', SLACK_SECRET_ARN })) vi.stubEnv(name, value);
    const { awsSlackInteractions } = await compositionRoot();
    expect(() => awsSlackInteractions()).toThrow(/CANARY_SECRET_NAME/);
  });

  it('needs the engine’s whole configuration for Slack decisions (a click may issue): without it, it refuses to start', async () => {
    vi.stubEnv('SLACK_SECRET_ARN', SLACK_SECRET_ARN);
    const { awsSlackInteractions } = await compositionRoot();
    expect(() => awsSlackInteractions()).toThrow(/^invalid configuration: TABLE_NAME/);
  });

  it('builds the Slack interaction endpoint once its configuration is whole, deciding with the engine', async () => {
    const engineEnv = {
      TABLE_NAME: 'taskbound-grants',
      EVENT_BUS_NAME: 'taskbound',
      ACCOUNT_ID: '111122223333',
      INSTANCE_NAME: 'taskbound',
      PERMISSIONS_BOUNDARY_ARN: 'arn:aws:iam::111122223333:policy/boundary',
      ENGINE_ROLE_ARNS: 'arn:aws:iam::111122223333:role/taskbound-engine/taskbound-task-started-us-east-1',
      SCHEDULER_GROUP: 'taskbound-expiry',
      SCHEDULER_ROLE_ARN: 'arn:aws:iam::111122223333:role/scheduler',
      EXPIRE_FUNCTION_ARN: 'arn:aws:lambda:us-east-1:111122223333:function:taskbound-expire-grant',
      SCHEDULER_DLQ_ARN: 'arn:aws:sqs:us-east-1:111122223333:dlq',
      CANARY_SECRET_NAME: 'taskbound-engine/canary',
      SLACK_SECRET_ARN,
      SLACK_TEAM_ID: 'T0ACME',
    };
    for (const [name, value] of Object.entries(engineEnv)) vi.stubEnv(name, value);
    const { awsSlackInteractions, awsEngine } = await compositionRoot();
    const deps = awsSlackInteractions();
    expect(deps.config).toEqual({ teamId: 'T0ACME' });
    expect(deps.engine).toBe(awsEngine);
    expect(awsSlackInteractions()).toBe(deps);
  });

  describe('the scale modes (docs/scale.md §8)', () => {
    const ENGINE = {
      TABLE_NAME: 'taskbound-grants',
      EVENT_BUS_NAME: 'taskbound',
      ACCOUNT_ID: '111122223333',
      INSTANCE_NAME: 'taskbound',
      PERMISSIONS_BOUNDARY_ARN: 'arn:aws:iam::111122223333:policy/boundary',
      ENGINE_ROLE_ARNS: 'arn:aws:iam::111122223333:role/taskbound-engine/taskbound-task-started-us-east-1',
      DELIVERY_KMS_KEY_ARN: 'arn:aws:kms:us-east-1:111122223333:key/1234',
      // Set by the stack, no default (lib/constructs/functions/environment.ts).
      CANARY_SECRET_NAME: 'taskbound-engine/canary',
    };
    const SCHEDULER = {
      SCHEDULER_GROUP: 'taskbound-expiry',
      SCHEDULER_ROLE_ARN: 'arn:aws:iam::111122223333:role/scheduler',
      EXPIRE_FUNCTION_ARN: 'arn:aws:lambda:us-east-1:111122223333:function:taskbound-expire-grant',
      SCHEDULER_DLQ_ARN: 'arn:aws:sqs:us-east-1:111122223333:dlq',
    };
    const POLICY = compiledPolicy(TEST_POLICY_YAML, 'test.policy.yaml');
    const stub = (variables: Record<string, string>) => {
      vi.stubEnv('TASKBOUND_POLICY', POLICY);
      for (const [name, value] of Object.entries(variables)) vi.stubEnv(name, value);
    };

    it('refuses the dynamodb-kms mode without its table, naming it', async () => {
      stub({ ...ENGINE, ...SCHEDULER, DELIVERY_MODE: 'dynamodb-kms' });
      const { awsEngine } = await compositionRoot();
      await expect(awsEngine()).rejects.toThrow(/DELIVERY_TABLE_NAME: required with DELIVERY_MODE=dynamodb-kms/);
    });

    it('refuses the schedule mode without the scheduler settings, and needs none of them in the due-index mode', async () => {
      stub({ ...ENGINE });
      await expect((await compositionRoot()).awsEngine()).rejects.toThrow(/SCHEDULER_GROUP: required with EXPIRY_MODE=schedule/);
      vi.resetModules();
      stub({ ...ENGINE, EXPIRY_MODE: 'due-index', DELIVERY_MODE: 'dynamodb-kms', DELIVERY_TABLE_NAME: 'taskbound-deliveries' });
      const deps = await (await compositionRoot()).awsEngine();
      const { DynamoDbKmsDeliveryVault } = await import('../../../lambdas/adapters/aws/dynamodb-kms-delivery-vault');
      expect(deps.vault).toBeInstanceOf(DynamoDbKmsDeliveryVault);
    });
  });
});
