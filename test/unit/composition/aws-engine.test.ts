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
      QUOTA_SHARE: '141',
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
      QUOTA_SHARE: '141',
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

  describe('pacing at the documented quotas (docs/scale.md §4)', () => {
    const ENGINE = {
      TABLE_NAME: 'taskbound-grants',
      EVENT_BUS_NAME: 'taskbound',
      ACCOUNT_ID: '111122223333',
      INSTANCE_NAME: 'taskbound',
      PERMISSIONS_BOUNDARY_ARN: 'arn:aws:iam::111122223333:policy/boundary',
      ENGINE_ROLE_ARNS: 'arn:aws:iam::111122223333:role/taskbound-engine/taskbound-task-started-us-east-1',
      CANARY_SECRET_NAME: 'taskbound-engine/canary',
      SCHEDULER_GROUP: 'taskbound-expiry',
      SCHEDULER_ROLE_ARN: 'arn:aws:iam::111122223333:role/scheduler',
      EXPIRE_FUNCTION_ARN: 'arn:aws:lambda:us-east-1:111122223333:function:taskbound-expire-grant',
      SCHEDULER_DLQ_ARN: 'arn:aws:sqs:us-east-1:111122223333:dlq',
      TASKBOUND_POLICY: compiledPolicy(TEST_POLICY_YAML, 'test.policy.yaml'),
    };
    type Client = { config: { serviceId?: string }; middlewareStack: { identify(): string[]; add(middleware: unknown, options: object): void }; send(command: unknown): Promise<unknown> };
    /** The SDK clients the engine holds (in its adapters' private fields), by service. */
    const clientsOf = (root: unknown) => {
      const found = new Map<string, Client>();
      const seen = new Set<unknown>();
      const visit = (value: unknown, depth: number) => {
        if (typeof value !== 'object' || value === null || seen.has(value) || depth > 6) return;
        seen.add(value);
        if ('middlewareStack' in value && 'send' in value && 'config' in value) found.set((value as Client).config.serviceId ?? '?', value as Client);
        else for (const key of Object.keys(value)) visit((value as Record<string, unknown>)[key], depth + 1);
      };
      visit(root, 0);
      return found;
    };

    it('refuses to start without the quota share, or with none, naming it', async () => {
      for (const [name, value] of Object.entries(ENGINE)) vi.stubEnv(name, value);
      await expect((await compositionRoot()).awsEngine()).rejects.toThrow(/QUOTA_SHARE/);
      vi.resetModules();
      vi.stubEnv('QUOTA_SHARE', '0');
      await expect((await compositionRoot()).awsEngine()).rejects.toThrow(/QUOTA_SHARE/);
    });

    it('paces the Secrets Manager, EventBridge and Scheduler clients, and no other, to the quota divided by the share', async () => {
      // 50 CreateSecret/s shared by 25 containers: 2/s here, with a burst of 2.
      // A key only to sign with: nothing is sent.
      for (const [name, value] of Object.entries({ ...ENGINE, QUOTA_SHARE: '25', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'example' })) vi.stubEnv(name, value);
      const clients = clientsOf(await (await compositionRoot()).awsEngine());
      const paced = [...clients].filter(([, client]) => client.middlewareStack.identify().some((entry) => entry.startsWith('taskboundQuotaThrottle')));
      expect(paced.map(([service]) => service).sort()).toEqual(['EventBridge', 'Scheduler', 'Secrets Manager']);

      const secrets = clients.get('Secrets Manager')!;
      // Answered in the client, after the pacing, so no request leaves the process.
      secrets.middlewareStack.add(() => async () => ({ output: { $metadata: {} }, response: { statusCode: 200, headers: {} } }), { step: 'deserialize', name: 'answered' });
      const { CreateSecretCommand } = await import('@aws-sdk/client-secrets-manager');
      const began = performance.now();
      await Promise.all(Array.from({ length: 5 }, (_, index) => secrets.send(new CreateSecretCommand({ Name: `taskbound/${index}` }))));
      // Two at once, then one every half second: the fifth leaves 1.5 s after the first.
      expect(performance.now() - began).toBeGreaterThanOrEqual(1400);
    });
  });
});
