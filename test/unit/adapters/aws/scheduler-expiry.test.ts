import { CreateScheduleCommand, DeleteScheduleCommand } from '@aws-sdk/client-scheduler';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  atExpression,
  EventBridgeSchedulerExpiry,
  expiryScheduleName,
  type EventBridgeSchedulerExpiryOptions,
} from '../../../../lambdas/adapters/aws/scheduler-expiry';
import { grantIdFor } from '../../../../lambdas/domain/ids';
import { FakeScheduler, throttling } from '../../../helpers/fake-scheduler';

const GRANT = grantIdFor('release-bot', 'task-1');
const NOW = new Date('2030-01-01T00:00:00.000Z');
const OPTIONS: EventBridgeSchedulerExpiryOptions = {
  groupName: 'taskbound-expiry',
  expireFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:taskbound-expire-grant',
  schedulerRoleArn: 'arn:aws:iam::111122223333:role/taskbound-scheduler',
  deadLetterQueueArn: 'arn:aws:sqs:us-east-1:111122223333:taskbound-expiry-dlq',
  maximumRetryAttempts: 12,
  maximumEventAgeInSeconds: 1800,
  clock: { now: () => NOW },
};

describe('EventBridgeSchedulerExpiry', () => {
  let fake: FakeScheduler;
  let expiry: EventBridgeSchedulerExpiry;

  beforeEach(() => {
    fake = new FakeScheduler(['taskbound-expiry']);
    expiry = new EventBridgeSchedulerExpiry(fake.client, OPTIONS);
  });
  afterEach(() => fake.restore());

  it('creates a one-time UTC schedule that invokes the expire function with the grant id, retries, dead-letters and deletes itself', async () => {
    await expiry.scheduleExpiry(GRANT, new Date('2030-01-01T00:15:27.500Z'));

    const calls = fake.mock.commandCalls(CreateScheduleCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input).toMatchObject({
      Name: `expire-${GRANT}`,
      GroupName: 'taskbound-expiry',
      ScheduleExpression: 'at(2030-01-01T00:16:00)',
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
    expect(fake.schedule('taskbound-expiry', `expire-${GRANT}`)).toBeDefined();
  });

  it('keeps an expiry that falls on a whole minute', async () => {
    await expiry.scheduleExpiry(GRANT, new Date('2030-01-01T00:15:00.000Z'));
    expect(fake.schedule('taskbound-expiry', `expire-${GRANT}`)?.ScheduleExpression).toBe('at(2030-01-01T00:15:00)');
  });

  it('schedules an expiry already past shortly ahead, so it still fires', async () => {
    await expiry.scheduleExpiry(GRANT, new Date('2029-12-31T23:59:00.000Z'));
    expect(fake.schedule('taskbound-expiry', `expire-${GRANT}`)?.ScheduleExpression).toBe('at(2030-01-01T00:01:00)');
  });

  it('takes a schedule that already exists as a duplicate request', async () => {
    await expiry.scheduleExpiry(GRANT, new Date('2030-01-01T00:15:00.000Z'));
    await expiry.scheduleExpiry(GRANT, new Date('2030-01-01T00:15:00.000Z'));

    expect(fake.mock.commandCalls(CreateScheduleCommand)).toHaveLength(2);
    expect(fake.schedules.size).toBe(1);
  });

  it('surfaces throttling and a missing schedule group', async () => {
    fake.failNext('CreateSchedule', throttling());
    await expect(expiry.scheduleExpiry(GRANT, new Date('2030-01-01T00:15:00.000Z'))).rejects.toThrow('Rate exceeded');

    const elsewhere = new EventBridgeSchedulerExpiry(fake.client, { ...OPTIONS, groupName: 'no-such-group' });
    await expect(elsewhere.scheduleExpiry(GRANT, new Date('2030-01-01T00:15:00.000Z'))).rejects.toThrow('Schedule group no-such-group does not exist.');
  });

  it('cancels by deleting the schedule, and counts one already gone as cancelled', async () => {
    await expiry.scheduleExpiry(GRANT, new Date('2030-01-01T00:15:00.000Z'));

    await expiry.cancelExpiry(GRANT);
    await expiry.cancelExpiry(GRANT);

    expect(fake.mock.commandCalls(DeleteScheduleCommand).map((call) => call.args[0].input)).toEqual([
      { Name: `expire-${GRANT}`, GroupName: 'taskbound-expiry' },
      { Name: `expire-${GRANT}`, GroupName: 'taskbound-expiry' },
    ]);
    expect(fake.schedules.size).toBe(0);
  });

  it('surfaces a cancellation that failed', async () => {
    await expiry.scheduleExpiry(GRANT, new Date('2030-01-01T00:15:00.000Z'));
    fake.failNext('DeleteSchedule', throttling());

    await expect(expiry.cancelExpiry(GRANT)).rejects.toThrow('Rate exceeded');
    expect(fake.schedules.size).toBe(1);
  });

  it('retries for an hour, ten times, unless told otherwise', async () => {
    const defaults = new EventBridgeSchedulerExpiry(fake.client, { ...OPTIONS, maximumRetryAttempts: undefined, maximumEventAgeInSeconds: undefined });
    await defaults.scheduleExpiry(GRANT, new Date('2030-01-01T00:15:00.000Z'));
    expect(fake.schedule('taskbound-expiry', `expire-${GRANT}`)?.Target?.RetryPolicy).toEqual({ MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 });
  });

  it('refuses a retry policy Scheduler would reject', () => {
    expect(() => new EventBridgeSchedulerExpiry(fake.client, { ...OPTIONS, maximumRetryAttempts: 186 })).toThrow(RangeError);
    expect(() => new EventBridgeSchedulerExpiry(fake.client, { ...OPTIONS, maximumEventAgeInSeconds: 59 })).toThrow(RangeError);
  });
});

describe('expiryScheduleName', () => {
  it('is a valid Scheduler name for every grant id', () => {
    expect(expiryScheduleName(GRANT)).toMatch(/^expire-g-[a-z2-7]{26}$/);
    expect(() => expiryScheduleName('g/../x')).toThrow(RangeError);
  });
});

describe('atExpression', () => {
  it('fires on a whole minute, never before the expiry nor sooner than 30 s from now, and at most a minute late', () => {
    const instant = fc.integer({ min: Date.parse('2025-01-01T00:00:00Z'), max: Date.parse('2035-01-01T00:00:00Z') });
    fc.assert(
      fc.property(instant, fc.integer({ min: -3_600_000, max: 86_400_000 }), (nowMs, offsetMs) => {
        const expression = atExpression(new Date(nowMs + offsetMs), new Date(nowMs));
        const match = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00)\)$/.exec(expression);
        expect(match).not.toBeNull();
        const fireMs = Date.parse(`${match![1]}Z`);
        const earliest = Math.max(nowMs + offsetMs, nowMs + 30_000);
        expect(fireMs).toBeGreaterThanOrEqual(earliest);
        expect(fireMs - earliest).toBeLessThan(60_000);
      }),
    );
  });
});
