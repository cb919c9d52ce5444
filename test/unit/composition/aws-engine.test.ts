import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { compiledPolicy } from '../../../lib/bundling';
import { TEST_POLICY_YAML } from '../../helpers/test-policy';

const SLACK_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:taskbound/slack-AbCdEf';

/** A fresh module each time: the root memoizes what it built. */
const compositionRoot = () => import('../../../lambdas/composition/aws-engine');

/** A revoking function's environment as the stack sets it (lib/constructs/functions/environment.ts). */
const REVOKING_ENV = {
  TABLE_NAME: 'taskbound-grants',
  EVENT_BUS_NAME: 'taskbound',
  ACCOUNT_ID: '111122223333',
  INSTANCE_NAME: 'taskbound',
  AGENT_ROLE_PREFIX: 'taskbound-agent-',
  AGENT_ROLE_MAX_SESSION_SECONDS: '3600',
  DELIVERY_MODE: 'secrets-manager',
  DELIVERY_KMS_KEY_ARN: 'arn:aws:kms:us-east-1:111122223333:key/1234',
  ENGINE_ROLE_ARNS: 'arn:aws:iam::111122223333:role/taskbound-engine/taskbound-task-ended-us-east-1',
  EXPIRY_MODE: 'schedule',
  SCHEDULER_GROUP: 'taskbound-expiry',
  CANARY_SECRET_NAME: 'taskbound-engine/canary',
  QUOTA_SHARE: '121',
};
/** What arming an expiry adds (the expiring and issuing functions). */
const ARMING_ENV = {
  SCHEDULER_ROLE_ARN: 'arn:aws:iam::111122223333:role/scheduler',
  EXPIRE_FUNCTION_ARN: 'arn:aws:lambda:us-east-1:111122223333:function:taskbound-expire-grant',
  SCHEDULER_DLQ_ARN: 'arn:aws:sqs:us-east-1:111122223333:dlq',
};
/** An issuing function's: all of the above, the boundary, and its own role and quota share. */
const ISSUING_ENV = {
  ...REVOKING_ENV,
  ...ARMING_ENV,
  PERMISSIONS_BOUNDARY_ARN: 'arn:aws:iam::111122223333:policy/boundary',
  ENGINE_ROLE_ARNS: 'arn:aws:iam::111122223333:role/taskbound-engine/taskbound-task-started-us-east-1',
  QUOTA_SHARE: '141',
};

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
    for (const [name, value] of Object.entries({ TABLE_NAME: 'taskbound-grants', EVENT_BUS_NAME: 'taskbound', SLACK_SECRET_ARN }))
      vi.stubEnv(name, value);
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
      ...ISSUING_ENV,
      SLACK_SECRET_ARN,
      SLACK_TEAM_ID: 'T0ACME',
    };
    for (const [name, value] of Object.entries(engineEnv)) vi.stubEnv(name, value);
    const { awsSlackInteractions, awsIssuingEngine } = await compositionRoot();
    const deps = awsSlackInteractions();
    expect(deps.config).toEqual({ teamId: 'T0ACME' });
    expect(deps.engine).toBe(awsIssuingEngine);
    expect(awsSlackInteractions()).toBe(deps);
  });

  describe('each kind of engine function, configured with exactly what it uses', () => {
    /** What a revoking function's stack environment holds (lib/constructs/functions/environment.ts). */
    const REVOKING = { ...REVOKING_ENV, TASKBOUND_POLICY: compiledPolicy(TEST_POLICY_YAML, 'test.policy.yaml') };
    const ARMING = ARMING_ENV;
    const stub = (variables: Record<string, string>) => {
      for (const name of ['PERMISSIONS_BOUNDARY_ARN', ...Object.keys(ARMING)]) vi.stubEnv(name, undefined);
      for (const [name, value] of Object.entries(variables)) vi.stubEnv(name, value);
    };
    /** The class names of every object the engine holds (its adapters, their options), to see which were built. */
    const classesIn = (root: unknown) => {
      const names = new Set<string>();
      const seen = new Set<unknown>();
      const visit = (value: unknown, depth: number) => {
        if (typeof value !== 'object' || value === null || seen.has(value) || depth > 5) return;
        seen.add(value);
        names.add(value.constructor.name);
        if (!('middlewareStack' in value)) for (const key of Object.keys(value)) visit((value as Record<string, unknown>)[key], depth + 1);
      };
      visit(root, 0);
      return names;
    };
    const ISSUE_REQUEST = {
      grantId: 'g-aaaaaaaaaaaaaaaaaaaaaaaaaa',
      taskId: 't-1',
      agentId: 'release-bot',
      kind: 'aws-iam-access-key' as const,
      statements: [],
      brokeredSecretArns: [],
      ttlSeconds: 900,
      expiresAt: new Date('2030-01-01T00:15:00Z'),
    };

    it('starts a revoking function without the boundary or the schedule target: it cancels expiries and refuses to issue or arm', async () => {
      stub(REVOKING);
      const deps = await (await compositionRoot()).awsRevokingEngine();
      const classes = classesIn(deps);
      expect(classes).toContain('EventBridgeScheduleCanceller');
      expect(classes).not.toContain('EventBridgeSchedulerExpiry');
      // Refused in the adapter, before any IAM call (there is no endpoint to reach here).
      await expect(deps.issuers['aws-iam-access-key'].issue(ISSUE_REQUEST)).rejects.toThrow(
        /only revokes: it was built without a permissions boundary/,
      );
    });

    it('needs the schedule target for an expiring function (it re-arms an early expiry), naming what is missing, and no boundary', async () => {
      stub(REVOKING);
      await expect((await compositionRoot()).awsExpiringEngine()).rejects.toThrow(
        /^invalid configuration: SCHEDULER_ROLE_ARN: required with EXPIRY_MODE=schedule; EXPIRE_FUNCTION_ARN: required .*; SCHEDULER_DLQ_ARN: required/,
      );
      vi.resetModules();
      stub({ ...REVOKING, ...ARMING });
      const deps = await (await compositionRoot()).awsExpiringEngine();
      expect(classesIn(deps)).toContain('EventBridgeSchedulerExpiry');
      await expect(deps.issuers['aws-iam-access-key'].issue(ISSUE_REQUEST)).rejects.toThrow(/only revokes/);
    });

    it('needs the permissions boundary for an issuing function, naming it', async () => {
      stub({ ...REVOKING, ...ARMING });
      await expect((await compositionRoot()).awsIssuingEngine()).rejects.toThrow(/^invalid configuration: PERMISSIONS_BOUNDARY_ARN/);
    });

    it('has no default for what the stack always sets: the modes and the agent role prefix are named when missing', async () => {
      stub(REVOKING);
      for (const name of ['DELIVERY_MODE', 'EXPIRY_MODE', 'AGENT_ROLE_PREFIX']) vi.stubEnv(name, undefined);
      const failure = (await compositionRoot()).awsRevokingEngine();
      await expect(failure).rejects.toThrow(/AGENT_ROLE_PREFIX: .*DELIVERY_MODE: .*EXPIRY_MODE: /);
    });

    it('builds one set of SDK clients per container, whichever kinds of engine it builds', async () => {
      stub({ ...REVOKING, ...ARMING, PERMISSIONS_BOUNDARY_ARN: 'arn:aws:iam::111122223333:policy/boundary' });
      const root = await compositionRoot();
      const [issuing, revoking] = [await root.awsIssuingEngine(), await root.awsRevokingEngine()];
      expect(revoking).not.toBe(issuing);
      expect((revoking.store as unknown as { client: unknown }).client).toBe((issuing.store as unknown as { client: unknown }).client);
      expect(await root.awsRevokingEngine()).toBe(revoking);
    });
  });

  describe('the scale modes (docs/scale.md §8)', () => {
    // No Scheduler setting: each test adds what its modes need.
    const {
      SCHEDULER_GROUP: _group,
      SCHEDULER_ROLE_ARN: _role,
      EXPIRE_FUNCTION_ARN: _target,
      SCHEDULER_DLQ_ARN: _dlq,
      ...ENGINE
    } = ISSUING_ENV;
    const SCHEDULER = { SCHEDULER_GROUP: ISSUING_ENV.SCHEDULER_GROUP, ...ARMING_ENV };
    const POLICY = compiledPolicy(TEST_POLICY_YAML, 'test.policy.yaml');
    const stub = (variables: Record<string, string>) => {
      vi.stubEnv('TASKBOUND_POLICY', POLICY);
      for (const [name, value] of Object.entries(variables)) vi.stubEnv(name, value);
    };

    it('refuses the dynamodb-kms mode without its table, naming it', async () => {
      stub({ ...ENGINE, ...SCHEDULER, DELIVERY_MODE: 'dynamodb-kms' });
      const { awsIssuingEngine } = await compositionRoot();
      await expect(awsIssuingEngine()).rejects.toThrow(/DELIVERY_TABLE_NAME: required with DELIVERY_MODE=dynamodb-kms/);
    });

    it('refuses the schedule mode without the scheduler settings, and needs none of them in the due-index mode', async () => {
      stub({ ...ENGINE });
      await expect((await compositionRoot()).awsIssuingEngine()).rejects.toThrow(/SCHEDULER_GROUP: required with EXPIRY_MODE=schedule/);
      vi.resetModules();
      stub({ ...ENGINE, EXPIRY_MODE: 'due-index', DELIVERY_MODE: 'dynamodb-kms', DELIVERY_TABLE_NAME: 'taskbound-deliveries' });
      const deps = await (await compositionRoot()).awsIssuingEngine();
      const { DynamoDbKmsDeliveryVault } = await import('../../../lambdas/adapters/aws/dynamodb-kms-delivery-vault');
      expect(deps.vault).toBeInstanceOf(DynamoDbKmsDeliveryVault);
    });
  });

  describe('pacing at the documented quotas (docs/scale.md §4)', () => {
    const { QUOTA_SHARE: _share, ...ENGINE } = { ...ISSUING_ENV, TASKBOUND_POLICY: compiledPolicy(TEST_POLICY_YAML, 'test.policy.yaml') };
    type Client = {
      config: { serviceId?: string };
      middlewareStack: { identify(): string[]; add(middleware: unknown, options: object): void };
      send(command: unknown): Promise<unknown>;
    };
    /** The SDK clients the engine holds (in its adapters' private fields), by service. */
    const clientsOf = (root: unknown) => {
      const found = new Map<string, Client>();
      const seen = new Set<unknown>();
      const visit = (value: unknown, depth: number) => {
        if (typeof value !== 'object' || value === null || seen.has(value) || depth > 6) return;
        seen.add(value);
        if ('middlewareStack' in value && 'send' in value && 'config' in value)
          found.set((value as Client).config.serviceId ?? '?', value as Client);
        else for (const key of Object.keys(value)) visit((value as Record<string, unknown>)[key], depth + 1);
      };
      visit(root, 0);
      return found;
    };

    it('refuses to start without the quota share, or with none, naming it', async () => {
      for (const [name, value] of Object.entries(ENGINE)) vi.stubEnv(name, value);
      await expect((await compositionRoot()).awsIssuingEngine()).rejects.toThrow(/QUOTA_SHARE/);
      vi.resetModules();
      vi.stubEnv('QUOTA_SHARE', '0');
      await expect((await compositionRoot()).awsIssuingEngine()).rejects.toThrow(/QUOTA_SHARE/);
    });

    it('paces the Secrets Manager, EventBridge and Scheduler clients, and no other, to the quota divided by the share', async () => {
      // 50 CreateSecret/s shared by 25 containers: 2/s here, with a burst of 2.
      // A key only to sign with: nothing is sent.
      for (const [name, value] of Object.entries({
        ...ENGINE,
        QUOTA_SHARE: '25',
        AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'example',
      }))
        vi.stubEnv(name, value);
      const clients = clientsOf(await (await compositionRoot()).awsIssuingEngine());
      const paced = [...clients].filter(([, client]) =>
        client.middlewareStack.identify().some((entry) => entry.startsWith('taskboundQuotaThrottle')),
      );
      expect(paced.map(([service]) => service).sort()).toEqual(['EventBridge', 'Scheduler', 'Secrets Manager']);

      const secrets = clients.get('Secrets Manager')!;
      // Answered in the client, after the pacing, so no request leaves the process.
      secrets.middlewareStack.add(() => async () => ({ output: { $metadata: {} }, response: { statusCode: 200, headers: {} } }), {
        step: 'deserialize',
        name: 'answered',
      });
      const { CreateSecretCommand } = await import('@aws-sdk/client-secrets-manager');
      const began = performance.now();
      await Promise.all(Array.from({ length: 5 }, (_, index) => secrets.send(new CreateSecretCommand({ Name: `taskbound/${index}` }))));
      // Two at once, then one every half second: the fifth leaves 1.5 s after the first.
      expect(performance.now() - began).toBeGreaterThanOrEqual(1400);
    });
  });
});
