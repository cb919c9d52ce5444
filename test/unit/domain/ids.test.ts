import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_ID_PATTERN, deliverySecretName, grantIdFor, TASK_ID_PATTERN } from '../../../lambdas/domain/ids';

// Secrets Manager's CreateSecret: "The secret name can contain ASCII letters, numbers, and the following characters: /_+=.@-"
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

describe('deliverySecretName', () => {
  it('names the secret taskbound/<agentId>/<taskId>', () => {
    expect(deliverySecretName('release-bot', 'pr-4711')).toBe('taskbound/release-bot/pr-4711');
  });

  it('writes a task id colon as @, which Secrets Manager accepts in a name', () => {
    expect(deliverySecretName('release-bot', 'jira:OPS-12')).toBe('taskbound/release-bot/jira@OPS-12');
    expect(deliverySecretName('release-bot', 'a:b:c')).toMatch(SECRET_NAME);
  });

  it('gives two different task ids two different secrets', () => {
    expect(TASK_ID_PATTERN.test('a@b')).toBe(false);
    expect(deliverySecretName('bot', 'a:b')).not.toBe(deliverySecretName('bot', 'a.b'));
  });
});

describe('grantIdFor', () => {
  it('is stable for one agent and task and differs between tasks', () => {
    expect(grantIdFor('bot', 't-1')).toBe(grantIdFor('bot', 't-1'));
    expect(grantIdFor('bot', 't-1')).not.toBe(grantIdFor('bot', 't-2'));
    expect(grantIdFor('bot', 't-1')).toMatch(/^g-[a-z2-7]{26}$/);
  });
});

describe("the Python example's copy of the id patterns (examples/python-runtime/taskbound_task.py)", () => {
  const python = readFileSync(resolve(__dirname, '../../../examples/python-runtime/taskbound_task.py'), 'utf8');
  const pattern = (name: string) => new RegExp(`^${name} = re\\.compile\\(r"(.+)"\\)$`, 'm').exec(python)?.[1];

  it('checks ids exactly as the engine does, so it refuses at once only what the engine would refuse', () => {
    expect(`^${pattern('AGENT_ID')}$`).toBe(AGENT_ID_PATTERN.source);
    expect(`^${pattern('TASK_ID')}$`).toBe(TASK_ID_PATTERN.source);
  });
});
