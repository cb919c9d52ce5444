import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../cli/context';
import { taskOf } from '../../../cli/runtime-connection';

function problemOf(flags: { agent?: string; task?: string }, env: NodeJS.ProcessEnv = {}): string {
  try {
    taskOf(flags, env);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error('expected a UsageError');
}

describe('taskOf', () => {
  it('names the flag and its variable once for a malformed agent or task id', () => {
    expect(problemOf({ agent: '../x', task: 'a b' })).toBe(
      'invalid task:\n' +
        '  --agent (or TASKBOUND_AGENT_ID): lower-case letters, digits and dashes\n' +
        '  --task (or TASKBOUND_TASK_ID): 1-128 of A-Za-z0-9._:-',
    );
  });

  it('takes the ids from the environment when the flags are absent', () => {
    expect(taskOf({}, { TASKBOUND_AGENT_ID: 'release-bot', TASKBOUND_TASK_ID: 't-1' })).toEqual({ agentId: 'release-bot', taskId: 't-1' });
  });
});
