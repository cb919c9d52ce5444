// SDK: the shapes a runtime sends and reads, inferred from the very zod schemas the engine
// validates with (lambdas/domain), so the SDK and the engine cannot drift apart.
import type { z } from 'zod';
import type { taskEndedSchema, taskStartedSchema } from '../lambdas/domain/events';
import type { DeliveryPayload, DeliveryStatus } from '../lambdas/domain/delivery';

export type { DeliveryPayload, DeliveryStatus };

/** `Task Started` (docs/contract.md §1), exactly as the engine validates it. */
export type TaskStartedDetail = z.input<typeof taskStartedSchema>;
/** `Task Ended` (docs/contract.md §1), exactly as the engine validates it. */
export type TaskEndedDetail = z.input<typeof taskEndedSchema>;
export type TaskOutcome = TaskEndedDetail['outcome'];

/** Which task: every call after `startTask` names it by agent and task id. */
export interface TaskRef {
  readonly agentId: string;
  readonly taskId: string;
}

/** A task to run under `withTaskCredentials`; the task id is generated when absent. */
export type TaskRequest = Omit<TaskStartedDetail, 'taskId'> & { readonly taskId?: string };

/** An issued delivery: the credential and what it is for. */
export interface IssuedCredential {
  readonly grantId: string;
  readonly kind: NonNullable<DeliveryPayload['kind']>;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** When the credential stops working by itself (for an IAM access key: the task's TTL, when the engine revokes it). */
  readonly expiration?: Date;
  readonly scopes: readonly string[];
}

/** What a delivery read found: nothing yet (or any more), or the delivery. */
export type DeliveryReading = { readonly status: 'absent' } | DeliveryPayload;
