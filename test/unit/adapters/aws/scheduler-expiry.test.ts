// Unit: what the Scheduler expiry adapter decides without calling Scheduler. Its calls are
// tested against moto in the AWS emulator tier (test/aws/scheduler-expiry.test.ts).
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  atExpression,
  EventBridgeScheduleCanceller,
  EventBridgeSchedulerExpiry,
  expiryScheduleName,
  type EventBridgeSchedulerExpiryOptions,
} from '../../../../lambdas/adapters/aws/scheduler-expiry';
import { TaskboundError } from '../../../../lambdas/domain/errors';
import { grantIdFor } from '../../../../lambdas/domain/ids';

const GRANT = grantIdFor('release-bot', 'task-1');
const OPTIONS: EventBridgeSchedulerExpiryOptions = {
  groupName: 'taskbound-expiry',
  expireFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:taskbound-expire-grant',
  schedulerRoleArn: 'arn:aws:iam::111122223333:role/taskbound-scheduler',
  deadLetterQueueArn: 'arn:aws:sqs:us-east-1:111122223333:taskbound-expiry-dlq',
  clock: { now: () => new Date('2030-01-01T00:00:00.000Z') },
};

describe('EventBridgeSchedulerExpiry', () => {
  it('refuses a retry policy Scheduler would reject', () => {
    const client = new SchedulerClient({ region: 'us-east-1' });
    expect(() => new EventBridgeSchedulerExpiry(client, { ...OPTIONS, maximumRetryAttempts: 186 })).toThrow(RangeError);
    expect(() => new EventBridgeSchedulerExpiry(client, { ...OPTIONS, maximumEventAgeInSeconds: 59 })).toThrow(RangeError);
  });
});

describe('EventBridgeScheduleCanceller', () => {
  it('refuses to arm a schedule, sending nothing: it is configured with the group alone', async () => {
    const send = vi.fn();
    const canceller = new EventBridgeScheduleCanceller({ send } as unknown as SchedulerClient, { groupName: 'taskbound-expiry' });
    await expect(canceller.scheduleExpiry(GRANT, new Date('2030-01-01T01:00:00.000Z'))).rejects.toThrow(TaskboundError);
    await expect(canceller.scheduleExpiry(GRANT, new Date('2030-01-01T01:00:00.000Z'))).rejects.toThrow(/only cancels expiries/);
    expect(send).not.toHaveBeenCalled();
  });

  it('cancels by deleting the grant’s schedule in its group', async () => {
    const send = vi.fn(async () => ({}));
    await new EventBridgeScheduleCanceller({ send } as unknown as SchedulerClient, { groupName: 'taskbound-expiry' }).cancelExpiry(GRANT);
    expect(send).toHaveBeenCalledTimes(1);
    const [command] = send.mock.calls[0] as unknown as [{ constructor: { name: string }; input: unknown }];
    expect(command.constructor.name).toBe('DeleteScheduleCommand');
    expect(command.input).toEqual({ Name: `expire-${GRANT}`, GroupName: 'taskbound-expiry' });
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
