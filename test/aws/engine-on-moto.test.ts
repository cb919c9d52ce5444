// AWS emulator tier: whole grant lifecycles through the deployed Lambda handlers and their AWS
// composition root (composition/aws-engine.ts), against moto_server in authenticated mode. IAM,
// STS, Secrets Manager, EventBridge, Scheduler and DynamoDB are moto's; faults moto cannot
// stage (throttling, IAM's eventual consistency, partial PutEvents failures, STS's packed
// size) are injected as SDK middleware on the engine's real clients. Assertions read AWS
// state through moto's own API and what the bus accepted.
import { randomUUID } from 'node:crypto';
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CREATE_AFTER_DELETE_BACKOFF } from '../../lambdas/adapters/aws/secrets-manager-delivery-vault';
import { CreateScheduleCommand, GetScheduleCommand } from '@aws-sdk/client-scheduler';
import { GetCallerIdentityCommand, PackedPolicyTooLargeException, STSClient } from '@aws-sdk/client-sts';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { expiryMarkerKey } from '../../lambdas/adapters/aws/grant-table';
import { REVOKED_SESSIONS_POLICY_NAME } from '../../lambdas/adapters/aws/revoked-sessions-policy';
import { grantIdFor } from '../../lambdas/domain/ids';
import type { DeliveryPayload } from '../../lambdas/ports';
import { decide, resume } from './approvals';
import {
  ACCOUNT_ID,
  BUS,
  CANARY_SECRET,
  closeWorld,
  eventBridgeEvent,
  EXPIRE_FUNCTION_ARN,
  openWorld,
  SCHEDULER_DLQ_ARN,
  SCHEDULER_GROUP,
  SCHEDULER_ROLE_ARN,
  TABLE_NAME,
  type MotoWorld,
} from './moto-world';
import { serviceUnavailable, throttling } from './sdk-middleware';

const RELEASE_RUNTIME = `arn:aws:iam::${ACCOUNT_ID}:role/agent-runtime`;
const MINUTE = 60_000;
/** Past the sweep's retry delay for revocations and probes (domain/due.ts: one minute). */
const UNTIL_DUE_AGAIN = MINUTE + 1000;

afterEach(closeWorld);

interface TaskOptions {
  readonly ttlSeconds?: number;
}

const startTask = (world: MotoWorld, agentId: string, taskId: string, scopes: string[], options: TaskOptions = {}) =>
  world.invoke(
    'task-started',
    eventBridgeEvent('Task Started', {
      taskId,
      agentId,
      purpose: `moto task ${taskId}`,
      requestedBy: 'dev@example.com',
      scopes,
      ...options,
    }),
  );

const endTask = (world: MotoWorld, agentId: string, taskId: string) =>
  world.invoke('task-ended', eventBridgeEvent('Task Ended', { taskId, agentId, outcome: 'succeeded', systemsTouched: ['codecommit:web'] }));

/** Scheduler's one-time expression for the world's start plus whole minutes. */
const atMinute = (world: MotoWorld, minutes: number) => `at(${world.at(minutes * MINUTE).slice(0, 19)})`;

const sweep = (world: MotoWorld, event: unknown = eventBridgeEvent('Scheduled Event', {}, 'aws.events')) => world.invoke('sweep', event);

/** What the agent's runtime reads from its delivery secret, if the secret exists. */
async function delivery(world: MotoWorld, agentId: string, taskId: string): Promise<DeliveryPayload | undefined> {
  try {
    const { SecretString } = await world.aws.secrets.send(new GetSecretValueCommand({ SecretId: `taskbound/${agentId}/${taskId}` }));
    return JSON.parse(SecretString ?? '') as DeliveryPayload;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

async function secretExists(world: MotoWorld, name: string): Promise<boolean> {
  try {
    const { DeletedDate } = await world.aws.secrets.send(new DescribeSecretCommand({ SecretId: name }));
    return DeletedDate === undefined;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

async function issuedDelivery(world: MotoWorld, agentId: string, taskId: string) {
  const payload = await delivery(world, agentId, taskId);
  if (payload?.status !== 'issued' || !payload.accessKeyId || !payload.secretAccessKey)
    throw new Error(`no credential delivered for ${agentId}/${taskId}`);
  return { ...payload, accessKeyId: payload.accessKeyId, secretAccessKey: payload.secretAccessKey };
}

async function userExists(world: MotoWorld, userName: string): Promise<boolean> {
  try {
    await world.aws.iam.send(new GetUserCommand({ UserName: userName }));
    return true;
  } catch (error) {
    if (error instanceof NoSuchEntityException) return false;
    throw error;
  }
}

/** Grant ids in the agent role's revoked-sessions deny. */
async function revokedSessions(world: MotoWorld, agentId: string): Promise<string[]> {
  try {
    const { PolicyDocument } = await world.aws.iam.send(
      new GetRolePolicyCommand({ RoleName: `taskbound-agent-${agentId}`, PolicyName: REVOKED_SESSIONS_POLICY_NAME }),
    );
    const statements = (
      JSON.parse(decodeURIComponent(PolicyDocument ?? '')) as {
        Statement: Array<{ Effect: string; Condition?: { StringEquals?: Record<string, string[]> } }>;
      }
    ).Statement;
    return statements
      .filter((statement) => statement.Effect === 'Deny')
      .flatMap((statement) => statement.Condition?.StringEquals?.['aws:SourceIdentity'] ?? []);
  } catch (error) {
    if (error instanceof NoSuchEntityException) return [];
    throw error;
  }
}

/** Whether moto's STS authenticates the credential (GetCallerIdentity signed by it). */
async function authenticates(
  world: MotoWorld,
  credential: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): Promise<boolean> {
  const { accessKeyId, secretAccessKey, sessionToken } = credential;
  const sts = new STSClient({
    region: 'us-east-1',
    endpoint: world.endpoint,
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
    maxAttempts: 1,
  });
  try {
    await sts.send(new GetCallerIdentityCommand({}));
    return true;
  } catch (error) {
    if (process.env.DEBUG_MOTO) console.log('authenticate', error);
    return false;
  } finally {
    sts.destroy();
  }
}

/**
 * The HTTP status moto answers the session canary with (DescribeSecret, signed by the credential
 * alone): 200 while allowed, 403 once a deny covers it. The status, not the error's name: moto
 * writes its IAM denial as XML, which the JSON-protocol client cannot parse.
 */
async function canaryStatus(
  world: MotoWorld,
  credential: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): Promise<number> {
  const { accessKeyId, secretAccessKey, sessionToken } = credential;
  const secrets = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: world.endpoint,
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
    maxAttempts: 1,
  });
  try {
    await secrets.send(new DescribeSecretCommand({ SecretId: CANARY_SECRET }));
    return 200;
  } catch (error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
  } finally {
    secrets.destroy();
  }
}

function eventOf(world: MotoWorld, grantId: string, detailType: string, which: 0 | -1 = 0) {
  return world.accepted.filter((event) => event.detail.grantId === grantId && event.detailType === detailType).at(which);
}

const callsOf = (world: MotoWorld, service: string) => world.calls.filter((call) => call.service === service).map((call) => call.operation);

function expectNoSecretOnTheBus(world: MotoWorld, ...secrets: string[]): void {
  const published = JSON.stringify(world.accepted);
  for (const secret of secrets) expect(published).not.toContain(secret);
}

describe('the engine on moto: an STS session, issued and revoked', () => {
  it('assumes the agent role as the grant, delivers it locked to the runtime under the stack key, and schedules its expiry', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('release-bot', 'sts-1');

    const started = await startTask(world, 'release-bot', 'sts-1', ['repo-read']);

    expect(started).toMatchObject({ outcome: 'issued', grant: { grantId, state: 'active' } });
    const credential = await issuedDelivery(world, 'release-bot', 'sts-1');
    expect(credential).toMatchObject({ grantId, kind: 'aws-sts-session', scopes: ['repo-read'], expiration: world.at(15 * MINUTE) });
    expect(credential.accessKeyId).toMatch(/^ASIA/);
    expect(await authenticates(world, credential)).toBe(true);

    const secret = await world.aws.secrets.send(new DescribeSecretCommand({ SecretId: 'taskbound/release-bot/sts-1' }));
    expect(secret.KmsKeyId).toBe(world.deliveryKeyArn);
    expect(secret.Tags).toContainEqual({ Key: 'taskbound:grant-id', Value: grantId });
    const { ResourcePolicy } = await world.aws.secrets.send(new GetResourcePolicyCommand({ SecretId: 'taskbound/release-bot/sts-1' }));
    const statements = (
      JSON.parse(ResourcePolicy ?? '{}') as { Statement: Array<{ Effect: string; Principal: unknown; Action: string[] }> }
    ).Statement;
    expect(statements.filter((statement) => statement.Effect === 'Allow')).toEqual([
      expect.objectContaining({
        Principal: { AWS: RELEASE_RUNTIME },
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      }),
    ]);

    const schedule = await world.aws.scheduler.send(new GetScheduleCommand({ GroupName: SCHEDULER_GROUP, Name: `expire-${grantId}` }));
    expect(schedule).toMatchObject({
      ScheduleExpression: atMinute(world, 15),
      ScheduleExpressionTimezone: 'UTC',
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: EXPIRE_FUNCTION_ARN,
        RoleArn: SCHEDULER_ROLE_ARN,
        Input: JSON.stringify({ grantId }),
        DeadLetterConfig: { Arn: SCHEDULER_DLQ_ARN },
      },
    });
    expect(world.eventsOf(grantId)).toEqual(['Grant Requested', 'Grant Issued']);
    expect(world.accepted.every((event) => event.busName === BUS && event.source === 'taskbound')).toBe(true);
  });

  it('on Task Ended names that session alone in the role deny, deletes its delivery and schedule, and proves it dead', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('release-bot', 'sts-2');
    const sibling = grantIdFor('release-bot', 'sts-3');
    await startTask(world, 'release-bot', 'sts-2', ['repo-read']);
    await startTask(world, 'release-bot', 'sts-3', ['repo-read']);
    const credential = await issuedDelivery(world, 'release-bot', 'sts-2');
    expect(await canaryStatus(world, credential)).toBe(200);
    world.advance(2 * MINUTE);
    const canaryCallsBefore = callsOf(world, 'Secrets Manager').filter((name) => name === 'DescribeSecret').length;

    const ended = await endTask(world, 'release-bot', 'sts-2');

    expect(ended).toMatchObject({ outcome: 'verified', grant: { grantId, state: 'verified' } });
    expect(await revokedSessions(world, 'release-bot')).toEqual([grantId]);
    // Verified means the canary, signed by the session, was refused: moto denied it after the deny was written.
    expect(callsOf(world, 'Secrets Manager').filter((name) => name === 'DescribeSecret').length).toBeGreaterThan(canaryCallsBefore);
    expect(await canaryStatus(world, credential)).toBe(403);
    // "Alone" is the deny's content above: moto skips the aws:SourceIdentity condition, so there
    // the deny refuses the sibling session too (AWS refuses only the named one).
    expect(await secretExists(world, 'taskbound/release-bot/sts-2')).toBe(false);
    expect(await secretExists(world, 'taskbound/release-bot/sts-3')).toBe(true);
    await expect(
      world.aws.scheduler.send(new GetScheduleCommand({ GroupName: SCHEDULER_GROUP, Name: `expire-${grantId}` })),
    ).rejects.toThrow(/does not exist/);
    await expect(
      world.aws.scheduler.send(new GetScheduleCommand({ GroupName: SCHEDULER_GROUP, Name: `expire-${sibling}` })),
    ).resolves.toBeDefined();
    expect(world.eventsOf(grantId)).toEqual(['Grant Requested', 'Grant Issued', 'Grant Revoked', 'Revocation Verified']);
    expect(eventOf(world, grantId, 'Grant Revoked')?.detail).toMatchObject({ trigger: 'task_ended', credentialId: credential.accessKeyId });
    expectNoSecretOnTheBus(world, credential.secretAccessKey, String(credential.sessionToken));
  });
});

describe('the engine on moto: an IAM access key, leaked', () => {
  it('creates a user under /taskbound/ with the boundary and the task policy, waiting out IAM showing the new user late', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('deploy-bot', 'key-1');
    // IAM's eventual consistency: the new user is not yet visible to the next two calls.
    world.fault('IAM', {
      operation: 'PutUserPolicy',
      error: () =>
        new NoSuchEntityException({
          message: `The user with name taskbound-${grantId} cannot be found.`,
          $metadata: { httpStatusCode: 404 },
        }),
      times: 2,
    });

    const started = await startTask(world, 'deploy-bot', 'key-1', ['bucket-read-key']);

    expect(started).toMatchObject({ outcome: 'issued' });
    const { User: user } = await world.aws.iam.send(new GetUserCommand({ UserName: `taskbound-${grantId}` }));
    expect(user).toMatchObject({ Path: '/taskbound/' });
    expect(user?.Tags).toContainEqual({ Key: 'taskbound:grant-id', Value: grantId });
    const { PolicyDocument } = await world.aws.iam.send(
      new GetUserPolicyCommand({ UserName: `taskbound-${grantId}`, PolicyName: 'taskbound-grant' }),
    );
    expect(JSON.parse(decodeURIComponent(PolicyDocument ?? ''))).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::reports/*' }],
    });
    const credential = await issuedDelivery(world, 'deploy-bot', 'key-1');
    const { AccessKeyMetadata } = await world.aws.iam.send(new ListAccessKeysCommand({ UserName: `taskbound-${grantId}` }));
    expect(AccessKeyMetadata?.map((key) => key.AccessKeyId)).toEqual([credential.accessKeyId]);
    expect(await authenticates(world, credential)).toBe(true);
    expect(callsOf(world, 'IAM').filter((name) => name === 'PutUserPolicy')).toHaveLength(3);
  });

  it('deletes key, policy and user on a leak report, after which moto refuses the key; a key IAM still accepts is reported by the sweep, then proved dead', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('deploy-bot', 'key-2');
    await startTask(world, 'deploy-bot', 'key-2', ['bucket-read-key']);
    const credential = await issuedDelivery(world, 'deploy-bot', 'key-2');
    world.deletedKeysStillWork.on = true;
    const before = callsOf(world, 'IAM').length;

    const leaked = await world.invoke(
      'credential-leaked',
      eventBridgeEvent('Credential Leaked', {
        credentialId: credential.accessKeyId,
        reportedBy: 'scanner@example.com',
        evidence: 'found in a public gist',
      }),
    );

    expect(leaked).toMatchObject({ outcome: 'revoked-unverified', grant: { state: 'revoked' } });
    expect(
      callsOf(world, 'IAM')
        .slice(before)
        .filter((name) => name.startsWith('Delete')),
    ).toEqual(['DeleteAccessKey', 'DeleteUserPolicy', 'DeleteUser']);
    expect(await userExists(world, `taskbound-${grantId}`)).toBe(false);
    expect(await authenticates(world, credential)).toBe(false);
    expect(world.eventsOf(grantId)).toEqual(['Grant Requested', 'Grant Issued', 'Grant Revoked']);
    expect(eventOf(world, grantId, 'Grant Revoked')?.detail).toMatchObject({ trigger: 'leaked' });

    world.advance(UNTIL_DUE_AGAIN);
    const first = await sweep(world);

    expect(first).toMatchObject({ stillValid: 1, verified: 0, errors: 0 });
    expect(eventOf(world, grantId, 'Credential Still Valid')?.detail).toMatchObject({ credentialId: credential.accessKeyId });

    world.deletedKeysStillWork.on = false;
    world.advance(UNTIL_DUE_AGAIN);
    const second = await sweep(world);

    expect(second).toMatchObject({ verified: 1, errors: 0 });
    expect(world.eventsOf(grantId).slice(-1)).toEqual(['Revocation Verified']);
    expect(await secretExists(world, 'taskbound/deploy-bot/key-2')).toBe(false);
    expectNoSecretOnTheBus(world, credential.secretAccessKey);
  });

  it('reads CloudTrail for use after revocation hours later, reporting a call made with the deleted key and not the engine’s own probe', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('deploy-bot', 'key-3');
    await startTask(world, 'deploy-bot', 'key-3', ['bucket-read-key']);
    const credential = await issuedDelivery(world, 'deploy-bot', 'key-3');
    await endTask(world, 'deploy-bot', 'key-3');
    const revokedAt = new Date(String(eventOf(world, grantId, 'Grant Revoked')?.detail.at));
    const seconds = (offset: number) => new Date(Math.floor(revokedAt.getTime() / 1000) * 1000 + offset * 1000);
    // moto 5.2.1 implements no CloudTrail LookupEvents, so the tier answers as CloudTrail does:
    // management events in its record shape, looked up by access key id.
    const lookups: Array<Record<string, unknown>> = [];
    const recorded = (eventName: string, eventSource: string, at: Date, userAgent: string) => ({
      EventId: randomUUID(),
      EventName: eventName,
      EventSource: eventSource,
      EventTime: at,
      AccessKeyId: credential.accessKeyId,
      CloudTrailEvent: JSON.stringify({
        eventName,
        eventSource,
        sourceIPAddress: '198.51.100.7',
        userAgent,
        userIdentity: { accessKeyId: credential.accessKeyId },
      }),
    });
    world.fault('CloudTrail', {
      operation: 'LookupEvents',
      error: () => new Error('unused'),
      answer: (input) => {
        lookups.push(input);
        const events = [
          recorded('GetCallerIdentity', 'sts.amazonaws.com', seconds(0), 'taskbound-probe'),
          recorded('ListBuckets', 's3.amazonaws.com', seconds(30), 'aws-cli/2.15'),
        ];
        return { output: { Events: events, $metadata: { httpStatusCode: 200 } }, response: { statusCode: 200, headers: {} } };
      },
    });
    world.advance(4 * 60 * MINUTE + 1000);

    const later = await sweep(world);

    expect(later).toMatchObject({ stillValid: 0, errors: 0 });
    expect(callsOf(world, 'CloudTrail')).toEqual(['LookupEvents']);
    expect(callsOf(world, 'IAM')).not.toContain('GetAccessKeyLastUsed');
    expect(lookups[0]).toMatchObject({ LookupAttributes: [{ AttributeKey: 'AccessKeyId', AttributeValue: credential.accessKeyId }] });
    expect(eventOf(world, grantId, 'Credential Used After Revocation')?.detail).toMatchObject({
      possibleMisuse: true,
      callCount: 1,
      calls: [expect.objectContaining({ eventName: 'ListBuckets', eventSource: 's3.amazonaws.com', sourceIp: '198.51.100.7' })],
    });
    expect(world.eventsOf(grantId)).not.toContain('Credential Still Valid');
  });
});

describe('the engine on moto: other revocation triggers', () => {
  it('AWS Health reporting a key exposed revokes its grant like a leak report', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('deploy-bot', 'exposed');
    await startTask(world, 'deploy-bot', 'exposed', ['bucket-read-key']);
    const credential = await issuedDelivery(world, 'deploy-bot', 'exposed');

    const reported = await world.invoke(
      'credential-leaked',
      eventBridgeEvent(
        'AWS Health Event',
        { service: 'RISK', eventTypeCode: 'AWS_RISK_CREDENTIALS_EXPOSED', affectedEntities: [{ entityValue: credential.accessKeyId }] },
        'aws.health',
      ),
    );

    expect(reported).toMatchObject({ outcome: 'verified' });
    expect(await userExists(world, `taskbound-${grantId}`)).toBe(false);
    expect(eventOf(world, grantId, 'Grant Revoked')?.detail).toMatchObject({ trigger: 'leaked' });
  });

  it('Agent Suspended revokes every live grant of the agent, of both kinds, and denies new ones until a person resumes it; a bus Agent Resumed is refused', async () => {
    const world = await openWorld();
    await startTask(world, 'deploy-bot', 'live-key', ['bucket-read-key']);
    await startTask(world, 'deploy-bot', 'live-session', ['repo-read']);
    await startTask(world, 'release-bot', 'bystander', ['repo-read']);
    const key = await issuedDelivery(world, 'deploy-bot', 'live-key');
    const status = (detailType: string) =>
      world.invoke(
        'agent-status',
        eventBridgeEvent(detailType, { agentId: 'deploy-bot', by: 'sre@example.com', reason: 'incident 42' }, 'taskbound.cli'),
      );

    const suspended = await status('Agent Suspended');
    const during = await startTask(world, 'deploy-bot', 'while-suspended', ['repo-read']);
    const busResume = await status('Agent Resumed');
    const afterBusResume = await startTask(world, 'deploy-bot', 'after-bus-resume', ['bucket-read-key']);
    const resumed = await resume(world, 'deploy-bot', 'lead@example.com', 'incident 42 closed');
    // A key, not a session: on moto the role's deny (kept until live-session would have expired)
    // refuses every session of the role, so a new session's canary check at issue would fail
    // there; on AWS its aws:SourceIdentity condition names live-session alone.
    const after = await startTask(world, 'deploy-bot', 'after-resume', ['bucket-read-key']);

    expect(suspended).toMatchObject({ outcome: 'suspended', reason: '2 live grant(s) revoked' });
    expect(await userExists(world, `taskbound-${grantIdFor('deploy-bot', 'live-key')}`)).toBe(false);
    expect(await authenticates(world, key)).toBe(false);
    expect(await revokedSessions(world, 'deploy-bot')).toEqual([grantIdFor('deploy-bot', 'live-session')]);
    expect(await revokedSessions(world, 'release-bot')).toEqual([]);
    for (const taskId of ['live-key', 'live-session']) {
      expect(eventOf(world, grantIdFor('deploy-bot', taskId), 'Grant Revoked')?.detail).toMatchObject({ trigger: 'suspended' });
      expect(eventOf(world, grantIdFor('deploy-bot', taskId), 'Revocation Verified')).toBeDefined();
    }
    expect(during).toMatchObject({ outcome: 'denied', reason: 'agent "deploy-bot" is suspended' });
    expect(busResume).toMatchObject({ outcome: 'refused' });
    expect(world.accepted.filter((event) => event.detailType === 'Agent Resume Refused').map((event) => event.detail)).toEqual([
      expect.objectContaining({ agentId: 'deploy-bot', claimedBy: 'sre@example.com' }),
    ]);
    expect(afterBusResume).toMatchObject({ outcome: 'denied', reason: 'agent "deploy-bot" is suspended' });
    // Resumed at once, so it first waited out the deny's margin (a session issued sooner could fall under it on AWS).
    expect(resumed).toEqual({
      status: 200,
      outcome: 'resumed',
      reason: expect.stringMatching(/^resumed after waiting \d+\.\d s: until then its kill switch still refused new sessions$/),
      agentId: 'deploy-bot',
      person: 'lead@example.com',
    });
    expect(after).toMatchObject({ outcome: 'issued' });
    expect(await authenticates(world, await issuedDelivery(world, 'deploy-bot', 'after-resume'))).toBe(true);
  });
});

describe('the engine on moto: the concurrency cap', () => {
  it('five simultaneous Task Started for an agent capped at two issue two credentials and deny three, saying why', async () => {
    const world = await openWorld();
    const tasks = ['a', 'b', 'c', 'd', 'e'].map((letter) => `race-${letter}`);

    const results = await Promise.all(tasks.map((taskId) => startTask(world, 'release-bot', taskId, ['repo-read'])));

    expect(results.filter((result) => result.outcome === 'issued')).toHaveLength(2);
    const denied = results.filter((result) => result.outcome === 'denied');
    expect(denied).toHaveLength(3);
    for (const refusal of denied) expect(refusal.reason).toBe('agent "release-bot" already holds 2 live grants (maximum 2)');
    expect(callsOf(world, 'STS').filter((name) => name === 'AssumeRole')).toHaveLength(2);
  });
});

describe('the engine on moto: approvals', () => {
  it('a deploy grant waits for its approver; the pending delivery is found by CreateSecret (ResourceExistsException), re-tagged and written again', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('deploy-bot', 'deploy-1');

    const started = await startTask(world, 'deploy-bot', 'deploy-1', ['deploy-web']);

    expect(started).toMatchObject({ outcome: 'pending-approval' });
    expect(await delivery(world, 'deploy-bot', 'deploy-1')).toEqual({ status: 'pending_approval', grantId, scopes: ['deploy-web'] });
    expect(callsOf(world, 'STS')).toEqual([]);

    const approved = await decide(world, { grantId, decision: 'approve', approver: 'lead@example.com', reason: 'reviewed the change' });

    expect(approved).toMatchObject({ status: 200, outcome: 'issued', person: 'lead@example.com' });
    // Created pending; the credential's staging finds it (refused: it exists), so it is re-tagged, locked and written.
    expect(callsOf(world, 'Secrets Manager').filter((name) => name === 'CreateSecret')).toHaveLength(2);
    expect(callsOf(world, 'Secrets Manager')).toContain('TagResource');
    expect(callsOf(world, 'Secrets Manager')).toContain('PutSecretValue');
    const { Tags } = await world.aws.secrets.send(new DescribeSecretCommand({ SecretId: 'taskbound/deploy-bot/deploy-1' }));
    expect(Tags).toContainEqual({ Key: 'taskbound:expires-at', Value: world.at(10 * MINUTE) });
    expect(await issuedDelivery(world, 'deploy-bot', 'deploy-1')).toMatchObject({ grantId, kind: 'aws-sts-session' });
    expect(world.eventsOf(grantId)).toEqual(['Grant Requested', 'Grant Pending Approval', 'Grant Issued']);
  });

  it('the agent owner cannot approve; a denial delivers the reason and issues nothing', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('deploy-bot', 'deploy-2');
    await startTask(world, 'deploy-bot', 'deploy-2', ['deploy-web']);

    const byOwner = await decide(world, { grantId, decision: 'approve', approver: 'sre@example.com', reason: 'mine' });
    const denied = await decide(world, { grantId, decision: 'deny', approver: 'lead@example.com', reason: 'not today' });

    expect(byOwner).toMatchObject({ status: 403, outcome: 'refused', person: 'sre@example.com' });
    expect(denied).toMatchObject({ status: 200, outcome: 'denied', person: 'lead@example.com' });
    expect(await delivery(world, 'deploy-bot', 'deploy-2')).toMatchObject({ status: 'denied', grantId });
    expect(callsOf(world, 'STS')).toEqual([]);
  });
});

describe('the engine on moto, fault by fault', () => {
  it('IAM throttling during revocation: Revocation Failed, the grant stays revoking, the next sweep finishes it', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('deploy-bot', 'throttled');
    await startTask(world, 'deploy-bot', 'throttled', ['bucket-read-key']);
    const credential = await issuedDelivery(world, 'deploy-bot', 'throttled');
    // Every attempt of one invocation (the SDK's standard retries included) is throttled.
    world.fault('IAM', { operation: 'DeleteAccessKey', error: throttling, times: 5 });

    const ended = await endTask(world, 'deploy-bot', 'throttled');

    expect(ended).toMatchObject({ outcome: 'revocation-failed', grant: { state: 'revoking' } });
    expect(eventOf(world, grantId, 'Revocation Failed')?.detail.reason).toMatch(/Throttling|Rate exceeded/);
    expect(callsOf(world, 'IAM').filter((name) => name === 'DeleteAccessKey')).toHaveLength(5);
    expect(await authenticates(world, credential)).toBe(true);

    world.advance(UNTIL_DUE_AGAIN);
    const swept = await sweep(world);

    expect(swept).toMatchObject({ retried: 1, errors: 0 });
    expect(await userExists(world, `taskbound-${grantId}`)).toBe(false);
    expect(await authenticates(world, credential)).toBe(false);
    expect(world.eventsOf(grantId)).toEqual([
      'Grant Requested',
      'Grant Issued',
      'Revocation Failed',
      'Grant Revoked',
      'Revocation Verified',
    ]);
  });

  it('Secrets Manager answering 503 twice: the SDK retries the write and the delivery completes', async () => {
    const world = await openWorld();
    world.fault('Secrets Manager', { operation: 'CreateSecret', error: serviceUnavailable, times: 2 });

    const started = await startTask(world, 'release-bot', 'flaky', ['repo-read']);

    expect(started).toMatchObject({ outcome: 'issued' });
    expect(callsOf(world, 'Secrets Manager').filter((name) => name === 'CreateSecret')).toHaveLength(3);
    expect(await delivery(world, 'release-bot', 'flaky')).toMatchObject({ status: 'issued' });
  });

  it('EventBridge failing an entry: the entry is sent again and reaches the bus once', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('release-bot', 'bus-fault');
    world.failEventEntries('Grant Issued', 'InternalFailure', 1);

    const started = await startTask(world, 'release-bot', 'bus-fault', ['repo-read']);

    expect(started).toMatchObject({ outcome: 'issued' });
    expect(world.putEventsBatches()).toEqual([['Grant Requested', 'Grant Issued'], ['Grant Issued']]);
    expect(world.eventsOf(grantId)).toEqual(['Grant Requested', 'Grant Issued']);
  });

  it('EventBridge failing Grant Issued past the retries: when Lambda retries the event, Grant Issued reaches the bus', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('release-bot', 'bus-down');
    world.failEventEntries('Grant Issued', 'InternalFailure', 3);
    const event = eventBridgeEvent('Task Started', {
      taskId: 'bus-down',
      agentId: 'release-bot',
      purpose: 'p',
      requestedBy: 'dev@example.com',
      scopes: ['repo-read'],
    });

    await expect(world.invoke('task-started', event)).rejects.toThrow(/Grant Issued \(InternalFailure\)/);
    const retried = await world.invoke('task-started', event);

    expect(retried).toMatchObject({ grant: { state: 'active' } });
    expect(callsOf(world, 'STS').filter((name) => name === 'AssumeRole')).toHaveLength(1);
    expect(world.eventsOf(grantId)).toContain('Grant Issued');
  });

  it('a duplicate Task Started issues nothing more, and an expiry schedule already there (ConflictException) does not fail the issue', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('release-bot', 'twice');
    await world.aws.scheduler.send(
      new CreateScheduleCommand({
        Name: `expire-${grantId}`,
        GroupName: SCHEDULER_GROUP,
        ScheduleExpression: atMinute(world, 15),
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: EXPIRE_FUNCTION_ARN, RoleArn: SCHEDULER_ROLE_ARN, Input: JSON.stringify({ grantId }) },
      }),
    );

    const first = await startTask(world, 'release-bot', 'twice', ['repo-read']);
    const again = await startTask(world, 'release-bot', 'twice', ['repo-read']);

    expect(first).toMatchObject({ outcome: 'issued' });
    expect(again).toMatchObject({ outcome: 'duplicate', grant: { grantId, state: 'active' } });
    expect(callsOf(world, 'STS').filter((name) => name === 'AssumeRole')).toHaveLength(1);
    expect(callsOf(world, 'Scheduler').filter((name) => name === 'CreateSchedule')).toHaveLength(1);
    // The delivery is created with the credential once; the duplicate writes nothing into it.
    expect(callsOf(world, 'Secrets Manager').filter((name) => name === 'CreateSecret')).toHaveLength(1);
    expect(callsOf(world, 'Secrets Manager').filter((name) => name === 'PutSecretValue')).toHaveLength(0);
    expect(world.eventsOf(grantId)).toEqual(['Grant Requested', 'Grant Issued', 'Grant Issued']);
  });

  it('a session policy STS finds too big: Grant Denied with the reason, no credential, user or schedule left behind', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('release-bot', 'too-big');
    // moto does not enforce STS's packed size; the fault answers as STS does.
    world.fault('STS', {
      operation: 'AssumeRole',
      error: () =>
        new PackedPolicyTooLargeException({
          message: 'Packed size of consolidated tags and session policy exceeds 101% of limit.',
          $metadata: { httpStatusCode: 400 },
        }),
    });

    const started = await startTask(world, 'release-bot', 'too-big', ['repo-read', 'repo-write']);

    expect(started).toMatchObject({ outcome: 'failed', grant: { state: 'failed' } });
    expect(started.reason).toMatch(/packed size limit/);
    expect(eventOf(world, grantId, 'Grant Denied')?.detail.reason).toBe(started.reason);
    expect(await delivery(world, 'release-bot', 'too-big')).toEqual({
      status: 'denied',
      grantId,
      reason: started.reason,
      scopes: ['repo-read', 'repo-write'],
    });
    await expect(
      world.aws.scheduler.send(new GetScheduleCommand({ GroupName: SCHEDULER_GROUP, Name: `expire-${grantId}` })),
    ).rejects.toThrow(/does not exist/);
    expect(await revokedSessions(world, 'release-bot')).toEqual([]);
    expect(world.eventsOf(grantId)).toEqual(['Grant Requested', 'Grant Denied']);
  });

  it('a delivery name still scheduled for deletion: CreateSecret is retried with backoff, then the undelivered session is revoked at once', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('release-bot', 'reused');
    // moto answers ResourceExistsException here; Secrets Manager answers as the fault does.
    world.fault('Secrets Manager', {
      operation: 'CreateSecret',
      error: () =>
        new InvalidRequestException({
          message: "You can't create this secret because a secret with this name is already scheduled for deletion.",
          $metadata: { httpStatusCode: 400 },
        }),
    });

    const started = await startTask(world, 'release-bot', 'reused', ['repo-read']);

    expect(started).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/delivery failed/) });
    expect(callsOf(world, 'Secrets Manager').filter((name) => name === 'CreateSecret').length).toBeGreaterThanOrEqual(
      CREATE_AFTER_DELETE_BACKOFF.attempts,
    );
    expect(callsOf(world, 'STS')).toEqual(['AssumeRole']);
    expect(await revokedSessions(world, 'release-bot')).toEqual([grantId]);
    expect(eventOf(world, grantId, 'Grant Revoked')?.detail).toMatchObject({ trigger: 'manual' });
  });

  it('the expiry schedule fires: expire-grant revokes the session', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('release-bot', 'scheduled');
    await startTask(world, 'release-bot', 'scheduled', ['repo-read'], { ttlSeconds: 300 });
    const schedule = await world.aws.scheduler.send(new GetScheduleCommand({ GroupName: SCHEDULER_GROUP, Name: `expire-${grantId}` }));
    expect(schedule.ScheduleExpression).toBe(atMinute(world, 5));
    world.advance(5 * MINUTE);

    const expired = await world.invoke('expire-grant', JSON.parse(schedule.Target?.Input ?? '{}'));

    expect(expired).toMatchObject({ outcome: 'verified' });
    expect(await revokedSessions(world, 'release-bot')).toEqual([grantId]);
    expect(eventOf(world, grantId, 'Grant Revoked')?.detail).toMatchObject({ trigger: 'expired' });
    expect(await secretExists(world, 'taskbound/release-bot/scheduled')).toBe(false);
  });

  it('an expiry nobody fired is found by the sweep, which revokes it', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('deploy-bot', 'missed');
    await startTask(world, 'deploy-bot', 'missed', ['bucket-read-key'], { ttlSeconds: 120 });
    world.advance(3 * MINUTE);

    const swept = await sweep(world);

    expect(swept).toMatchObject({ expired: 1, errors: 0 });
    expect(await userExists(world, `taskbound-${grantId}`)).toBe(false);
    expect(eventOf(world, grantId, 'Grant Revoked')?.detail).toMatchObject({ trigger: 'expired' });
  });

  it('the schedule lost, DynamoDB TTL deletes the expiry marker: the stream record expires the grant, a user delete does not', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('release-bot', 'ttl');
    await startTask(world, 'release-bot', 'ttl', ['repo-read'], { ttlSeconds: 300 });
    world.advance(5 * MINUTE + 1000);
    const { Attributes: marker } = await world.aws.dynamodb.send(
      new DeleteItemCommand({ TableName: TABLE_NAME, Key: marshall(expiryMarkerKey(grantId)), ReturnValues: 'ALL_OLD' }),
    );
    expect(marker?.ttl).toEqual({ N: String(Date.parse(world.at(5 * MINUTE)) / 1000) });
    const record = (userIdentity?: object) => ({
      eventID: '1',
      eventName: 'REMOVE',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      dynamodb: { Keys: marshall(expiryMarkerKey(grantId)), OldImage: marker, StreamViewType: 'OLD_IMAGE' },
      ...(userIdentity ? { userIdentity } : {}),
    });

    expect(await world.invoke('ttl-expiry-stream', { Records: [record()] })).toEqual({ expired: 0 });
    const byTtl = await world.invoke('ttl-expiry-stream', {
      Records: [record({ type: 'Service', principalId: 'dynamodb.amazonaws.com' })],
    });

    expect(byTtl).toEqual({ expired: 1 });
    expect(await revokedSessions(world, 'release-bot')).toEqual([grantId]);
    expect(eventOf(world, grantId, 'Grant Revoked')?.detail).toMatchObject({ trigger: 'expired' });
  });
});

describe('the engine on moto: orphan reconciliation', () => {
  it('removes a user and a delivery no grant accounts for, reporting each, and leaves a live grant alone', async () => {
    const world = await openWorld();
    await startTask(world, 'deploy-bot', 'live', ['bucket-read-key']);
    const lost = grantIdFor('deploy-bot', 'lost');
    // What a crash or a restored table leaves behind: a grant's user and delivery, no record.
    await world.aws.iam.send(new CreateUserCommand({ UserName: `taskbound-${lost}`, Path: '/taskbound/' }));
    const { AccessKey } = await world.aws.iam.send(new CreateAccessKeyCommand({ UserName: `taskbound-${lost}` }));
    await world.aws.secrets.send(
      new CreateSecretCommand({
        Name: 'taskbound/deploy-bot/lost',
        SecretString: JSON.stringify({ status: 'issued', grantId: lost, scopes: [] }),
        Tags: [{ Key: 'taskbound:grant-id', Value: lost }],
      }),
    );

    const swept = await sweep(world, { reconcileOrphans: true });

    expect(swept).toMatchObject({ orphans: { orphans: 2, errors: 0 } });
    expect(await userExists(world, `taskbound-${lost}`)).toBe(false);
    expect(
      await authenticates(world, { accessKeyId: AccessKey?.AccessKeyId ?? '', secretAccessKey: AccessKey?.SecretAccessKey ?? '' }),
    ).toBe(false);
    expect(await secretExists(world, 'taskbound/deploy-bot/lost')).toBe(false);
    expect(world.eventsOf(lost)).toEqual(['Orphan Credential Found', 'Orphan Credential Found']);
    expect(await userExists(world, `taskbound-${grantIdFor('deploy-bot', 'live')}`)).toBe(true);
    expect(await delivery(world, 'deploy-bot', 'live')).toMatchObject({ status: 'issued' });
  });
});

describe('the engine on moto: a brokered secret', () => {
  it('is readable by the task alone, and rotated after use until the new version is AWSCURRENT', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('deploy-bot', 'refund-1');
    // moto runs no rotation function; this does what one does: a new version, made AWSCURRENT.
    world.fault('Secrets Manager', {
      operation: 'RotateSecret',
      error: () => new Error('unused'),
      answer: async (input) => {
        const token = String(input.ClientRequestToken);
        await world.aws.secrets.send(
          new PutSecretValueCommand({
            SecretId: String(input.SecretId),
            SecretString: 'sk_live_after',
            ClientRequestToken: token,
            VersionStages: ['AWSCURRENT'],
          }),
        );
        return {
          output: { ARN: world.brokeredSecretArn, Name: 'stripe-key', VersionId: token, $metadata: { httpStatusCode: 200 } },
          response: { statusCode: 200, headers: {} },
        };
      },
    });
    await startTask(world, 'deploy-bot', 'refund-1', ['refund']);
    expect(await decide(world, { grantId, decision: 'approve', approver: 'cfo@example.com', reason: 'refund 42' })).toMatchObject({
      outcome: 'counted',
    });
    expect(await decide(world, { grantId, decision: 'approve', approver: 'lead@example.com', reason: 'refund 42' })).toMatchObject({
      outcome: 'issued',
    });
    const { PolicyDocument } = await world.aws.iam.send(
      new GetUserPolicyCommand({ UserName: `taskbound-${grantId}`, PolicyName: 'taskbound-grant' }),
    );
    expect(JSON.parse(decodeURIComponent(PolicyDocument ?? ''))).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: [world.brokeredSecretArn, `${world.brokeredSecretArn}-??????`],
        },
      ],
    });

    const ended = await endTask(world, 'deploy-bot', 'refund-1');

    expect(ended).toMatchObject({ outcome: 'verified' });
    expect(callsOf(world, 'Secrets Manager')).toContain('RotateSecret');
    const { SecretString } = await world.aws.secrets.send(new GetSecretValueCommand({ SecretId: world.brokeredSecretArn }));
    expect(SecretString).toBe('sk_live_after');
    expect(world.eventsOf(grantId)).not.toContain('Revocation Failed');
    expectNoSecretOnTheBus(world, 'sk_live_before', 'sk_live_after');
  });
});
