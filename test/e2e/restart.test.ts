// Tests (e2e, local engine as a child process): docs/contract.md §6's durability promise. After a
// `kill -9` and a restart on the same data directory, what was issued still works until its
// task ends, what expires is revoked on time, and an event PutEvents accepted is not lost.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentRuntime, type Delivery } from '../helpers/agent-runtime';
import { startLocalEngine, type LocalEngine } from '../../lambdas/local/engine';
import { silentLogger } from '../../lambdas/use-cases/engine-deps';
import { freeLoopbackPort, startEngineProcess, type EngineProcess } from './engine-process';
import { readGrantTable, type GrantTableReader } from './grant-table-reader';
import { EXAMPLE_POLICY } from './local-engine';
import { grantIdFor } from '../../lambdas/domain/ids';
import type { IssuedCredential } from '../../lambdas/ports';
import { INTERRUPTED_DELIVERY_REASON, INTERRUPTED_ISSUANCE_REASON } from '../../lambdas/use-cases/recover-interrupted-issuance';

/** How late after its expiry a re-armed timer may revoke: a correctness bound, not a benchmark. */
const EXPIRY_BOUND_MS = 5_000;
const TTL_SECONDS = 60;
/**
 * The restarted engine's clock runs ahead so that A's expiry is this close, instead of waiting
 * out the TTL in real time: long enough to check A still works after the restart, short enough
 * to keep the test quick.
 */
const EXPIRY_AFTER_RESTART_MS = 10_000;

// A is an IAM access key: it has no expiry of its own, so only the engine's re-armed timer
// can end it. (A session would be refused as ExpiredToken by STS itself, timer or not.)
const A = { agentId: 'ops-bot', taskId: 'nightly-report', scopes: ['reports-upload-key'], ttlSeconds: TTL_SECONDS };
const B = { agentId: 'release-bot', taskId: 'bump-lodash', scopes: ['repo-read'] };
const C = { agentId: 'release-bot', taskId: 'bump-react', scopes: ['repo-read'] };

describe('local engine: durability across kill -9 and restart', () => {
  let dataDir: string;
  let port: number;
  let engine: EngineProcess | undefined;
  let runtime: AgentRuntime | undefined;
  let grants: GrantTableReader | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'taskbound-restart-'));
    port = await freeLoopbackPort();
  });

  afterAll(async () => {
    runtime?.close();
    grants?.close();
    await engine?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  const start = (task: { agentId: string; taskId: string; scopes: string[]; ttlSeconds?: number }) =>
    runtime!.startTask({ ...task, purpose: `restart test: ${task.taskId}`, requestedBy: 'dev@example.com' });

  const issued = async (task: { agentId: string; taskId: string }): Promise<Delivery> => {
    const delivery = await runtime!.waitForDelivery(task.agentId, task.taskId, ['issued', 'denied']);
    expect(delivery, `${task.agentId}/${task.taskId} was ${delivery.status}: ${delivery.reason ?? ''}`).toMatchObject({ status: 'issued' });
    // The expiry is armed only once the grant is active; a kill before that is the known gap below.
    await grants!.waitFor(task.agentId, task.taskId, ['active']);
    return delivery;
  };

  it(
    'still revokes what it issued, on time, after a kill -9',
    async () => {
      engine = await startEngineProcess({ dataDir, port });
      runtime = new AgentRuntime({ endpoint: engine.url });
      grants = readGrantTable(engine.url);

      await Promise.all([start(A), start(B), start(C)]);
      const [a, b, c] = await Promise.all([issued(A), issued(B), issued(C)]);
      for (const delivery of [a, b, c]) expect(await runtime.whoAmI(delivery)).toMatchObject({ ok: true });

      // C's Task Ended is accepted (journaled) and the engine dies before it can act on it.
      await runtime.endTask({ agentId: C.agentId, taskId: C.taskId, outcome: 'succeeded' });
      await engine.kill();

      // The restarted engine lives EXPIRY_AFTER_RESTART_MS before A's expiry, whatever the real time.
      const expiration = Date.parse(a.expiration ?? '');
      expect(Number.isNaN(expiration)).toBe(false);
      const clockOffsetMs = Math.max(0, expiration - EXPIRY_AFTER_RESTART_MS - Date.now());
      const engineNow = () => Date.now() + clockOffsetMs;
      engine = await startEngineProcess({ dataDir, port, clockOffsetMs });

      expect(await runtime.whoAmI(a), engine.output()).toMatchObject({ ok: true });
      expect(await runtime.whoAmI(b), engine.output()).toMatchObject({ ok: true });

      expect(await runtime.waitUntilRejected(c)).toBe('InvalidClientTokenId');
      expect(await grants.waitFor(C.agentId, C.taskId, ['verified'])).toMatchObject({ revocation: { trigger: 'task_ended' } });

      await runtime.endTask({ agentId: B.agentId, taskId: B.taskId, outcome: 'succeeded' });
      expect(await runtime.waitUntilRejected(b)).toBe('InvalidClientTokenId');
      expect(await grants.waitFor(B.agentId, B.taskId, ['verified'])).toMatchObject({ revocation: { trigger: 'task_ended' } });

      // A: nobody says anything more; the timer re-armed at start must end it.
      const waitMs = expiration + EXPIRY_BOUND_MS - engineNow();
      const code = await runtime.waitUntilRejected(a, waitMs, 200);
      const rejectedAt = engineNow();
      expect(code).toBe('InvalidClientTokenId');
      expect(rejectedAt).toBeLessThanOrEqual(expiration + EXPIRY_BOUND_MS);

      const expired = await grants.waitFor(A.agentId, A.taskId, ['verified']);
      expect(expired.revocation).toMatchObject({ trigger: 'expired' });
      const revokedAt = expired.audit.find((entry) => entry.action === 'revoke:expired')?.at;
      // Not early either: the engine revoked at or after the expiry it promised the runtime.
      expect(Date.parse(revokedAt ?? '')).toBeGreaterThanOrEqual(expiration);
      expect(await runtime.readDelivery(A.agentId, A.taskId)).toBeUndefined();
    },
    EXPIRY_AFTER_RESTART_MS + 60_000,
  );
});

/** The engine restarted on a data directory after `stage` ran against a first engine there (sweeps off). */
interface StagedRestart {
  readonly restarted: LocalEngine;
  readonly grants: GrantTableReader;
  readonly runtime: AgentRuntime;
}

/**
 * Registers the hooks of a describe block whose test runs against an engine restarted after `stage`:
 * a kill -9 cannot hit a window on purpose, so the death is staged in process (a write made to
 * fail, a delivery deleted), the first engine stopped, and a second one started on its data.
 */
function restartedAfter(name: string, stage: (first: LocalEngine) => Promise<void>): () => StagedRestart {
  let dataDir: string;
  let staged: StagedRestart | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), `taskbound-restart-${name}-`));
    const options = { dataDir, policyFile: EXAMPLE_POLICY, port: 0, sweepIntervalMs: 0, logger: silentLogger, print: () => undefined };
    const first = await startLocalEngine(options);
    try {
      await stage(first);
    } finally {
      await first.stop();
    }
    const restarted = await startLocalEngine(options);
    staged = { restarted, grants: readGrantTable(restarted.url), runtime: new AgentRuntime({ endpoint: restarted.url }) };
  });
  afterAll(async () => {
    staged?.runtime.close();
    staged?.grants.close();
    await staged?.restarted.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  return () => {
    if (!staged) throw new Error('the restart was not staged');
    return staged;
  };
}

// The credential is issued, then recorded `active`, then delivered. An engine that dies
// between the first two restarts with an `issuing` grant whose credential exists though no
// runtime holds it. The restarted engine knows no issuance is running (it is one process and
// has just started), so it revokes that credential at once and closes the grant `failed`, with
// the reason recorded, instead of leaving it alive until the sweep calls the grant stuck minutes
// later (found by the crash-under-load test). Like every failed grant's, its delivery says `denied`
// with the reason, kept as long as a denial's, so the runtime's wait ends knowing why.
describe('local engine: a restart after a credential was issued but not yet recorded', () => {
  let credential: IssuedCredential | undefined;
  const engine = restartedAfter('issuing', async (first) => {
    const store = first.deps.store;
    const update = store.update.bind(store);
    store.update = async (current, next) => {
      if (next.state === 'active') throw new Error('the engine died here');
      return update(current, next);
    };
    const issuer = first.deps.issuers['aws-iam-access-key'];
    const issue = issuer.issue.bind(issuer);
    issuer.issue = async (request) => (credential = await issue(request));
    const before = new AgentRuntime({ endpoint: first.url });
    await before.startTask({ ...A, purpose: 'restart test: died while issuing', requestedBy: 'dev@example.com' });
    before.close();
    await first.bus.idle();
    const stuck = await first.deps.store.get(grantIdFor(A.agentId, A.taskId));
    if (stuck?.state !== 'issuing' || !credential) throw new Error(`staging failed: the grant is ${stuck?.state ?? 'absent'}`);
  });

  it('revokes the undelivered credential at start and records why', async () => {
    const { grants, runtime } = engine();
    const grant = await grants.waitFor(A.agentId, A.taskId, ['failed'], 5_000);
    expect(grant.reason).toBe(INTERRUPTED_ISSUANCE_REASON);
    expect(await runtime.whoAmI(credential!)).toEqual({ ok: false, code: 'InvalidClientTokenId' });
    expect(await runtime.readDelivery(A.agentId, A.taskId)).toMatchObject({ status: 'denied', reason: INTERRUPTED_ISSUANCE_REASON });
  });
});

// The same window one step later: the credential is recorded `active` and the engine dies before
// its delivery is written. The store names a credential no runtime received; the restart revokes
// it rather than leave it alive until its TTL. Staged by deleting the delivery before the restart.
describe('local engine: a restart after a credential was recorded but not yet delivered', () => {
  const TASK = { agentId: 'release-bot', taskId: 'never-delivered', scopes: ['repo-read'] };
  let delivered: Delivery | undefined;
  const engine = restartedAfter('undelivered', async (first) => {
    const before = new AgentRuntime({ endpoint: first.url });
    await before.startTask({ ...TASK, purpose: 'restart test: died before delivering', requestedBy: 'dev@example.com' });
    delivered = await before.waitForDelivery(TASK.agentId, TASK.taskId, ['issued']);
    before.close();
    await first.bus.idle();
    const grant = await first.deps.store.get(grantIdFor(TASK.agentId, TASK.taskId));
    if (grant?.state !== 'active' || !grant.deliverySecret) throw new Error(`staging failed: the grant is ${grant?.state ?? 'absent'}`);
    await first.deps.vault.destroy(grant.deliverySecret);
  });

  it('revokes the recorded credential at start and proves it dead', async () => {
    const { grants, runtime } = engine();
    const grant = await grants.waitFor(TASK.agentId, TASK.taskId, ['verified'], 5_000);
    expect(grant.revocation).toMatchObject({ trigger: 'manual', reason: INTERRUPTED_DELIVERY_REASON });
    expect(await runtime.whoAmI(delivered!)).toEqual({ ok: false, code: 'InvalidClientTokenId' });
  });
});

// A revocation deletes the delivery, then writes the grant's end: killed in between, the grant is
// `active` with no delivery, as if never delivered. When the event that asked for the revocation is
// still on the bus (accepted, not yet handled to the end), the restart leaves the grant to it, so the
// audit chain says who ended the task and why instead of "interrupted by a restart". Staged by
// failing the grant's end write, then stopping the bus before it retries.
describe('local engine: a restart in the middle of a Task Ended revocation', () => {
  const TASK = { agentId: 'release-bot', taskId: 'ending-when-killed', scopes: ['repo-read'] };
  let delivered: Delivery | undefined;
  const engine = restartedAfter('ending', async (first) => {
    const before = new AgentRuntime({ endpoint: first.url });
    await before.startTask({ ...TASK, purpose: 'restart test: died while revoking', requestedBy: 'dev@example.com' });
    delivered = await before.waitForDelivery(TASK.agentId, TASK.taskId, ['issued']);
    await first.bus.idle();
    const store = first.deps.store;
    const update = store.update.bind(store);
    let died: () => void = () => undefined;
    const dying = new Promise<void>((resolve) => (died = resolve));
    store.update = async (current, next) => {
      if (next.state !== 'verified') return update(current, next);
      died();
      throw new Error('the engine died here');
    };
    await before.endTask({ agentId: TASK.agentId, taskId: TASK.taskId, outcome: 'succeeded' });
    await dying;
    const delivery = await before.readDelivery(TASK.agentId, TASK.taskId);
    before.close();
    // The bus stops before its retry: the Task Ended stays accepted and undelivered, as after a kill -9.
    await first.bus.close();
    if (delivery !== undefined) throw new Error('staging failed: the delivery was not deleted before the end write');
  });

  it('records the Task Ended as the trigger, by the agent, with its outcome, and the credential is dead', async () => {
    const { grants, runtime } = engine();
    const grant = await grants.waitFor(TASK.agentId, TASK.taskId, ['verified'], 5_000);
    expect(grant.revocation).toMatchObject({ trigger: 'task_ended', by: TASK.agentId, reason: 'task succeeded' });
    expect(await runtime.whoAmI(delivered!)).toEqual({ ok: false, code: 'InvalidClientTokenId' });
  });
});
