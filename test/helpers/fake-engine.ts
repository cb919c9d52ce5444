// Test helpers: an engine whose every port is an in-memory fake, for use-case and handler tests.
import type { EngineDeps } from '../../lambdas/use-cases/engine-deps';
import { grantIdFor } from '../../lambdas/domain/ids';
import { InMemoryGrantStore } from './in-memory-grant-store';
import { FakeClock, FakeEvents, FakeExpiry, FakeIssuer, FakeRotator, FakeVault } from './fake-ports';
import { testPolicy } from './test-policy';

export interface FakeEngine extends EngineDeps {
  readonly store: InMemoryGrantStore;
  readonly clock: FakeClock;
  readonly vault: FakeVault;
  readonly events: FakeEvents;
  readonly expiry: FakeExpiry;
  readonly rotator: FakeRotator;
  readonly sessions: FakeIssuer;
  readonly keys: FakeIssuer;
}

export function fakeEngine(): FakeEngine {
  const clock = new FakeClock();
  const sessions = new FakeIssuer('aws-sts-session', clock);
  const keys = new FakeIssuer('aws-iam-access-key', clock);
  return {
    policy: testPolicy(),
    store: new InMemoryGrantStore(),
    clock,
    vault: new FakeVault(),
    // Waits (a leak's second look, a resume's admission) take no time here.
    sleep: async () => undefined,
    events: new FakeEvents(),
    expiry: new FakeExpiry(),
    rotator: new FakeRotator(),
    sessions,
    keys,
    issuers: { 'aws-sts-session': sessions, 'aws-iam-access-key': keys },
  };
}

export const taskStarted = (overrides: Record<string, unknown> = {}) => ({
  agentId: 'release-bot',
  taskId: 'task-1',
  purpose: 'bump lodash',
  requestedBy: 'dev@example.com',
  scopes: ['repo-read'],
  ...overrides,
});

/** A request of the test policy that needs two approvals (deploy-bot's `refund`). */
export const refundStarted = { agentId: 'deploy-bot', taskId: 'refund-1', scopes: ['refund'], requestedBy: 'dev@example.com' };

/** A person's decision on `refundStarted`'s grant. */
export const refundDecision = (approver: string, decision: 'approve' | 'deny' = 'approve') => ({
  grantId: grantIdFor('deploy-bot', 'refund-1'),
  decision,
  approver,
  reason: 'checked',
});
