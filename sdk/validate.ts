// SDK: events are checked with the engine's own schemas before they are sent, so a malformed
// request fails here, at once and field by field, instead of as a `Grant Denied` later.
import type { z } from 'zod';
import { taskEndedSchema, taskStartedSchema } from '../lambdas/domain/events';
import { InvalidTaskRequestError } from './errors';
import type { TaskEndedDetail, TaskStartedDetail } from './types';

function parse<S extends z.ZodType>(schema: S, detailType: string, detail: unknown): z.output<S> {
  const parsed = schema.safeParse(detail);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({ path: issue.path, message: issue.message }));
  throw new InvalidTaskRequestError(
    `${detailType} is invalid: ${issues.map((i) => `${i.path.join('.') || '(detail)'}: ${i.message}`).join('; ')}`,
    issues,
  );
}

export const parseTaskStarted = (detail: TaskStartedDetail) => parse(taskStartedSchema, 'Task Started', detail);
export const parseTaskEnded = (detail: TaskEndedDetail) => parse(taskEndedSchema, 'Task Ended', detail);
