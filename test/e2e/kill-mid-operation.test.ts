// Tests (e2e, the local engine as a child process): `kill -9` in the middle of one operation, then
// a restart on the same data directory, as a user runs it (CLI, runtime SDK calls). Mid-approval:
// the approval is applied whole or not at all, the grant is issued at most once (or its credential,
// recorded but not yet delivered, is revoked at start), and no credential lives that no grant
// records. Kill points are found by watching the grant table from outside and killing at the first
// sign of the operation, so each run lands inside it, not before or after (timing still varies).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settleAndCheck, taskbound, type CliAnswer } from '../../bench/soak-checks';
import type { HeldCredential, RuntimeLedger } from '../../bench/soak-runtimes';
import { grantIdFor } from '../../lambdas/domain/ids';
import { INTERRUPTED_DELIVERY_REASON, INTERRUPTED_ISSUANCE_REASON } from '../../lambdas/use-cases/recover-interrupted-issuance';
import { AgentRuntime } from '../helpers/agent-runtime';
import { freeLoopbackPort, spawnEngineProcess, startEngineProcess, type EngineProcess } from './engine-process';
import { readGrantTable, type GrantTableReader } from './grant-table-reader';

/**
 * One engine per describe, as a user runs it, on its own data directory and port (a restart reuses
 * both), with a runtime and a reader of its grant table. Fields are read inside tests and hooks.
 */
function killTestEngine(prefix: string, policyFile?: string) {
  const fixture = {
    dataDir: '',
    port: 0,
    engine: undefined as EngineProcess | undefined,
    runtime: undefined as unknown as AgentRuntime,
    grants: undefined as unknown as GrantTableReader,
    ledger: emptyLedger(),
    /** Starts the engine again on the same directory and port (the next run after a kill). */
    restart: async () =>
      (fixture.engine = await startEngineProcess({ dataDir: fixture.dataDir, port: fixture.port, ...(policyFile ? { policyFile } : {}) })),
  };
  beforeAll(async () => {
    fixture.dataDir = await mkdtemp(join(tmpdir(), prefix));
    fixture.port = await freeLoopbackPort();
    const engine = await fixture.restart();
    fixture.runtime = new AgentRuntime({ endpoint: engine.url });
    fixture.grants = readGrantTable(engine.url);
  }, 60_000);
  afterAll(async () => {
    fixture.runtime?.close();
    fixture.grants?.close();
    await fixture.engine?.kill();
    await rm(fixture.dataDir, { recursive: true, force: true });
  });
  return fixture;
}

/** Polls every 2 ms until `done` says so: a kill lands at the first sign of what it waits for. */
async function until(done: () => Promise<boolean>): Promise<void> {
  while (!(await done())) await new Promise((wake) => setTimeout(wake, 2));
}

/** Starts the tasks, waits for each credential, and enters it in the ledger the settle check reads. */
async function openGrants(
  fixture: ReturnType<typeof killTestEngine>,
  tasks: readonly { agentId: string; taskId: string; scopes: string[]; ttlSeconds?: number }[],
  purpose: string,
): Promise<void> {
  const { runtime, ledger, grants } = fixture;
  await Promise.all(tasks.map((task) => runtime.startTask({ ...task, purpose, requestedBy: 'dev@example.com' })));
  for (const task of tasks) {
    ledger.accepted.add(`${task.agentId}/${task.taskId}`);
    const delivery = await runtime.waitForDelivery(task.agentId, task.taskId, ['issued'], 20_000);
    ledger.credentials.push({
      agentId: task.agentId,
      taskId: task.taskId,
      accessKeyId: delivery.accessKeyId ?? '',
      secretAccessKey: delivery.secretAccessKey ?? '',
      sessionToken: delivery.sessionToken,
    });
  }
  // Open means recorded `active` too: a delivery is staged with its credential a moment before the
  // grant is (docs/contract.md §5), and a kill in that moment is the interrupted issuance tested elsewhere.
  await until(async () => {
    const states = await Promise.all(tasks.map((task) => grants.get(task.agentId, task.taskId).catch(() => undefined)));
    return states.every((grant) => grant?.state === 'active');
  });
}

function emptyLedger(): RuntimeLedger {
  return {
    accepted: new Set(),
    credentials: [],
    undelivered: [],
    counts: { started: 0, issued: 0, denied: 0, undelivered: 0, leaked: 0, ended: 0, suspensions: 0, retries: 0 },
  };
}

describe('local engine: kill -9 mid-approval, then restart', () => {
  const fixture = killTestEngine('taskbound-kill-approval-');
  const approve = (grantId: string): Promise<CliAnswer> =>
    taskbound(fixture.engine!.url, 'approve', grantId, '--as', 'lead@example.com', '--data-dir', fixture.dataDir, '--reason', 'kill test');

  it('applies the approval whole or not at all, issues at most once, and leaves nothing alive', async () => {
    const { runtime, grants, ledger, dataDir } = fixture;
    const outcomes: string[] = [];
    for (const [index, extraDelayMs] of [0, 0, 20, 60].entries()) {
      const task = { agentId: 'deploy-bot', taskId: `approval-${index}`, scopes: ['deploy-web'] };
      const grantId = grantIdFor(task.agentId, task.taskId);
      await runtime.startTask({ ...task, purpose: 'kill mid-approval', requestedBy: 'dev@example.com' });
      ledger.accepted.add(`${task.agentId}/${task.taskId}`);
      await grants.waitFor(task.agentId, task.taskId, ['pending_approval'], 15_000);

      const answer = approve(grantId);
      // Killed at the first sight of the approval's first write (or a little after it).
      await until(async () => (await grants.get(task.agentId, task.taskId))?.state !== 'pending_approval');
      if (extraDelayMs) await new Promise((done) => setTimeout(done, extraDelayMs));
      await fixture.engine!.kill();
      const cli = await answer;
      await fixture.restart();

      const after = await grants.get(task.agentId, task.taskId);
      const issuedEntries = after?.audit.filter((entry) => entry.action === 'issued').length ?? 0;
      const delivery = await runtime.readDelivery(task.agentId, task.taskId);
      outcomes.push(
        `${index}+${extraDelayMs} ms: approve exited ${cli.code} ${cli.stderr.trim().slice(0, 200)}, ` +
          `grant ${after?.state} ${after?.reason ?? ''}, delivery ${delivery?.status}`,
      );
      expect(after, outcomes.join('\n')).toBeDefined();
      // Killed after the credential was recorded but before it was delivered: revoked at start, proven dead.
      expect(['pending_approval', 'active', 'failed', 'verified'], outcomes.join('\n')).toContain(after!.state);
      if (after!.state === 'verified') {
        expect(after!.revocation).toMatchObject({ trigger: 'manual', reason: INTERRUPTED_DELIVERY_REASON });
        expect(delivery?.status).not.toBe('issued');
      }
      expect(issuedEntries, outcomes.join('\n')).toBeLessThanOrEqual(1);
      if (after!.state === 'active') {
        expect(delivery?.status).toBe('issued');
        const { accessKeyId, secretAccessKey, sessionToken } = delivery!;
        const credential: HeldCredential = {
          ...task,
          accessKeyId: accessKeyId ?? '',
          secretAccessKey: secretAccessKey ?? '',
          sessionToken,
        };
        ledger.credentials.push(credential);
        expect(await runtime.whoAmI(credential)).toMatchObject({ ok: true });
      }
      if (after!.state === 'pending_approval') expect(after!.approvals).toEqual([]);
      // Interrupted: the approval is recorded, nothing issued is alive, and the waiting runtime is told why.
      if (after!.state === 'failed') {
        expect(after!.audit.filter((entry) => entry.action === 'approved').map((entry) => entry.actor)).toEqual(['lead@example.com']);
        expect(delivery).toMatchObject({ status: 'denied', reason: INTERRUPTED_ISSUANCE_REASON });
      }
    }
    console.log(`kill mid-approval:\n${outcomes.join('\n')}`);

    for (const index of [0, 1, 2, 3]) await runtime.endTask({ agentId: 'deploy-bot', taskId: `approval-${index}`, outcome: 'succeeded' });
    const check = await settleAndCheck({ endpoint: fixture.engine!.url, dataDir, ledger, settleTimeoutMs: 30_000 });
    expect(check.liveCredentials, JSON.stringify(check)).toEqual([]);
    expect(check.deliveriesHoldingCredentials).toEqual([]);
    expect(check.lostGrants).toEqual([]);
    expect(check.auditVerified, check.auditSummary).toBe(true);
  }, 180_000);
});

const SOAK_POLICY_FILE = resolve(import.meta.dirname, '../../bench/soak.policy.yaml');
/** Live grants the kill switch must end: enough that a kill lands while it is still revoking them. */
const LIVE_GRANTS = 40;

// The kill switch writes the suspension first, then revokes every live grant. Killed while it runs,
// the restarted engine must finish it (the bus replays the accepted `Agent Suspended`; the sweep
// retries any grant left mid-revocation) and go on refusing the agent.
describe('local engine: kill -9 mid-suspension, then restart', () => {
  const fixture = killTestEngine('taskbound-kill-suspension-', SOAK_POLICY_FILE);

  it('revokes and verifies every grant of the agent after the restart, and refuses its new starts', async () => {
    const { runtime, grants, ledger, dataDir } = fixture;
    const agentId = 'switch-bot';
    const tasks = Array.from({ length: LIVE_GRANTS }, (_, index) => ({
      agentId,
      taskId: `live-${index}`,
      scopes: [index % 2 === 0 ? 'soak-read' : 'soak-upload-key'],
    }));
    await openGrants(fixture, tasks, 'kill mid-suspension');

    await runtime.emit('Agent Suspended', { agentId, by: 'secops@example.com', reason: 'kill test' }, 'taskbound.cli');
    // Killed at the first sign of the kill switch's revocations, while most grants are still live.
    await until(async () => {
      const states = await Promise.all(tasks.slice(0, 8).map((task) => grants.get(agentId, task.taskId)));
      return states.some((grant) => grant?.state !== 'active');
    });
    await fixture.engine!.kill();
    const atKill = await Promise.all(tasks.map((task) => runtime.whoAmI(ledger.credentials.find((held) => held.taskId === task.taskId)!)));
    const engine = await fixture.restart();

    const check = await settleAndCheck({ endpoint: engine.url, dataDir, ledger, settleTimeoutMs: 30_000 });
    const summary = JSON.stringify({ atKill: atKill.length, ...check });
    expect(check.grantsByState, summary).toEqual({ verified: LIVE_GRANTS });
    expect(check.liveCredentials, summary).toEqual([]);
    expect(check.deliveriesHoldingCredentials, summary).toEqual([]);
    expect(check.auditVerified, check.auditSummary).toBe(true);
    for (const task of tasks) {
      const grant = await grants.get(agentId, task.taskId);
      expect(
        grant?.revocation,
        `${task.taskId} ${JSON.stringify(grant?.audit.map((entry) => [entry.at.slice(17), entry.action, entry.reason]))}`,
      ).toMatchObject({ trigger: 'suspended' });
    }

    await runtime.startTask({
      agentId,
      taskId: 'after-restart',
      scopes: ['soak-read'],
      purpose: 'kill mid-suspension',
      requestedBy: 'dev@example.com',
    });
    const refused = await runtime.waitForDelivery(agentId, 'after-restart', ['issued', 'denied'], 15_000);
    expect(refused).toMatchObject({ status: 'denied', reason: expect.stringMatching(/suspended/) });
  }, 180_000);
});

/** Far enough past every grant's expiry that all are due at once when the engine starts again. */
const CLOCK_JUMP_MS = 5 * 60_000;

// Many grants due at once: the engine was stopped and its clock moved past their expiries (a laptop
// asleep, a clock corrected forward), so the restarted engine's re-armed timers and first sweep
// expire all of them. Killed in the middle of that, the next start must finish it, and by the time
// it serves, every credential is dead. The jump is the engine's test-only clock offset
// (--test-clock-offset-ms), which moves every part of it (STS, the gate, timers, the sweep) together.
describe('local engine: clock jumped past expiries, kill -9 mid-sweep, then restart', () => {
  const fixture = killTestEngine('taskbound-kill-sweep-', SOAK_POLICY_FILE);

  it('expires and verifies every due grant, none alive once it serves', async () => {
    const { runtime, grants, ledger, dataDir, port } = fixture;
    const agentId = 'busy-bot';
    const tasks = Array.from({ length: LIVE_GRANTS }, (_, index) => ({
      agentId,
      taskId: `due-${index}`,
      scopes: [index % 4 === 0 ? 'soak-read' : 'soak-upload-key'],
      ttlSeconds: 60,
    }));
    await openGrants(fixture, tasks, 'kill mid-sweep');
    await fixture.engine!.kill();

    const jumped = { dataDir, port, policyFile: SOAK_POLICY_FILE, clockOffsetMs: CLOCK_JUMP_MS };
    const starting = spawnEngineProcess(jumped);
    starting.ready.catch(() => undefined);
    // Killed at the first grant the restarted engine expires, while the rest are still due.
    let atKill: string[] = [];
    await until(async () => {
      const states = await Promise.all(tasks.slice(0, 8).map((task) => grants.get(agentId, task.taskId).catch(() => undefined)));
      atKill = states.map((grant) => grant?.state ?? 'unread');
      return states.some((grant) => grant !== undefined && grant.state !== 'active');
    });
    await starting.engine.kill();
    console.log(`kill mid-sweep: the first 8 grants at the kill: ${atKill.join(' ')}`);

    const engine = (fixture.engine = await startEngineProcess(jumped));
    // Ready means its first sweep has run: nothing due may still work.
    const working = [];
    for (const credential of ledger.credentials) if ((await runtime.whoAmI(credential)).ok) working.push(credential.taskId);
    expect(working, `first 8 at the kill: ${atKill.join(' ')}`).toEqual([]);

    const check = await settleAndCheck({ endpoint: engine.url, dataDir, ledger, settleTimeoutMs: 30_000 });
    const summary = JSON.stringify({ atKill, ...check });
    expect(check.grantsByState, summary).toEqual({ verified: LIVE_GRANTS });
    expect(check.liveCredentials, summary).toEqual([]);
    expect(check.auditVerified, check.auditSummary).toBe(true);
    for (const task of tasks)
      expect((await grants.get(agentId, task.taskId))?.revocation, task.taskId).toMatchObject({ trigger: 'expired' });
  }, 180_000);
});
