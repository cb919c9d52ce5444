// AWS emulator tier: the Scheduler expiry adapter against moto's EventBridge Scheduler.
// Throttling, and CreateSchedule on a missing group (moto answers it with an HTML 500), are
// injected as SDK middleware answering as Scheduler documents.
import { GetScheduleCommand, ResourceNotFoundException, SchedulerClient, ThrottlingException } from '@aws-sdk/client-scheduler';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EventBridgeScheduleCanceller,
  EventBridgeSchedulerExpiry,
  type EventBridgeSchedulerExpiryOptions,
} from '../../lambdas/adapters/aws/scheduler-expiry';
import { grantIdFor } from '../../lambdas/domain/ids';
import { freshMoto, SCHEDULER_GROUP, type FreshMoto } from './moto-world';
import { injectFaults } from './sdk-middleware';

const GRANT = grantIdFor('release-bot', 'task-1');
const NOW = new Date(Math.ceil(Date.now() / 86_400_000) * 86_400_000);
const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);
const expression = (minutes: number) => `at(${at(minutes).toISOString().slice(0, 19)})`;
const OPTIONS: EventBridgeSchedulerExpiryOptions = {
  groupName: SCHEDULER_GROUP,
  expireFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:taskbound-expire-grant',
  schedulerRoleArn: 'arn:aws:iam::111122223333:role/taskbound-scheduler',
  deadLetterQueueArn: 'arn:aws:sqs:us-east-1:111122223333:taskbound-expiry-dlq',
  maximumRetryAttempts: 12,
  maximumEventAgeInSeconds: 1800,
  clock: { now: () => NOW },
};
const throttled = () => new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } });

describe('EventBridgeSchedulerExpiry on moto', () => {
  let moto: FreshMoto;
  let client: SchedulerClient;
  let expiry: EventBridgeSchedulerExpiry;

  beforeEach(async () => {
    moto = await freshMoto();
    client = new SchedulerClient({ ...moto.engineConfig, maxAttempts: 1 });
    expiry = new EventBridgeSchedulerExpiry(client, OPTIONS);
  });
  afterEach(() => client.destroy());

  const stored = (name = `expire-${GRANT}`) => moto.aws.scheduler.send(new GetScheduleCommand({ GroupName: SCHEDULER_GROUP, Name: name }));

  it('creates a one-time UTC schedule that invokes the expire function with the grant id, retries, dead-letters and deletes itself', async () => {
    await expiry.scheduleExpiry(GRANT, new Date(at(15).getTime() + 27_500));

    expect(await stored()).toMatchObject({
      Name: `expire-${GRANT}`,
      GroupName: SCHEDULER_GROUP,
      ScheduleExpression: expression(16),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: {
        Arn: OPTIONS.expireFunctionArn,
        RoleArn: OPTIONS.schedulerRoleArn,
        Input: JSON.stringify({ grantId: GRANT }),
        RetryPolicy: { MaximumRetryAttempts: 12, MaximumEventAgeInSeconds: 1800 },
        DeadLetterConfig: { Arn: OPTIONS.deadLetterQueueArn },
      },
    });
  });

  it('keeps an expiry on a whole minute, and schedules one already past shortly ahead', async () => {
    await expiry.scheduleExpiry(GRANT, at(15));
    await expiry.scheduleExpiry(grantIdFor('release-bot', 'late'), at(-1));

    expect((await stored()).ScheduleExpression).toBe(expression(15));
    expect((await stored(`expire-${grantIdFor('release-bot', 'late')}`)).ScheduleExpression).toBe(expression(1));
  });

  it('takes a schedule that already exists (ConflictException) as a duplicate request', async () => {
    await expiry.scheduleExpiry(GRANT, at(15));
    await expect(expiry.scheduleExpiry(GRANT, at(15))).resolves.toBeUndefined();
  });

  it('cancels by deleting the schedule, and counts one already gone as cancelled', async () => {
    await expiry.scheduleExpiry(GRANT, at(15));

    await expiry.cancelExpiry(GRANT);
    await expiry.cancelExpiry(GRANT);

    await expect(stored()).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('lets a revoking function’s canceller, configured with the group alone, delete a schedule the issuing one armed', async () => {
    await expiry.scheduleExpiry(GRANT, at(15));
    const canceller = new EventBridgeScheduleCanceller(client, { groupName: SCHEDULER_GROUP });

    await canceller.cancelExpiry(GRANT);
    await canceller.cancelExpiry(GRANT);

    await expect(stored()).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('fails a cancellation in a schedule group that does not exist: a broken deployment, not a cancelled expiry', async () => {
    const elsewhere = new EventBridgeSchedulerExpiry(client, { ...OPTIONS, groupName: 'no-such-group' });

    await expect(elsewhere.cancelExpiry(GRANT)).rejects.toThrow('Schedule group no-such-group does not exist.');
  });

  it('surfaces throttling and a missing schedule group on create, and a throttled cancellation', async () => {
    await expiry.scheduleExpiry(GRANT, at(15));
    injectFaults(client as never, [
      { operation: 'CreateSchedule', error: throttled, times: 1 },
      {
        operation: 'CreateSchedule',
        error: () =>
          new ResourceNotFoundException({
            message: 'Schedule group no-such-group does not exist.',
            Message: 'Schedule group no-such-group does not exist.',
            $metadata: { httpStatusCode: 404 },
          }),
        times: 1,
      },
      { operation: 'DeleteSchedule', error: throttled, times: 1 },
    ]);

    await expect(expiry.scheduleExpiry(grantIdFor('release-bot', 'other'), at(15))).rejects.toThrow('Rate exceeded');
    await expect(expiry.scheduleExpiry(grantIdFor('release-bot', 'other'), at(15))).rejects.toThrow(
      'Schedule group no-such-group does not exist.',
    );
    await expect(expiry.cancelExpiry(GRANT)).rejects.toThrow('Rate exceeded');
    expect(await stored()).toBeDefined();
  });

  it('retries for an hour, ten times, unless told otherwise', async () => {
    const defaults = new EventBridgeSchedulerExpiry(client, {
      ...OPTIONS,
      maximumRetryAttempts: undefined,
      maximumEventAgeInSeconds: undefined,
    });
    await defaults.scheduleExpiry(GRANT, at(15));
    expect((await stored()).Target?.RetryPolicy).toEqual({ MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 });
  });
});
