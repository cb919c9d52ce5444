// Tests (local engine): the Lambda context handlers get locally gives them the stack's timeouts.
import { describe, expect, it } from 'vitest';
import { localLambdaContext } from '../../../../lambdas/local/host/lambda-context';

describe('localLambdaContext', () => {
  it('gives the kill switch two minutes, as the stack does, so a suspension of many grants is not cut short', () => {
    const remaining = localLambdaContext('agent-status').getRemainingTimeInMillis();
    expect(remaining).toBeGreaterThan(119_000);
    expect(remaining).toBeLessThanOrEqual(120_000);
  });

  it('gives the sweep four minutes and an event handler thirty seconds', () => {
    expect(localLambdaContext('sweep').getRemainingTimeInMillis()).toBeGreaterThan(239_000);
    const taskStarted = localLambdaContext('task-started').getRemainingTimeInMillis();
    expect(taskStarted).toBeGreaterThan(29_000);
    expect(taskStarted).toBeLessThanOrEqual(30_000);
  });
});
