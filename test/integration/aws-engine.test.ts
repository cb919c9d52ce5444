// Integration: whole grant lifecycles through the deployed Lambda handlers and their AWS
// composition root (composition/aws-engine.ts), fault by fault. DynamoDB is real (dynalite);
// IAM, STS, Secrets Manager, EventBridge and Scheduler are stateful fakes. Assertions read
// only what AWS would hold and what reached the bus.
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateSecretCommand, DeleteSecretCommand, PutSecretValueCommand, RotateSecretCommand, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { CreateScheduleCommand } from '@aws-sdk/client-scheduler';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expiryMarkerKey } from '../../lambdas/adapters/aws/grant-table';
import { grantIdFor } from '../../lambdas/domain/ids';
import type { DeliveryPayload } from '../../lambdas/ports';
import {
  ACCOUNT_ID,
  BOUNDARY_ARN,
  BUS,
  closeWorld,
  closeWorlds,
  eventBridgeEvent,
  EXPIRE_FUNCTION_ARN,
  KMS_KEY_ARN,
  openWorld,
  openWorlds,
  SCHEDULER_DLQ_ARN,
  SCHEDULER_GROUP,
  SCHEDULER_ROLE_ARN,
  type World,
} from './aws-world';

const RELEASE_RUNTIME = `arn:aws:iam::${ACCOUNT_ID}:role/agent-runtime`;
const STRIPE_KEY_ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT_ID}:secret:stripe-key-AbCdEf`;
const MINUTE = 60_000;
/** Past the sweep's retry delay for revocations and probes (domain/due.ts: one minute). */
const UNTIL_DUE_AGAIN = MINUTE + 1000;

beforeAll(openWorlds);
afterAll(closeWorlds);
afterEach(closeWorld);

interface TaskOptions {
  readonly ttlSeconds?: number;
  readonly requestedBy?: string;
}

const startTask = (world: World, agentId: string, taskId: string, scopes: string[], options: TaskOptions = {}) =>
  world.invoke(
    'task-started',
    eventBridgeEvent('Task Started', { taskId, agentId, purpose: `integration task ${taskId}`, requestedBy: options.requestedBy ?? 'dev@example.com', scopes, ...options }),
  );

const endTask = (world: World, agentId: string, taskId: string) =>
  world.invoke('task-ended', eventBridgeEvent('Task Ended', { taskId, agentId, outcome: 'succeeded', systemsTouched: ['codecommit:web'] }));

const decide = (world: World, agentId: string, taskId: string, approver: string) =>
  world.invoke('grant-decision', eventBridgeEvent('Grant Decision', { agentId, taskId, decision: 'approve', approver, reason: 'reviewed the change' }, 'taskbound.cli'));

const sweep = (world: World) => world.invoke('sweep', eventBridgeEvent('Scheduled Event', {}, 'aws.events'));

/** What the agent's runtime reads from its delivery secret, if the secret exists. */
function delivery(world: World, agentId: string, taskId: string): DeliveryPayload | undefined {
  const value = world.secrets.currentValue(`taskbound/${agentId}/${taskId}`);
  return value === undefined ? undefined : (JSON.parse(value) as DeliveryPayload);
}

function issuedDelivery(world: World, agentId: string, taskId: string) {
  const payload = delivery(world, agentId, taskId);
  if (payload?.status !== 'issued' || !payload.accessKeyId || !payload.secretAccessKey) throw new Error(`no credential delivered for ${agentId}/${taskId}`);
  return { ...payload, accessKeyId: payload.accessKeyId, secretAccessKey: payload.secretAccessKey };
}

/** The grant's first event of that type, or the last with `which = -1`. */
function eventOf(world: World, grantId: string, detailType: string, which: 0 | -1 = 0) {
  return world.bus.accepted.filter((event) => event.detail.grantId === grantId && event.detailType === detailType).at(which);
}

function revokedSessions(world: World, agentId: string): string[] {
  const document = world.iam.roles.get(`taskbound-agent-${agentId}`)?.policies.get('taskbound-revoked-sessions');
  if (document === undefined) return [];
  const statements = (JSON.parse(document) as { Statement: Array<{ Effect: string; Condition?: { StringEquals?: Record<string, string[]> } }> }).Statement;
  return statements.filter((statement) => statement.Effect === 'Deny').flatMap((statement) => statement.Condition?.StringEquals?.['aws:SourceIdentity'] ?? []);
}

/** IAM calls by name, in the order the engine made them. */
function iamCalls(world: World): string[] {
  return world.iam.mock.calls().map((call) => (call.args[0] as object).constructor.name.replace(/Command$/, ''));
}

function expectNoSecretOnTheBus(world: World, ...secrets: string[]): void {
  const published = JSON.stringify(world.bus.accepted);
  for (const secret of secrets) expect(published).not.toContain(secret);
}

describe('the engine on AWS: an STS session, issued and revoked', () => {
  it('assumes the agent role with the session policy, tags and source identity, delivers it locked to the runtime, and schedules its expiry', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('release-bot', 'sts-1');

    const started = await startTask(world, 'release-bot', 'sts-1', ['repo-read']);

    expect(started).toMatchObject({ outcome: 'issued', grant: { grantId, state: 'active' } });
    const [assumed, ...others] = world.sts.assumeRoleInputs();
    expect(others).toEqual([]);
    expect(assumed).toMatchObject({
      RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/taskbound-agent-release-bot`,
      RoleSessionName: grantId,
      SourceIdentity: grantId,
      DurationSeconds: 900,
    });
    expect(JSON.parse(assumed?.Policy ?? '')).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['codecommit:GitPull'], Resource: `arn:aws:codecommit:us-east-1:${ACCOUNT_ID}:web` },
        // The canary: a refused DescribeSecret on it is what proves the session dead after revocation.
        { Effect: 'Allow', Action: 'secretsmanager:DescribeSecret', Resource: `arn:aws:secretsmanager:us-east-1:${ACCOUNT_ID}:secret:taskbound-engine/canary-??????` },
      ],
    });
    expect(assumed?.Tags).toEqual([
      { Key: 'taskbound:grant-id', Value: grantId },
      { Key: 'taskbound:task-id', Value: 'sts-1' },
      { Key: 'taskbound:agent-id', Value: 'release-bot' },
    ]);

    const secret = world.secrets.secrets.get('taskbound/release-bot/sts-1');
    expect(secret?.kmsKeyId).toBe(KMS_KEY_ARN);
    expect(secret?.tags).toContainEqual({ Key: 'taskbound:grant-id', Value: grantId });
    const resourcePolicy = JSON.parse(secret?.resourcePolicy ?? '{}') as { Statement: Array<{ Effect: string; Principal: unknown; Action: string[] }> };
    expect(resourcePolicy.Statement.filter((statement) => statement.Effect === 'Allow')).toEqual([
      expect.objectContaining({ Principal: { AWS: RELEASE_RUNTIME }, Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'] }),
    ]);
    const credential = issuedDelivery(world, 'release-bot', 'sts-1');
    expect(credential).toMatchObject({ grantId, kind: 'aws-sts-session', scopes: ['repo-read'], expiration: '2026-11-28T12:15:00.000Z' });
    expect(world.sts.authorize(credential, 'codecommit:GitPull')).toBe('Allowed');
    expect(world.sts.authorize(credential, 'codecommit:GitPush')).toBe('ImplicitDeny');

    expect(world.scheduler.schedule(SCHEDULER_GROUP, `expire-${grantId}`)).toMatchObject({
      ScheduleExpression: 'at(2026-11-28T12:15:00)',
      ScheduleExpressionTimezone: 'UTC',
      ActionAfterCompletion: 'DELETE',
      Target: { Arn: EXPIRE_FUNCTION_ARN, RoleArn: SCHEDULER_ROLE_ARN, Input: JSON.stringify({ grantId }), DeadLetterConfig: { Arn: SCHEDULER_DLQ_ARN } },
    });
    expect(world.eventsOf(grantId)).toEqual(['Grant Requested', 'Grant Issued']);
    expect(world.bus.accepted.every((event) => event.busName === BUS && event.source === 'taskbound')).toBe(true);
  });

  it('on Task Ended denies that session on the role, force-deletes its delivery, deletes its schedule, and proves it dead', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('release-bot', 'sts-2');
    await startTask(world, 'release-bot', 'sts-2', ['repo-read']);
    await startTask(world, 'release-bot', 'sts-3', ['repo-read']);
    const credential = issuedDelivery(world, 'release-bot', 'sts-2');
    const sibling = issuedDelivery(world, 'release-bot', 'sts-3');
    world.advance(2 * MINUTE);

    const ended = await endTask(world, 'release-bot', 'sts-2');

    expect(ended).toMatchObject({ outcome: 'verified', grant: { grantId, state: 'verified' } });
    expect(revokedSessions(world, 'release-bot')).toEqual([grantId]);
    expect(world.sts.authorize(credential, 'codecommit:GitPull')).toBe('ExplicitDeny');
    expect(world.sts.authorize(sibling, 'codecommit:GitPull')).toBe('Allowed');
    expect(world.secrets.mock.commandCalls(DeleteSecretCommand).map((call) => call.args[0].input)).toEqual([
      { SecretId: 'taskbound/release-bot/sts-2', ForceDeleteWithoutRecovery: true },
    ]);
    expect(world.secrets.secrets.has('taskbound/release-bot/sts-2')).toBe(false);
    expect(world.scheduler.schedule(SCHEDULER_GROUP, `expire-${grantId}`)).toBeUndefined();
    expect(world.scheduler.schedule(SCHEDULER_GROUP, `expire-${grantIdFor('release-bot', 'sts-3')}`)).toBeDefined();
    expect(world.eventsOf(grantId)).toEqual(['Grant Requested', 'Grant Issued', 'Grant Revoked', 'Revocation Verified']);
    expect(eventOf(world, grantId, 'Grant Revoked')?.detail).toMatchObject({ trigger: 'task_ended', credentialId: credential.accessKeyId });
    expect(credential.sessionToken).toEqual(expect.any(String));
    expectNoSecretOnTheBus(world, credential.secretAccessKey, String(credential.sessionToken), sibling.secretAccessKey);
  });
});

describe('the engine on AWS: an IAM access key, leaked', () => {
  it('creates a user under /taskbound/ with the boundary, waiting out IAM showing the new user late', async () => {
    const world = await openWorld({ iam: { newUserInvisibleMs: 2000 } });
    const grantId = grantIdFor('deploy-bot', 'key-1');

    const started = await startTask(world, 'deploy-bot', 'key-1', ['bucket-read-key']);

    expect(started).toMatchObject({ outcome: 'issued' });
    const user = world.iam.users.get(`taskbound-${grantId}`);
    expect(user).toMatchObject({ path: '/taskbound/', permissionsBoundary: BOUNDARY_ARN });
    expect(user?.tags).toContainEqual({ Key: 'taskbound:grant-id', Value: grantId });
    expect(JSON.parse(user?.policies.get('taskbound-grant') ?? '{}')).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::reports/*' }],
    });
    const credential = issuedDelivery(world, 'deploy-bot', 'key-1');
    expect([...(user?.keys.keys() ?? [])]).toEqual([credential.accessKeyId]);
    expect(world.iam.authenticate(credential.accessKeyId, credential.secretAccessKey)).toMatchObject({ arn: user?.arn });
  });

  it('deletes key, policy and user on a leak report; a key IAM still accepts is reported by the sweep, then proved dead', async () => {
    const world = await openWorld({ iam: { deletedKeyUsableMs: 60 * MINUTE } });
    const grantId = grantIdFor('deploy-bot', 'key-2');
    await startTask(world, 'deploy-bot', 'key-2', ['bucket-read-key']);
    const credential = issuedDelivery(world, 'deploy-bot', 'key-2');
    const callsBeforeLeak = iamCalls(world).length;

    const leaked = await world.invoke(
      'credential-leaked',
      eventBridgeEvent('Credential Leaked', { credentialId: credential.accessKeyId, reportedBy: 'scanner@example.com', evidence: 'found in a public gist' }),
    );

    expect(leaked).toMatchObject({ outcome: 'revoked-unverified', grant: { state: 'revoked' } });
    expect(iamCalls(world).slice(callsBeforeLeak).filter((name) => name.startsWith('Delete'))).toEqual(['DeleteAccessKey', 'DeleteUserPolicy', 'DeleteUser']);
    expect(world.iam.users.has(`taskbound-${grantId}`)).toBe(false);
    expect(world.eventsOf(grantId)).toEqual(['Grant Requested', 'Grant Issued', 'Grant Revoked']);
    expect(eventOf(world, grantId, 'Grant Revoked')?.detail).toMatchObject({ trigger: 'leaked' });

    world.advance(UNTIL_DUE_AGAIN);
    const first = await sweep(world);

    expect(first).toMatchObject({ stillValid: 1, verified: 0, errors: 0 });
    expect(eventOf(world, grantId, 'Credential Still Valid')?.detail).toMatchObject({ credentialId: credential.accessKeyId });
    expect(eventOf(world, grantId, 'Revocation Verified')).toBeUndefined();

    world.iam.propagateDeletions();
    world.advance(UNTIL_DUE_AGAIN);
    const second = await sweep(world);

    expect(second).toMatchObject({ verified: 1, errors: 0 });
    expect(world.eventsOf(grantId).slice(-1)).toEqual(['Revocation Verified']);
    expect(world.secrets.secrets.has('taskbound/deploy-bot/key-2')).toBe(false);
    expectNoSecretOnTheBus(world, credential.secretAccessKey);

    // Minutes later CloudTrail has delivered the key's calls. The engine's own probes do not
    // count; a thief's call after the revocation does, as possible misuse.
    const revokedAt = Date.now() - 2 * UNTIL_DUE_AGAIN;
    world.trail.push(
      { EventId: 'probe', EventName: 'GetCallerIdentity', EventSource: 'sts.amazonaws.com', AccessKeyId: credential.accessKeyId, EventTime: new Date(revokedAt + 1000),
        CloudTrailEvent: JSON.stringify({ sourceIPAddress: '10.0.0.9', userAgent: 'aws-sdk-js/3 taskbound-probe' }) },
      { EventId: 'thief', EventName: 'ListBuckets', EventSource: 's3.amazonaws.com', AccessKeyId: credential.accessKeyId, EventTime: new Date(revokedAt + 5_000),
        CloudTrailEvent: JSON.stringify({ sourceIPAddress: '203.0.113.7', userAgent: 'aws-cli/2.15', requestParameters: { secret: credential.secretAccessKey } }) },
    );
    world.advance(30 * MINUTE);
    const later = await sweep(world);

    expect(later).toMatchObject({ usedAfterRevocation: 1, errors: 0 });
    expect(world.eventsOf(grantId).slice(-1)).toEqual(['Credential Used After Revocation']);
    expect(eventOf(world, grantId, 'Credential Used After Revocation', -1)?.detail).toMatchObject({
      possibleMisuse: true,
      credentialId: credential.accessKeyId,
      callCount: 1,
      calls: [expect.objectContaining({ eventName: 'ListBuckets', sourceIp: '203.0.113.7' })],
    });
    expectNoSecretOnTheBus(world, credential.secretAccessKey);
  });

  it('a key whose only uses after revocation were the engine\'s own probes is not reported as misuse', async () => {
    const world = await openWorld({ iam: { deletedKeyUsableMs: 60 * MINUTE } });
    const grantId = grantIdFor('deploy-bot', 'key-3');
    await startTask(world, 'deploy-bot', 'key-3', ['bucket-read-key']);
    const credential = issuedDelivery(world, 'deploy-bot', 'key-3');
    await world.invoke('credential-leaked', eventBridgeEvent('Credential Leaked', { credentialId: credential.accessKeyId, reportedBy: 'scanner@example.com' }));
    world.advance(UNTIL_DUE_AGAIN);
    await sweep(world);
    world.iam.propagateDeletions();
    world.advance(UNTIL_DUE_AGAIN);
    await sweep(world);
    for (const [index, at] of [Date.now() - 2 * UNTIL_DUE_AGAIN + 500, Date.now() - UNTIL_DUE_AGAIN + 500].entries()) {
      world.trail.push({
        EventId: `probe-${index}`, EventName: 'GetCallerIdentity', EventSource: 'sts.amazonaws.com', AccessKeyId: credential.accessKeyId, EventTime: new Date(at),
        CloudTrailEvent: JSON.stringify({ sourceIPAddress: '10.0.0.9', userAgent: 'aws-sdk-js/3 taskbound-probe' }),
      });
    }

    world.advance(30 * MINUTE);
    const later = await sweep(world);

    expect(later).toMatchObject({ dueGrants: 1, usedAfterRevocation: 0, errors: 0 });
    expect(world.eventsOf(grantId)).not.toContain('Credential Used After Revocation');
  });
});

describe('the engine on AWS: other revocation triggers', () => {
  it('AWS Health reporting a key exposed revokes its grant like a leak report', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('deploy-bot', 'exposed');
    await startTask(world, 'deploy-bot', 'exposed', ['bucket-read-key']);
    const credential = issuedDelivery(world, 'deploy-bot', 'exposed');

    const reported = await world.invoke(
      'credential-leaked',
      eventBridgeEvent('AWS Health Event', { service: 'RISK', eventTypeCode: 'AWS_RISK_CREDENTIALS_EXPOSED', affectedEntities: [{ entityValue: credential.accessKeyId }] }, 'aws.health'),
    );

    expect(reported).toMatchObject({ outcome: 'verified' });
    expect(world.iam.users.has(`taskbound-${grantId}`)).toBe(false);
    expect(eventOf(world, grantId, 'Grant Revoked')?.detail).toMatchObject({ trigger: 'leaked' });
  });

  it('Agent Suspended revokes every live grant of the agent, of both kinds, and denies new ones until Agent Resumed', async () => {
    const world = await openWorld();
    await startTask(world, 'deploy-bot', 'live-key', ['bucket-read-key']);
    await startTask(world, 'deploy-bot', 'live-session', ['repo-read']);
    await startTask(world, 'release-bot', 'bystander', ['repo-read']);
    const status = (detailType: string) => world.invoke('agent-status', eventBridgeEvent(detailType, { agentId: 'deploy-bot', by: 'sre@example.com', reason: 'incident 42' }, 'taskbound.cli'));

    const suspended = await status('Agent Suspended');
    const during = await startTask(world, 'deploy-bot', 'while-suspended', ['repo-read']);
    await status('Agent Resumed');
    const after = await startTask(world, 'deploy-bot', 'after-resume', ['repo-read']);

    expect(suspended).toMatchObject({ outcome: 'suspended', reason: '2 live grant(s) revoked' });
    expect(world.iam.users.size).toBe(0);
    expect(revokedSessions(world, 'deploy-bot')).toEqual([grantIdFor('deploy-bot', 'live-session')]);
    expect(revokedSessions(world, 'release-bot')).toEqual([]);
    for (const taskId of ['live-key', 'live-session']) {
      expect(eventOf(world, grantIdFor('deploy-bot', taskId), 'Grant Revoked')?.detail).toMatchObject({ trigger: 'suspended' });
      expect(eventOf(world, grantIdFor('deploy-bot', taskId), 'Revocation Verified')).toBeDefined();
    }
    expect(during).toMatchObject({ outcome: 'denied', reason: 'agent "deploy-bot" is suspended' });
    expect(after).toMatchObject({ outcome: 'issued' });
  });
});

describe('the engine on AWS, fault by fault', () => {
  it('IAM throttling during revocation: Revocation Failed, the grant stays revoking, the next sweep finishes it', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('deploy-bot', 'throttled');
    await startTask(world, 'deploy-bot', 'throttled', ['bucket-read-key']);
    const credential = issuedDelivery(world, 'deploy-bot', 'throttled');
    world.iam.throttle('DeleteAccessKey');

    const ended = await endTask(world, 'deploy-bot', 'throttled');

    expect(ended).toMatchObject({ outcome: 'revocation-failed', grant: { state: 'revoking' } });
    expect(eventOf(world, grantId, 'Revocation Failed')?.detail.reason).toMatch(/Throttling/);
    expect(world.iam.authenticate(credential.accessKeyId, credential.secretAccessKey)).toBeDefined();

    world.advance(UNTIL_DUE_AGAIN);
    const swept = await sweep(world);

    expect(swept).toMatchObject({ retried: 1, errors: 0 });
    expect(world.iam.users.has(`taskbound-${grantId}`)).toBe(false);
    expect(world.iam.authenticate(credential.accessKeyId, credential.secretAccessKey)).toBeUndefined();
    expect(world.eventsOf(grantId)).toEqual(['Grant Requested', 'Grant Issued', 'Revocation Failed', 'Grant Revoked', 'Revocation Verified']);
  });

  it('EventBridge failing an entry: the entry is sent again and reaches the bus once', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('release-bot', 'bus-fault');
    world.bus.failEntries((entry) => entry.DetailType === 'Grant Issued', 'InternalFailure');

    const started = await startTask(world, 'release-bot', 'bus-fault', ['repo-read']);

    expect(started).toMatchObject({ outcome: 'issued' });
    expect(world.bus.calls.map((entries) => entries.map((entry) => entry.DetailType))).toEqual([
      ['Grant Requested', 'Grant Issued'],
      ['Grant Issued'],
    ]);
    expect(world.eventsOf(grantId)).toEqual(['Grant Requested', 'Grant Issued']);
  });

  it('EventBridge failing Grant Issued past the retries: when Lambda retries the event, Grant Issued reaches the bus', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('release-bot', 'bus-down');
    world.bus.failEntries((entry) => entry.DetailType === 'Grant Issued', 'InternalFailure', 3);
    const event = eventBridgeEvent('Task Started', { taskId: 'bus-down', agentId: 'release-bot', purpose: 'p', requestedBy: 'dev@example.com', scopes: ['repo-read'] });

    await expect(world.invoke('task-started', event)).rejects.toThrow(/Grant Issued \(InternalFailure\)/);
    const retried = await world.invoke('task-started', event);

    expect(retried).toMatchObject({ grant: { state: 'active' } });
    expect(world.sts.assumeRoleInputs()).toHaveLength(1);
    expect(world.eventsOf(grantId)).toContain('Grant Issued');
  });

  it('a duplicate Task Started issues nothing more, and an expiry schedule already there (ConflictException) does not fail the issue', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('release-bot', 'twice');
    // An earlier attempt at this grant left its schedule behind.
    await world.scheduler.client.send(
      new CreateScheduleCommand({
        Name: `expire-${grantId}`,
        GroupName: SCHEDULER_GROUP,
        ScheduleExpression: 'at(2026-11-28T12:15:00)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: EXPIRE_FUNCTION_ARN, RoleArn: SCHEDULER_ROLE_ARN, Input: JSON.stringify({ grantId }) },
      }),
    );

    const first = await startTask(world, 'release-bot', 'twice', ['repo-read']);
    const again = await startTask(world, 'release-bot', 'twice', ['repo-read']);

    expect(first).toMatchObject({ outcome: 'issued' });
    expect(again).toMatchObject({ outcome: 'duplicate', grant: { grantId, state: 'active' } });
    expect(world.sts.assumeRoleInputs()).toHaveLength(1);
    expect(world.scheduler.mock.commandCalls(CreateScheduleCommand)).toHaveLength(2);
    expect(world.secrets.mock.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    // The duplicate says the current state again (its first run may have died before publishing).
    expect(world.eventsOf(grantId)).toEqual(['Grant Requested', 'Grant Issued', 'Grant Issued']);
  });

  it('a pending delivery that gets approved: CreateSecret finds it (ResourceExistsException), so it is re-tagged and written again', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('deploy-bot', 'deploy-1');

    const started = await startTask(world, 'deploy-bot', 'deploy-1', ['deploy-web']);

    expect(started).toMatchObject({ outcome: 'pending-approval' });
    expect(delivery(world, 'deploy-bot', 'deploy-1')).toEqual({ status: 'pending_approval', grantId, scopes: ['deploy-web'] });
    expect(world.sts.assumeRoleInputs()).toEqual([]);

    const approved = await decide(world, 'deploy-bot', 'deploy-1', 'lead@example.com');

    expect(approved).toMatchObject({ outcome: 'issued', grant: { state: 'active' } });
    expect(world.secrets.mock.commandCalls(CreateSecretCommand)).toHaveLength(2);
    expect(world.secrets.mock.commandCalls(TagResourceCommand)[0]?.args[0].input.Tags).toContainEqual({
      Key: 'taskbound:expires-at',
      Value: '2026-11-28T12:10:00.000Z',
    });
    expect(world.secrets.mock.commandCalls(PutSecretValueCommand)).toHaveLength(2);
    expect(issuedDelivery(world, 'deploy-bot', 'deploy-1')).toMatchObject({ grantId, kind: 'aws-sts-session' });
    expect(world.eventsOf(grantId)).toEqual(['Grant Requested', 'Grant Pending Approval', 'Grant Issued']);
  });

  it('a session policy STS finds too big: Grant Denied with the reason, no credential, user or schedule left behind', async () => {
    const world = await openWorld({ sts: { packedCapacityChars: 150 } });
    const grantId = grantIdFor('release-bot', 'too-big');

    const started = await startTask(world, 'release-bot', 'too-big', ['repo-read', 'repo-write']);

    expect(started).toMatchObject({ outcome: 'failed', grant: { state: 'failed' } });
    expect(started.reason).toMatch(/packed size limit/);
    expect(eventOf(world, grantId, 'Grant Denied')?.detail.reason).toBe(started.reason);
    expect(world.sts.sessions.size).toBe(0);
    expect(world.iam.users.size).toBe(0);
    expect(delivery(world, 'release-bot', 'too-big')).toEqual({ status: 'denied', grantId, reason: started.reason, scopes: ['repo-read', 'repo-write'] });
    expect(world.scheduler.schedules.size).toBe(0);
    expect(world.eventsOf(grantId)).toEqual(['Grant Requested', 'Grant Denied']);
  });

  it('a session STS refused leaves no deny on the agent role: that budget is for sessions that exist', async () => {
    const world = await openWorld({ sts: { packedCapacityChars: 150 } });

    const started = await startTask(world, 'release-bot', 'refused', ['repo-read', 'repo-write']);

    expect(started).toMatchObject({ outcome: 'failed' });
    expect(world.sts.sessions.size).toBe(0);
    expect(revokedSessions(world, 'release-bot')).toEqual([]);
  });

  it('a delivery secret scheduled for deletion (InvalidRequestException): nothing reaches the runtime, and the undelivered session is revoked at once', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('release-bot', 'reused');
    world.secrets.seed('taskbound/release-bot/reused', 'left by an operator');
    world.secrets.scheduleDeletion('taskbound/release-bot/reused');

    const started = await startTask(world, 'release-bot', 'reused', ['repo-read']);

    expect(started).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/delivery failed/) });
    expect(world.sts.sessions.size).toBe(1);
    expect(revokedSessions(world, 'release-bot')).toEqual([grantId]);
    expect(eventOf(world, grantId, 'Grant Revoked')?.detail).toMatchObject({ trigger: 'manual' });
    expect(world.secrets.secrets.has('taskbound/release-bot/reused')).toBe(false);
  });

  it('the expiry schedule fires: expire-grant revokes the session', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('release-bot', 'scheduled');
    await startTask(world, 'release-bot', 'scheduled', ['repo-read'], { ttlSeconds: 300 });
    const schedule = world.scheduler.schedule(SCHEDULER_GROUP, `expire-${grantId}`);
    expect(schedule?.ScheduleExpression).toBe('at(2026-11-28T12:05:00)');
    world.advance(5 * MINUTE);

    const expired = await world.invoke('expire-grant', JSON.parse(schedule?.Target?.Input ?? '{}'));

    expect(expired).toMatchObject({ outcome: 'verified' });
    expect(revokedSessions(world, 'release-bot')).toEqual([grantId]);
    expect(eventOf(world, grantId, 'Grant Revoked')?.detail).toMatchObject({ trigger: 'expired' });
    expect(world.secrets.secrets.has('taskbound/release-bot/scheduled')).toBe(false);
  });

  it('the schedule lost, DynamoDB TTL deletes the expiry marker: the stream record expires the grant, a user delete does not', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('release-bot', 'ttl');
    await startTask(world, 'release-bot', 'ttl', ['repo-read'], { ttlSeconds: 300 });
    world.scheduler.schedules.clear();
    world.advance(5 * MINUTE + 1000);
    // What DynamoDB's TTL process does once the marker's `ttl` has passed, and what its stream then carries.
    const { Attributes: marker } = await world.dynamodb.send(
      new DeleteItemCommand({ TableName: world.tableName, Key: marshall(expiryMarkerKey(grantId)), ReturnValues: 'ALL_OLD' }),
    );
    expect(marker?.ttl).toEqual({ N: String(Date.parse('2026-11-28T12:05:00Z') / 1000) });
    const record = (userIdentity?: object) => ({
      eventID: '1',
      eventName: 'REMOVE',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      dynamodb: { Keys: marshall(expiryMarkerKey(grantId)), OldImage: marker, StreamViewType: 'OLD_IMAGE' },
      ...(userIdentity ? { userIdentity } : {}),
    });

    const byUser = await world.invoke('ttl-expiry-stream', { Records: [record()] });
    expect(byUser).toEqual({ expired: 0 });
    expect(world.eventsOf(grantId)).toEqual(['Grant Requested', 'Grant Issued']);

    const byTtl = await world.invoke('ttl-expiry-stream', { Records: [record({ type: 'Service', principalId: 'dynamodb.amazonaws.com' })] });

    expect(byTtl).toEqual({ expired: 1 });
    expect(revokedSessions(world, 'release-bot')).toEqual([grantId]);
    expect(world.eventsOf(grantId)).toEqual(['Grant Requested', 'Grant Issued', 'Grant Revoked', 'Revocation Verified']);
    expect(eventOf(world, grantId, 'Grant Revoked')?.detail).toMatchObject({ trigger: 'expired' });
  });
});

describe('the engine on AWS: orphan reconciliation', () => {
  it('removes a user and a delivery no grant accounts for, reporting each, and leaves a live grant alone', async () => {
    const world = await openWorld();
    await startTask(world, 'deploy-bot', 'live', ['bucket-read-key']);
    const lost = grantIdFor('deploy-bot', 'lost');
    // What a crash or a restored table leaves behind: a grant's user and delivery, no record.
    const iam = new IAMClient({ region: 'us-east-1' });
    await iam.send(new CreateUserCommand({ UserName: `taskbound-${lost}`, Path: '/taskbound/' }));
    await iam.send(new CreateAccessKeyCommand({ UserName: `taskbound-${lost}` }));
    world.secrets.seed('taskbound/deploy-bot/lost', JSON.stringify({ status: 'issued', grantId: lost, scopes: [] }));

    const swept = await world.invoke('sweep', { reconcileOrphans: true });

    expect(swept).toMatchObject({ orphans: { orphans: 2, errors: 0 } });
    expect(world.iam.users.has(`taskbound-${lost}`)).toBe(false);
    expect(world.secrets.secrets.has('taskbound/deploy-bot/lost')).toBe(false);
    expect(world.eventsOf(lost)).toEqual(['Orphan Credential Found', 'Orphan Credential Found']);
    expect(world.iam.users.has(`taskbound-${grantIdFor('deploy-bot', 'live')}`)).toBe(true);
    expect(delivery(world, 'deploy-bot', 'live')).toMatchObject({ status: 'issued' });
  });
});

describe('the engine on AWS: a brokered secret', () => {
  it('is readable by the task alone, and rotated after use through its own rotation function until a new AWSCURRENT exists', async () => {
    const world = await openWorld();
    const grantId = grantIdFor('deploy-bot', 'refund-1');
    const stripeKey = world.secrets.seed(STRIPE_KEY_ARN, 'sk_live_before', {
      lambdaArn: `arn:aws:lambda:us-east-1:${ACCOUNT_ID}:function:stripe-key-rotation`,
      completesAfterDescribes: 3,
    });
    await startTask(world, 'deploy-bot', 'refund-1', ['refund']);
    expect(await decide(world, 'deploy-bot', 'refund-1', 'cfo@example.com')).toMatchObject({ outcome: 'counted' });
    expect(await decide(world, 'deploy-bot', 'refund-1', 'lead@example.com')).toMatchObject({ outcome: 'issued' });
    expect(JSON.parse(world.iam.users.get(`taskbound-${grantId}`)?.policies.get('taskbound-grant') ?? '{}')).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: [STRIPE_KEY_ARN, `${STRIPE_KEY_ARN}-??????`] }],
    });

    const ended = await endTask(world, 'deploy-bot', 'refund-1');

    expect(ended).toMatchObject({ outcome: 'verified' });
    const rotations = world.secrets.mock.commandCalls(RotateSecretCommand).map((call) => call.args[0].input);
    expect(rotations).toEqual([{ SecretId: STRIPE_KEY_ARN, ClientRequestToken: expect.any(String) }]);
    const current = stripeKey.versions.find((version) => version.stages.includes('AWSCURRENT'));
    expect(current?.versionId).toBe(rotations[0]?.ClientRequestToken);
    expect(world.secrets.currentValue('stripe-key')).not.toBe('sk_live_before');
    expect(world.eventsOf(grantId)).not.toContain('Revocation Failed');
    expectNoSecretOnTheBus(world, 'sk_live_before', String(current?.secretString));
  });
});
