// Adapter (EventBridge Scheduler): a grant's precise expiry, as a one-time schedule that
// invokes the expire function with `{ grantId }` and deletes itself once it has run. Functions that
// only cancel expiries (the revoking ones) hold the canceller, which needs the group alone.
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { TaskboundError } from '../../domain/errors';
import type { Clock, ExpiryScheduler } from '../../ports';

/** Scheduler invokes with 60-second precision: a schedule set mid-minute could fire before it. */
const PRECISION_MS = 60_000;
/** A one-time schedule must lie ahead of the request; an expiry already past fires this soon. */
const MIN_LEAD_MS = 30_000;
const SCHEDULE_NAME = /^[0-9a-zA-Z\-_.]{1,64}$/;
/**
 * Scheduler answers ResourceNotFoundException both for a schedule that is gone and for a
 * group that does not exist ("Schedule group <name> does not exist."). Only the first means
 * the expiry is cancelled; a missing group is a broken deployment and must fail.
 */
const GROUP_MISSING = /schedule group/i;

/** What cancelling a grant's expiry needs: where its schedule is. */
export interface EventBridgeScheduleCancellerOptions {
  /** The schedule group holding every expiry schedule. */
  readonly groupName: string;
}

export interface EventBridgeSchedulerExpiryOptions extends EventBridgeScheduleCancellerOptions {
  /** The expire-grant function the schedule invokes. */
  readonly expireFunctionArn: string;
  /** The role Scheduler assumes to invoke it (lambda:InvokeFunction, sqs:SendMessage on the DLQ). */
  readonly schedulerRoleArn: string;
  /** Where an invocation that kept failing lands, so a lost expiry stays visible. */
  readonly deadLetterQueueArn: string;
  /** 0-185; default 10. */
  readonly maximumRetryAttempts?: number;
  /** 60-86400; default 3600: after an hour the sweep has long caught the grant anyway. */
  readonly maximumEventAgeInSeconds?: number;
  readonly clock: Clock;
}

/** The name of a grant's expiry schedule. */
export function expiryScheduleName(grantId: string): string {
  const name = `expire-${grantId}`;
  if (!SCHEDULE_NAME.test(name)) throw new RangeError(`no valid schedule name for grant ${grantId}`);
  return name;
}

/**
 * The `at()` expression (UTC) that fires at or after `expiresAt`: rounded up to the whole
 * minute, and at least MIN_LEAD_MS after `now` so an expiry already due still fires.
 */
export function atExpression(expiresAt: Date, now: Date): string {
  const earliest = Math.max(expiresAt.getTime(), now.getTime() + MIN_LEAD_MS);
  const fireAt = new Date(Math.ceil(earliest / PRECISION_MS) * PRECISION_MS);
  return `at(${fireAt.toISOString().slice(0, 19)})`;
}

function inRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}`);
  return value;
}

/**
 * Cancels grants' expiry schedules and arms none: a function that only revokes is configured
 * with the schedule group alone (no target, no role to pass), and `scheduleExpiry` refuses.
 */
export class EventBridgeScheduleCanceller implements ExpiryScheduler {
  constructor(
    protected readonly client: SchedulerClient,
    private readonly cancelling: EventBridgeScheduleCancellerOptions,
  ) {}

  async scheduleExpiry(grantId: string, at: Date): Promise<void> {
    throw new TaskboundError(`this function only cancels expiries: it cannot schedule the expiry of ${grantId} at ${at.toISOString()}`);
  }

  /**
   * SDK calls: 1. A schedule already gone (it ran, or never existed) counts as cancelled;
   * a schedule group that does not exist is an error.
   */
  async cancelExpiry(grantId: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: expiryScheduleName(grantId), GroupName: this.cancelling.groupName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException) || GROUP_MISSING.test(error.message)) throw error;
    }
  }
}

/** Arms and cancels grants' expiry schedules (the issuing functions, and the expiring ones that re-arm an early expiry). */
export class EventBridgeSchedulerExpiry extends EventBridgeScheduleCanceller {
  private readonly retryPolicy: { readonly MaximumRetryAttempts: number; readonly MaximumEventAgeInSeconds: number };

  constructor(
    client: SchedulerClient,
    private readonly options: EventBridgeSchedulerExpiryOptions,
  ) {
    super(client, options);
    this.retryPolicy = {
      MaximumRetryAttempts: inRange('maximumRetryAttempts', options.maximumRetryAttempts ?? 10, 0, 185),
      MaximumEventAgeInSeconds: inRange('maximumEventAgeInSeconds', options.maximumEventAgeInSeconds ?? 3600, 60, 86_400),
    };
  }

  /** SDK calls: 1. A schedule that already exists is a duplicate request: fine. */
  override async scheduleExpiry(grantId: string, at: Date): Promise<void> {
    try {
      await this.client.send(
        new CreateScheduleCommand({
          Name: expiryScheduleName(grantId),
          GroupName: this.options.groupName,
          ScheduleExpression: atExpression(at, this.options.clock.now()),
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          State: 'ENABLED',
          Target: {
            Arn: this.options.expireFunctionArn,
            RoleArn: this.options.schedulerRoleArn,
            Input: JSON.stringify({ grantId }),
            RetryPolicy: this.retryPolicy,
            DeadLetterConfig: { Arn: this.options.deadLetterQueueArn },
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
    }
  }
}
