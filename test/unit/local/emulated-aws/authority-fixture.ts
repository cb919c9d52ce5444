// Test helper: a local credential authority over a fresh state store, on a clock the test moves.
import { afterEach, beforeEach } from 'vitest';
import { LocalCredentialAuthority } from '../../../../lambdas/local/emulated-aws/credential-authority';
import type { CredentialKind } from '../../../../lambdas/domain/policy';
import { startStateStore, type StateStore } from './state-store';

export const HOUR_MS = 3_600_000;

/** Registers the store's setup and teardown; `advance` moves the clock, `openAuthority` (re)opens on the same store. */
export function authorityFixture() {
  let state: StateStore;
  let nowMs = 0;
  const clock = { now: () => new Date(nowMs) };
  beforeEach(async () => {
    state = await startStateStore();
    nowMs = Date.parse('2026-11-30T06:00:00Z');
  });
  afterEach(() => state.close());
  return {
    clock,
    advance: (ms: number) => void (nowMs += ms),
    /** `send` stands between the authority and its table when given (a test's fault or delay). */
    async openAuthority(
      send?: (command: unknown, next: (command: unknown) => Promise<unknown>) => Promise<unknown>,
    ): Promise<LocalCredentialAuthority> {
      const table = state.table('credentials');
      const client = send
        ? ({ send: (command: unknown) => send(command, (c) => table.client.send(c as never)) } as unknown as typeof table.client)
        : table.client;
      const authority = new LocalCredentialAuthority({ ...table, client, clock });
      await authority.start();
      return authority;
    },
    issue(authority: LocalCredentialAuthority, kind: CredentialKind, grantId: string, agentId = 'agent-1') {
      return authority.issue({
        grantId,
        taskId: `task-${grantId}`,
        agentId,
        kind,
        statements: [],
        brokeredSecretArns: [],
        ttlSeconds: 3600,
        expiresAt: new Date(nowMs + HOUR_MS),
      });
    },
  };
}
