import { describe, expect, it } from 'vitest';
import { runQuotaSimulation } from '../../bench/quota-simulation';

describe('the local engine at 10× its Secrets Manager quota (the short quota simulation)', () => {
  it('queues the excess instead of failing it: every start is issued, later the longer it waited, and nothing is left alive', async () => {
    // Quotas at 1/10 of AWS's (5 issuances a second), 50 starts a second for half a second.
    const result = await runQuotaSimulation({ scale: 0.1, overload: 10, seconds: 0.5, victims: 4, killEveryMs: 100 }, () => undefined);

    expect(result).toMatchObject({ starts: 25, issued: 25, lostGrants: 0, deniedOrFailed: 0, engineErrors: 0 });
    expect(result.leftAlive).toEqual({ grantsNotVerified: 0, deliverySecrets: 0 });
    // 25 issuances at 5 a second cannot all finish within 4 s (a quarter-second burst aside) unless the quota was not enforced.
    expect(result.timeToCredentialMs.max).toBeGreaterThan(4_000);
    expect(result.timeToCredentialMs.p50).toBeLessThan(result.timeToCredentialMs.max);
    // The excess waited in task-started's queue, as in Lambda's async queue, not in flight.
    expect(result.functionPeaks['task-started']).toMatchObject({ limit: 10, peakInFlight: 10 });
    expect(result.functionPeaks['task-started']!.peakQueued).toBeGreaterThan(0);
  }, 90_000);
});
