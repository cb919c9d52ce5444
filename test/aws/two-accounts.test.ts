// AWS emulator tier, two accounts (hub and spoke): moto keeps separate state per account and
// takes a request's account from its access key, so the hub engine (an IAM user of account A)
// reaches account B only by assuming the spoke engine role the spoke stack creates there. A task
// whose scopes name account B is issued, revoked, proven dead and swept in B, an orphan in B is
// found there, and account A holds nothing of it but its delivery (deliveries live in the hub). An agent
// acting in both is killed in both; a spoke the engine cannot reach refuses cleanly; a spoke lifecycle
// costs the calls of a hub one.
import { randomUUID } from 'node:crypto';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  GetPolicyCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUsersCommand,
  PutRolePolicyCommand,
  DeleteAccessKeyCommand,
  DeleteUserCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import { REVOKED_SESSIONS_POLICY_NAME } from '../../lambdas/adapters/aws/revoked-sessions-policy';
import type { AccountUseLogs } from '../../lambdas/composition/account-use-logs';
import { spokeBoundaryArn, spokeRoleArn } from '../../lambdas/domain/accounts';
import { grantIdFor } from '../../lambdas/domain/ids';
import { parsePolicy } from '../../lambdas/domain/policy-file';
import type { DeliveryPayload } from '../../lambdas/ports';
import { TEST_POLICY_YAML } from '../helpers/test-policy';
import { ACCOUNT_ID, CANARY_SECRET, closeWorld, eventBridgeEvent, openWorld, type MotoWorld } from './moto-world';
import { awsServiceError, injectFaults, sdkClientsOf, throttling } from './sdk-middleware';
import { spokeFromStack } from './two-accounts-spoke';

const SPOKE = '444455556666';
const MINUTE = 60_000;

/** The test policy plus an agent whose scopes all take their credential from the spoke account. */
const TWO_ACCOUNTS_POLICY_YAML = TEST_POLICY_YAML.replace(
  '\nagents:\n',
  `
  prod-read:
    action: read
    credential: aws-sts-session
    account: "${SPOKE}"
    statements:
      - { Effect: Allow, Action: [s3:GetObject], Resource: "arn:aws:s3:::prod-exports/*" }
  prod-key:
    action: read
    credential: aws-iam-access-key
    account: "${SPOKE}"
    statements:
      - { Effect: Allow, Action: [s3:ListBucket], Resource: "arn:aws:s3:::prod-exports" }
agents:
  ops-bot:
    owner: lead@example.com
    purpose: Reads the production exports
    riskTier: low
    runtimePrincipal: arn:aws:iam::${ACCOUNT_ID}:role/ops-runtime
    scopes: [prod-read, prod-key]
    maxTtlSeconds: 3600
    defaultTtlSeconds: 600
    maxConcurrentGrants: 5
  mixed-bot:
    owner: lead@example.com
    purpose: Reads in the hub and in production (one account per task)
    riskTier: low
    runtimePrincipal: arn:aws:iam::${ACCOUNT_ID}:role/mixed-runtime
    scopes: [repo-read, prod-read, prod-key]
    maxTtlSeconds: 3600
    defaultTtlSeconds: 600
    maxConcurrentGrants: 5
`,
);

afterEach(closeWorld);

const twoAccounts = () =>
  openWorld({
    policyYaml: TWO_ACCOUNTS_POLICY_YAML,
    spokes: { [SPOKE]: spokeFromStack(parsePolicy(TWO_ACCOUNTS_POLICY_YAML, 'test.policy.yaml'), SPOKE) },
  });

const startTask = (world: MotoWorld, taskId: string, scopes: string[], ttlSeconds?: number) =>
  world.invoke(
    'task-started',
    eventBridgeEvent('Task Started', {
      taskId,
      agentId: 'ops-bot',
      purpose: `two accounts ${taskId}`,
      requestedBy: 'dev@example.com',
      scopes,
      ...(ttlSeconds ? { ttlSeconds } : {}),
    }),
  );

const endTask = (world: MotoWorld, taskId: string) =>
  world.invoke(
    'task-ended',
    eventBridgeEvent('Task Ended', { taskId, agentId: 'ops-bot', outcome: 'succeeded', systemsTouched: ['s3:prod-exports'] }),
  );

const sweep = (world: MotoWorld, event: unknown = eventBridgeEvent('Scheduled Event', {}, 'aws.events')) => world.invoke('sweep', event);

async function issuedDelivery(world: MotoWorld, taskId: string) {
  const { SecretString } = await world.aws.secrets.send(new GetSecretValueCommand({ SecretId: `taskbound/ops-bot/${taskId}` }));
  const payload = JSON.parse(SecretString ?? '') as DeliveryPayload;
  if (payload.status !== 'issued' || !payload.accessKeyId || !payload.secretAccessKey)
    throw new Error(`no credential delivered for ops-bot/${taskId}`);
  return { ...payload, accessKeyId: payload.accessKeyId, secretAccessKey: payload.secretAccessKey };
}

type Credential = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const clientConfig = (world: MotoWorld, { accessKeyId, secretAccessKey, sessionToken }: Credential) => ({
  region: 'us-east-1',
  endpoint: world.endpoint,
  maxAttempts: 1,
  credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
});

/** Who moto's STS says the credential is, or undefined once it refuses it. */
async function callerOf(world: MotoWorld, credential: Credential): Promise<{ account?: string; arn?: string } | undefined> {
  const sts = new STSClient(clientConfig(world, credential));
  try {
    const { Account, Arn } = await sts.send(new GetCallerIdentityCommand({}));
    return { ...(Account ? { account: Account } : {}), ...(Arn ? { arn: Arn } : {}) };
  } catch {
    return undefined;
  } finally {
    sts.destroy();
  }
}

/** The HTTP status of DescribeSecret on the canary signed by the credential alone (the canary of the credential's account). */
async function canaryStatus(world: MotoWorld, credential: Credential): Promise<number> {
  const secrets = new SecretsManagerClient(clientConfig(world, credential));
  try {
    await secrets.send(new DescribeSecretCommand({ SecretId: CANARY_SECRET }));
    return 200;
  } catch (error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
  } finally {
    secrets.destroy();
  }
}

async function exists(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (error) {
    if (error instanceof NoSuchEntityException || error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

const userExists = (iam: IAMClient, userName: string) => exists(() => iam.send(new GetUserCommand({ UserName: userName })));

/** Grant ids in an agent role's revoked-sessions deny, in the account `iam` acts in. */
async function revokedSessions(iam: IAMClient, roleName: string): Promise<string[]> {
  try {
    const { PolicyDocument } = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: REVOKED_SESSIONS_POLICY_NAME }));
    const statements = (
      JSON.parse(decodeURIComponent(PolicyDocument ?? '')) as {
        Statement: Array<{ Condition?: { StringEquals?: Record<string, string[]> } }>;
      }
    ).Statement;
    return statements.flatMap((statement) => statement.Condition?.StringEquals?.['aws:SourceIdentity'] ?? []);
  } catch (error) {
    if (error instanceof NoSuchEntityException) return [];
    throw error;
  }
}

const eventOf = (world: MotoWorld, grantId: string, detailType: string) =>
  world.accepted.find((event) => event.detail.grantId === grantId && event.detailType === detailType);
const callsOf = (world: MotoWorld, service: string) => world.calls.filter((call) => call.service === service).map((call) => call.operation);

describe('two accounts on moto: a session in the spoke', () => {
  it('is assumed from the spoke’s agent role through the spoke engine role, answers the spoke’s canary, and is proven dead there', async () => {
    const world = await twoAccounts();
    const grantId = grantIdFor('ops-bot', 'sess-1');

    const started = await startTask(world, 'sess-1', ['prod-read']);

    expect(started).toMatchObject({ outcome: 'issued', grant: { grantId, state: 'active' } });
    const credential = await issuedDelivery(world, 'sess-1');
    expect(credential.accessKeyId).toMatch(/^ASIA/);
    expect(await callerOf(world, credential)).toEqual({
      account: SPOKE,
      arn: `arn:aws:sts::${SPOKE}:assumed-role/taskbound-agent-ops-bot/${grantId}`,
    });
    expect(eventOf(world, grantId, 'Grant Issued')?.detail).toMatchObject({ account: SPOKE });
    // Two AssumeRoles: the spoke engine role (by the hub), then the agent role (by the spoke engine role).
    expect(callsOf(world, 'STS').filter((name) => name === 'AssumeRole')).toHaveLength(2);
    expect(await canaryStatus(world, credential)).toBe(200);
    world.advance(2 * MINUTE);
    const probesBefore = callsOf(world, 'Secrets Manager').filter((name) => name === 'DescribeSecret').length;

    const ended = await endTask(world, 'sess-1');

    expect(ended).toMatchObject({ outcome: 'verified', grant: { grantId, state: 'verified' } });
    expect(await revokedSessions(world.awsIn(SPOKE).iam, 'taskbound-agent-ops-bot')).toEqual([grantId]);
    // Verified by the spoke's canary refusing the session, not by the deny alone.
    expect(callsOf(world, 'Secrets Manager').filter((name) => name === 'DescribeSecret').length).toBeGreaterThan(probesBefore);
    expect(await canaryStatus(world, credential)).toBe(403);
    expect(world.eventsOf(grantId)).toEqual(['Grant Requested', 'Grant Issued', 'Grant Revoked', 'Revocation Verified']);
    expect(eventOf(world, grantId, 'Revocation Verified')?.detail).toMatchObject({ account: SPOKE });
    // Nothing of the task in the hub's IAM: no agent role of ops-bot there, so no deny either.
    expect(
      await exists(() =>
        world.aws.iam.send(new GetRolePolicyCommand({ RoleName: 'taskbound-agent-ops-bot', PolicyName: REVOKED_SESSIONS_POLICY_NAME })),
      ),
    ).toBe(false);
    expect(await revokedSessions(world.aws.iam, 'taskbound-agent-release-bot')).toEqual([]);
  });
});

describe('two accounts on moto: the spoke prover role', () => {
  it('may read an agent role’s deny and an issued user’s keys, and IAM refuses it what would revoke or revive', async () => {
    const world = await twoAccounts();
    const userName = `taskbound-g-${'b'.repeat(26)}`;
    const spokeIam = world.awsIn(SPOKE).iam;
    await spokeIam.send(new CreateUserCommand({ UserName: userName, Path: '/taskbound/' }));
    const { AccessKey: key } = await spokeIam.send(new CreateAccessKeyCommand({ UserName: userName }));
    const { Credentials: session } = await world.aws.sts.send(
      new AssumeRoleCommand({
        RoleArn: spokeRoleArn(SPOKE, 'taskbound', 'prover'),
        RoleSessionName: 'taskbound-engine-prover-test',
      }),
    );
    const prover = new IAMClient(
      clientConfig(world, {
        accessKeyId: session!.AccessKeyId!,
        secretAccessKey: session!.SecretAccessKey!,
        sessionToken: session!.SessionToken!,
      }),
    );
    try {
      const listed = await prover.send(new ListAccessKeysCommand({ UserName: userName }));
      expect(listed.AccessKeyMetadata?.map((metadata) => metadata.AccessKeyId)).toEqual([key?.AccessKeyId]);
      await expect(
        prover.send(new GetRolePolicyCommand({ RoleName: 'taskbound-agent-ops-bot', PolicyName: REVOKED_SESSIONS_POLICY_NAME })),
      ).rejects.toBeInstanceOf(NoSuchEntityException);

      const refused = [
        () =>
          prover.send(
            new PutRolePolicyCommand({
              RoleName: 'taskbound-agent-ops-bot',
              PolicyName: REVOKED_SESSIONS_POLICY_NAME,
              PolicyDocument: '{}',
            }),
          ),
        () => prover.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: key!.AccessKeyId! })),
        () => prover.send(new DeleteUserCommand({ UserName: userName })),
        () => prover.send(new CreateAccessKeyCommand({ UserName: userName })),
      ];
      for (const call of refused) await expect(call()).rejects.toMatchObject({ name: 'AccessDenied' });
      expect((await spokeIam.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata).toHaveLength(1);
    } finally {
      prover.destroy();
    }
  });
});

describe('two accounts on moto: an access key in the spoke', () => {
  it('is a /taskbound/ user of the spoke under the spoke’s boundary, none in the hub, and is deleted there when its task ends', async () => {
    const world = await twoAccounts();
    const grantId = grantIdFor('ops-bot', 'key-1');
    const spokeIam = world.awsIn(SPOKE).iam;

    const started = await startTask(world, 'key-1', ['prod-key']);

    expect(started).toMatchObject({ outcome: 'issued' });
    const credential = await issuedDelivery(world, 'key-1');
    expect(await callerOf(world, credential)).toEqual({ account: SPOKE, arn: `arn:aws:iam::${SPOKE}:user/taskbound/taskbound-${grantId}` });
    const { User: user } = await spokeIam.send(new GetUserCommand({ UserName: `taskbound-${grantId}` }));
    expect(user).toMatchObject({ Path: '/taskbound/' });
    // moto keeps no boundary on users; what it can show is that the boundary the hub names in the spoke is the one the spoke stack made.
    await expect(spokeIam.send(new GetPolicyCommand({ PolicyArn: spokeBoundaryArn(SPOKE, 'taskbound') }))).resolves.toMatchObject({
      Policy: { Path: '/taskbound/' },
    });
    expect(await userExists(world.aws.iam, `taskbound-${grantId}`)).toBe(false);
    expect((await world.aws.iam.send(new ListUsersCommand({ PathPrefix: '/taskbound/' }))).Users).toEqual([]);

    const ended = await endTask(world, 'key-1');

    expect(ended).toMatchObject({ outcome: 'verified' });
    expect(await userExists(spokeIam, `taskbound-${grantId}`)).toBe(false);
    expect(await callerOf(world, credential)).toBeUndefined();
    expect(eventOf(world, grantId, 'Grant Revoked')?.detail).toMatchObject({ account: SPOKE, trigger: 'task_ended' });
  });

  it('is proven dead through the spoke’s read-only prover role when its kill handed the proof on, never the engine role', async () => {
    const world = await twoAccounts();
    const grantId = grantIdFor('ops-bot', 'key-proof');
    expect(await startTask(world, 'key-proof', ['prod-key'])).toMatchObject({ outcome: 'issued' });
    // IAM has not enforced the deletion yet: the kill's one probe is answered, so the proof is handed on.
    world.deletedKeysStillWork.on = true;
    expect(await endTask(world, 'key-proof')).toMatchObject({ grant: { grantId, state: 'revoked' } });
    const handedOn = eventOf(world, grantId, 'Grant Revoked');
    expect(handedOn?.detail).toMatchObject({ proof: 'pending', account: SPOKE });
    world.deletedKeysStillWork.on = false;
    // The delivery gone (an operator cleaned up): the proof lists the user's keys in the spoke, which IAM (moto) authorizes.
    await world.aws.secrets.send(new DeleteSecretCommand({ SecretId: 'taskbound/ops-bot/key-proof', ForceDeleteWithoutRecovery: true }));
    const before = world.calls.length;

    const proven = await world.invoke('prove-revocation', eventBridgeEvent('Grant Revoked', handedOn?.detail, 'taskbound'));

    expect(proven).toMatchObject({ outcome: 'verified', grant: { grantId, state: 'verified' } });
    const during = world.calls.slice(before);
    expect(during.filter((call) => call.operation === 'AssumeRole').map((call) => call.roleArn)).toEqual([
      spokeRoleArn(SPOKE, 'taskbound', 'prover'),
    ]);
    expect(during.filter((call) => call.service === 'IAM').map((call) => call.operation)).toEqual(['ListAccessKeys']);
  });

  it('is swept in the spoke when its expiry passed unnoticed', async () => {
    const world = await twoAccounts();
    const grantId = grantIdFor('ops-bot', 'missed');
    await startTask(world, 'missed', ['prod-key'], 120);
    const credential = await issuedDelivery(world, 'missed');
    world.advance(3 * MINUTE);

    const swept = await sweep(world);

    expect(swept).toMatchObject({ expired: 1, errors: 0 });
    expect(await userExists(world.awsIn(SPOKE).iam, `taskbound-${grantId}`)).toBe(false);
    expect(await callerOf(world, credential)).toBeUndefined();
    expect(eventOf(world, grantId, 'Grant Revoked')?.detail).toMatchObject({ account: SPOKE, trigger: 'expired' });
  });
});

describe('two accounts on moto: a revocation failing in the spoke', () => {
  it('is reported naming the spoke account, and the next sweep finishes it there', async () => {
    const world = await twoAccounts();
    const grantId = grantIdFor('ops-bot', 'throttled');
    await startTask(world, 'throttled', ['prod-key']);
    const credential = await issuedDelivery(world, 'throttled');
    // The spoke's IAM client exists once the spoke's first grant was issued: every attempt of one invocation is throttled.
    world.fault('IAM', { operation: 'DeleteAccessKey', error: throttling, times: 5 });

    const ended = await endTask(world, 'throttled');

    expect(ended).toMatchObject({ outcome: 'revocation-failed', grant: { state: 'revoking' } });
    expect(eventOf(world, grantId, 'Revocation Failed')?.detail).toMatchObject({
      account: SPOKE,
      reason: expect.stringContaining(`in account ${SPOKE}`),
    });
    expect(await callerOf(world, credential)).toMatchObject({ account: SPOKE });

    world.advance(MINUTE + 1000);
    const swept = await sweep(world);

    expect(swept).toMatchObject({ retried: 1, errors: 0 });
    expect(await userExists(world.awsIn(SPOKE).iam, `taskbound-${grantId}`)).toBe(false);
    expect(await callerOf(world, credential)).toBeUndefined();
    expect(world.eventsOf(grantId)).toEqual([
      'Grant Requested',
      'Grant Issued',
      'Revocation Failed',
      'Grant Revoked',
      'Revocation Verified',
    ]);
  });
});

describe('two accounts on moto: orphans in the spoke', () => {
  it('finds a user of the spoke no grant accounts for, kills its key there and names the account', async () => {
    const world = await twoAccounts();
    await startTask(world, 'live', ['prod-key']);
    const live = grantIdFor('ops-bot', 'live');
    const lost = grantIdFor('ops-bot', 'lost');
    const spokeIam = world.awsIn(SPOKE).iam;
    await spokeIam.send(new CreateUserCommand({ UserName: `taskbound-${lost}`, Path: '/taskbound/' }));
    const { AccessKey } = await spokeIam.send(new CreateAccessKeyCommand({ UserName: `taskbound-${lost}` }));
    const orphanKey = { accessKeyId: AccessKey?.AccessKeyId ?? '', secretAccessKey: AccessKey?.SecretAccessKey ?? '' };
    expect(await callerOf(world, orphanKey)).toMatchObject({ account: SPOKE });

    const swept = await sweep(world, { reconcileOrphans: true });

    expect(swept).toMatchObject({ orphans: { orphans: 1, errors: 0 } });
    expect(await userExists(spokeIam, `taskbound-${lost}`)).toBe(false);
    expect(await callerOf(world, orphanKey)).toBeUndefined();
    expect(eventOf(world, lost, 'Orphan Credential Found')?.detail).toMatchObject({
      account: SPOKE,
      reason: expect.stringContaining(`in account ${SPOKE}`),
    });
    expect(await userExists(spokeIam, `taskbound-${live}`)).toBe(true);
  });
});

describe('two accounts on moto: use after revocation in the spoke', () => {
  it('reads the spoke’s CloudTrail, signed by the spoke engine role, and reports the call with the account', async () => {
    const world = await twoAccounts();
    const grantId = grantIdFor('ops-bot', 'key-2');
    await startTask(world, 'key-2', ['prod-key']);
    const credential = await issuedDelivery(world, 'key-2');
    await endTask(world, 'key-2');
    const revokedAt = Date.parse(String(eventOf(world, grantId, 'Grant Revoked')?.detail.at));
    const logs = (world.sweepEngine.useLog as AccountUseLogs).logs;
    const [hubTrail] = sdkClientsOf(logs[ACCOUNT_ID]);
    const [spokeTrail] = sdkClientsOf(logs[SPOKE]);
    if (!hubTrail || !spokeTrail) throw new Error('the sweep has no CloudTrail client per account');
    // moto 5.2.1 implements no LookupEvents: the spoke's client answers as CloudTrail does, the hub's must not be asked.
    const lookups: Array<Record<string, unknown>> = [];
    injectFaults(spokeTrail, [
      {
        operation: 'LookupEvents',
        error: () => new Error('unused'),
        answer: (input) => {
          lookups.push(input);
          const at = new Date(Math.floor(revokedAt / 1000) * 1000 + 30_000);
          const event = {
            EventId: randomUUID(),
            EventName: 'ListBuckets',
            EventSource: 's3.amazonaws.com',
            EventTime: at,
            CloudTrailEvent: JSON.stringify({ sourceIPAddress: '198.51.100.7' }),
          };
          return { output: { Events: [event], $metadata: { httpStatusCode: 200 } }, response: { statusCode: 200, headers: {} } };
        },
      },
    ]);
    injectFaults(hubTrail, [{ operation: 'LookupEvents', error: () => new Error('the hub’s CloudTrail was read for a spoke grant') }]);
    world.advance(4 * 60 * MINUTE + 1000);

    const swept = await sweep(world);

    expect(swept).toMatchObject({ errors: 0 });
    expect(lookups).toEqual([
      expect.objectContaining({ LookupAttributes: [{ AttributeKey: 'AccessKeyId', AttributeValue: credential.accessKeyId }] }),
    ]);
    expect(eventOf(world, grantId, 'Credential Used After Revocation')?.detail).toMatchObject({ account: SPOKE, callCount: 1 });
    // The client that read it acts as the spoke engine role in the spoke.
    const spokeSession = await (spokeTrail as unknown as { config: { credentials: () => Promise<Credential> } }).config.credentials();
    expect(await callerOf(world, spokeSession)).toMatchObject({
      account: SPOKE,
      arn: expect.stringContaining(`arn:aws:sts::${SPOKE}:assumed-role/taskbound-spoke-engine/`),
    });
  });
});

/** What STS answers when the spoke engine role does not exist, or does not trust the hub engine's role. */
const assumeRoleRefused = () =>
  awsServiceError(
    'AccessDenied',
    403,
    `User: arn:aws:sts::${ACCOUNT_ID}:assumed-role/taskbound-task-started/x is not authorized to perform: sts:AssumeRole on resource: ` +
      `arn:aws:iam::${SPOKE}:role/taskbound-spoke-engine`,
  );

async function deliveryOf(world: MotoWorld, taskId: string): Promise<DeliveryPayload> {
  const { SecretString } = await world.aws.secrets.send(new GetSecretValueCommand({ SecretId: `taskbound/ops-bot/${taskId}` }));
  return JSON.parse(SecretString ?? '') as DeliveryPayload;
}

describe('two accounts on moto: a spoke the engine cannot reach', () => {
  // moto assumes any role, trusting or not, existing or not: STS's refusal is injected as AWS answers it.
  it('refuses the task with the account and the role to fix, issues nothing there, and tells the runtime', async () => {
    const world = await twoAccounts();
    const grantId = grantIdFor('ops-bot', 'unreachable');
    world.fault('STS', { operation: 'AssumeRole', error: assumeRoleRefused });

    const started = await startTask(world, 'unreachable', ['prod-key']);

    const role = `arn:aws:iam::${SPOKE}:role/taskbound-spoke-engine`;
    const reason = `no credential in account ${SPOKE}: the engine could not assume the spoke role ${role} (AccessDenied)`;
    expect(started).toMatchObject({ outcome: 'failed', grant: { grantId, state: 'failed' }, reason: expect.stringContaining(reason) });
    expect(await deliveryOf(world, 'unreachable')).toMatchObject({ status: 'denied', reason: expect.stringContaining(reason) });
    expect(eventOf(world, grantId, 'Grant Denied')?.detail).toMatchObject({
      account: SPOKE,
      state: 'failed',
      reason: expect.stringContaining('hubEngineRoleArns'),
    });
    // Nothing was issued anywhere; STS's own message (it names the hub's session) is not repeated.
    expect(await userExists(world.awsIn(SPOKE).iam, `taskbound-${grantId}`)).toBe(false);
    expect(callsOf(world, 'IAM')).toEqual([]);
    expect(JSON.stringify(world.accepted)).not.toContain('is not authorized to perform');
  });

  it('leaves a revocation failed and named while the spoke cannot be reached, and the sweep finishes it once it can', async () => {
    const world = await twoAccounts();
    const grantId = grantIdFor('ops-bot', 'cut-off');
    await startTask(world, 'cut-off', ['prod-key'], 3600);
    const credential = await issuedDelivery(world, 'cut-off');
    // The engine's spoke session is renewed five minutes before its hour ends: by then the spoke refuses it.
    world.advance(56 * MINUTE);
    const refusal = { operation: 'AssumeRole', error: assumeRoleRefused };
    world.fault('STS', refusal);

    const ended = await endTask(world, 'cut-off');

    expect(ended).toMatchObject({ outcome: 'revocation-failed', grant: { state: 'revoking' } });
    expect(eventOf(world, grantId, 'Revocation Failed')?.detail).toMatchObject({
      account: SPOKE,
      reason: expect.stringContaining(
        `revocation failed in account ${SPOKE} (SpokeUnreachableError: the engine could not assume the spoke role`,
      ),
    });
    expect(await callerOf(world, credential)).toMatchObject({ account: SPOKE });

    Object.assign(refusal, { when: () => false });
    world.advance(MINUTE + 1000);
    const swept = await sweep(world);

    expect(swept).toMatchObject({ retried: 1, errors: 0 });
    expect(await callerOf(world, credential)).toBeUndefined();
    expect(world.eventsOf(grantId).slice(-2)).toEqual(['Grant Revoked', 'Revocation Verified']);
  });
});

/** Calls per `service:operation` of one warm lifecycle (start, Task Ended, verified) of the agent's scope. */
async function lifecycleCalls(world: MotoWorld, agentId: string, scope: string, taskId: string): Promise<Record<string, number>> {
  const run = async (id: string) => {
    await world.invoke(
      'task-started',
      eventBridgeEvent('Task Started', { taskId: id, agentId, purpose: 'count', requestedBy: 'dev@example.com', scopes: [scope] }),
    );
    return world.invoke('task-ended', eventBridgeEvent('Task Ended', { taskId: id, agentId, outcome: 'succeeded' }));
  };
  // Warm: the spoke engine role's session and the role's canary proof are per container, not per lifecycle.
  await run(`${taskId}-warm`);
  const before = world.calls.length;
  const ended = await run(taskId);
  expect(ended).toMatchObject({ outcome: 'verified' });
  const counts: Record<string, number> = {};
  for (const call of world.calls.slice(before))
    counts[`${call.service}:${call.operation}`] = (counts[`${call.service}:${call.operation}`] ?? 0) + 1;
  return counts;
}

describe('two accounts on moto: calls per lifecycle in the spoke', () => {
  it('costs a warm container exactly the calls of the same lifecycle in the hub, kind by kind (the spoke session is cached)', async () => {
    const world = await twoAccounts();

    const spokeSession = await lifecycleCalls(world, 'ops-bot', 'prod-read', 'spoke-session');
    const hubSession = await lifecycleCalls(world, 'release-bot', 'repo-read', 'hub-session');
    const spokeKey = await lifecycleCalls(world, 'ops-bot', 'prod-key', 'spoke-key');
    const hubKey = await lifecycleCalls(world, 'deploy-bot', 'bucket-read-key', 'hub-key');

    const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, count) => sum + count, 0);
    console.log(`engine calls per warm lifecycle in the spoke: session ${total(spokeSession)}, access key ${total(spokeKey)}`, {
      spokeSession,
      spokeKey,
    });
    expect(spokeSession).toEqual(hubSession);
    expect(spokeKey).toEqual(hubKey);
    expect(spokeSession['STS:AssumeRole']).toBe(1);
  });
});

describe('two accounts on moto: the kill switch of an agent acting in both', () => {
  it('revokes its grants in the hub and in the spoke, each where it lives, and proves every one dead', async () => {
    const world = await twoAccounts();
    const start = (taskId: string, scope: string) =>
      world.invoke(
        'task-started',
        eventBridgeEvent('Task Started', {
          taskId,
          agentId: 'mixed-bot',
          purpose: 'both',
          requestedBy: 'dev@example.com',
          scopes: [scope],
        }),
      );
    for (const [taskId, scope] of [
      ['hub-s', 'repo-read'],
      ['spoke-s', 'prod-read'],
      ['spoke-k', 'prod-key'],
    ] as const)
      expect(await start(taskId, scope)).toMatchObject({ outcome: 'issued' });
    const read = async (taskId: string) => {
      const { SecretString } = await world.aws.secrets.send(new GetSecretValueCommand({ SecretId: `taskbound/mixed-bot/${taskId}` }));
      return JSON.parse(SecretString ?? '') as Credential;
    };
    const credentials = { hub: await read('hub-s'), spokeSession: await read('spoke-s'), spokeKey: await read('spoke-k') };
    expect(await callerOf(world, credentials.hub)).toMatchObject({ account: ACCOUNT_ID });
    expect(await callerOf(world, credentials.spokeSession)).toMatchObject({ account: SPOKE });

    const suspended = await world.invoke(
      'agent-status',
      eventBridgeEvent('Agent Suspended', { agentId: 'mixed-bot', by: 'sre@example.com', reason: 'drill' }, 'taskbound.cli'),
    );

    expect(suspended).toMatchObject({ outcome: 'suspended', reason: '3 live grant(s) revoked' });
    const grant = (taskId: string) => grantIdFor('mixed-bot', taskId);
    // Each account's agent role carries its own deny, naming only its own account's session.
    expect(await revokedSessions(world.aws.iam, 'taskbound-agent-mixed-bot')).toEqual([grant('hub-s')]);
    expect(await revokedSessions(world.awsIn(SPOKE).iam, 'taskbound-agent-mixed-bot')).toEqual([grant('spoke-s')]);
    expect(await userExists(world.awsIn(SPOKE).iam, `taskbound-${grant('spoke-k')}`)).toBe(false);
    expect(await canaryStatus(world, credentials.hub)).toBe(403);
    expect(await canaryStatus(world, credentials.spokeSession)).toBe(403);
    expect(await callerOf(world, credentials.spokeKey)).toBeUndefined();
    for (const [taskId, account] of [
      ['hub-s', undefined],
      ['spoke-s', SPOKE],
      ['spoke-k', SPOKE],
    ] as const) {
      expect(eventOf(world, grant(taskId), 'Grant Revoked')?.detail).toMatchObject({ trigger: 'suspended' });
      expect(eventOf(world, grant(taskId), 'Revocation Verified')?.detail.account).toBe(account);
    }
  });
});

describe('two accounts on moto: a spoke key reported leaked', () => {
  it('is found by its key id alone and deleted in the spoke', async () => {
    const world = await twoAccounts();
    const grantId = grantIdFor('ops-bot', 'leaky');
    await startTask(world, 'leaky', ['prod-key']);
    const credential = await issuedDelivery(world, 'leaky');

    const reported = await world.invoke(
      'credential-leaked',
      eventBridgeEvent('Credential Leaked', { credentialId: credential.accessKeyId, reportedBy: 'secret-scanner' }, 'security.scanner'),
    );

    expect(reported).toMatchObject({ outcome: 'verified' });
    expect(await userExists(world.awsIn(SPOKE).iam, `taskbound-${grantId}`)).toBe(false);
    expect(await callerOf(world, credential)).toBeUndefined();
    expect(eventOf(world, grantId, 'Grant Revoked')?.detail).toMatchObject({ trigger: 'leaked', account: SPOKE });
  });
});
