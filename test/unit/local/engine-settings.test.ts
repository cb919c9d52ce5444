import { describe, expect, it } from 'vitest';
import { startLocalEngine } from '../../../lambdas/local/engine';

const POLICY = 'examples/taskbound.policy.yaml';

describe('the local composition root', () => {
  it('refuses a sweep interval that is not a number before starting anything', async () => {
    await expect(startLocalEngine({ policyFile: POLICY, port: 0, sweepIntervalMs: Number.NaN })).rejects.toThrow(
      /^invalid local engine settings: sweepIntervalMs/,
    );
  });

  it('names every setting that is wrong', async () => {
    await expect(startLocalEngine({ policyFile: POLICY, port: 70_000, accessKeyRevocationLagMs: -1 })).rejects.toThrow(
      /port: .*; accessKeyRevocationLagMs: /,
    );
  });
});
