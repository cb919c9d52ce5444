import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { validated } from '../../../cli/validate';
import { UsageError } from '../../../cli/context';

const schema = z.strictObject({ agentId: z.string().min(1), taskId: z.string().min(1), ttl: z.number().optional() });
const FLAGS = { agentId: '--agent', taskId: '--task (or TASKBOUND_TASK_ID)', ttl: '--ttl' };

function problemOf(value: unknown): string {
  try {
    validated(schema, value, 'task', FLAGS);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error('expected a UsageError');
}

describe('validated', () => {
  it('says a flag not given is required, naming the flag as typed', () => {
    expect(problemOf({ agentId: 'release-bot', taskId: undefined })).toBe(
      'invalid task:\n  --task (or TASKBOUND_TASK_ID): required, not given',
    );
  });

  it("keeps the schema's own words for a value of the wrong type", () => {
    expect(problemOf({ agentId: 'release-bot', taskId: 't-1', ttl: 'soon' })).toBe(
      'invalid task:\n  --ttl: Invalid input: expected number, received string',
    );
  });

  it('returns the parsed value when it is valid', () => {
    expect(validated(schema, { agentId: 'release-bot', taskId: 't-1' }, 'task', FLAGS)).toEqual({ agentId: 'release-bot', taskId: 't-1' });
  });
});
