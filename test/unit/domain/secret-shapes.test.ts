import { describe, expect, it } from 'vitest';
import { redactSecretShapes } from '../../../lambdas/domain/secret-shapes';
import { taskStartedSchema, agentStatusSchema } from '../../../lambdas/domain/events';
import { operatorRequestSchema } from '../../../lambdas/domain/operator-api';

const KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('redactSecretShapes', () => {
  it('replaces what looks like secret material, every occurrence, and names what it looked like', () => {
    expect(redactSecretShapes(`old ${KEY}, new ${KEY}; token ghp_${'a1'.repeat(18)}`)).toBe(
      'old [redacted: an AWS secret access key], new [redacted: an AWS secret access key]; token [redacted: a GitHub token]',
    );
  });

  it('keeps identifiers and ordinary text: access key ids, hex digests, grant ids', () => {
    const text = 'AKIAIOSFODNN7EXAMPLE at 3f786850e387550fdab836ed7e6dc881de23001b for g-abcdefghijklmnopqrstuvwxyz';
    expect(redactSecretShapes(text)).toBe(text);
  });

  it('is applied by the inbound schemas to the free text people write', () => {
    const started = taskStartedSchema.parse({ taskId: 't', agentId: 'a', purpose: `use ${KEY}`, requestedBy: 'dev', scopes: ['s'] });
    const suspended = agentStatusSchema.parse({ agentId: 'a', by: 'secops', reason: `leaked ${KEY}` });
    const resume = operatorRequestSchema.parse({ action: 'resume', agentId: 'a', reason: `rotated ${KEY}` });
    expect(JSON.stringify([started, suspended, resume])).not.toContain(KEY);
    expect(started.purpose).toBe('use [redacted: an AWS secret access key]');
  });
});
