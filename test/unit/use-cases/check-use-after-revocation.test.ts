import { describe, expect, it } from 'vitest';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { endTask } from '../../../lambdas/use-cases/end-task';
import { reportLeak } from '../../../lambdas/use-cases/report-leak';
import { sweepDueGrants } from '../../../lambdas/use-cases/sweep';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { verifyChain } from '../../../lambdas/domain/audit';
import { PROBE_USER_AGENT, type RecordedCall, type UseCheckTiming } from '../../../lambdas/domain/use-after-revocation';
import type { CredentialUseLog } from '../../../lambdas/ports';
import { alertMessage } from '../../../lambdas/adapters/slack/messages';
import { parseAlertEvent } from '../../../lambdas/domain/alert-event';
import { fakeEngine, taskStarted, type FakeEngine } from '../../helpers/fake-engine';

const MINUTE = 60_000;
const TIMING: UseCheckTiming = { deliveryLagMs: 15 * MINUTE, intervalMs: 60 * MINUTE, longestSessionMs: 12 * 60 * MINUTE };

/** CloudTrail event history, in memory: calls by access key id, read by time range as LookupEvents does. */
class RecordedCalls implements CredentialUseLog {
  readonly calls: (RecordedCall & { readonly accessKeyId: string })[] = [];
  readonly reads: { readonly from: Date; readonly to: Date }[] = [];

  record(accessKeyId: string, call: Omit<RecordedCall, 'eventId'>): void {
    this.calls.push({ ...call, accessKeyId, eventId: `ev-${this.calls.length + 1}` });
  }

  async callsWith(accessKeyId: string, from: Date, to: Date): Promise<readonly RecordedCall[]> {
    this.reads.push({ from, to });
    return this.calls.filter((call) => call.accessKeyId === accessKeyId && call.eventTime >= from && call.eventTime <= to);
  }
}

function engineWithTrail(): FakeEngine & { readonly trail: RecordedCalls } {
  const trail = new RecordedCalls();
  return { ...fakeEngine(), useLog: trail, useCheckTiming: TIMING, trail };
}

const at = (engine: FakeEngine, offsetMs: number) => new Date(engine.clock.now().getTime() + offsetMs);

async function issuedAndEnded(engine: FakeEngine, overrides: Record<string, unknown> = {}) {
  const started = taskStarted(overrides);
  await startTask(engine, started);
  const delivered = engine.vault.secrets.get(`taskbound/${started.agentId}/${started.taskId}`)!.payload;
  const revokedAt = engine.clock.now();
  await endTask(engine, { agentId: started.agentId, taskId: started.taskId, outcome: 'succeeded' });
  return { grantId: grantIdFor(started.agentId, started.taskId), delivered, revokedAt };
}

describe('checkUseAfterRevocation', () => {
  it('reports a session used after its revocation with the calls, times and source IP, and no secret', async () => {
    const engine = engineWithTrail();
    const { grantId, delivered, revokedAt } = await issuedAndEnded(engine);
    const key = delivered.accessKeyId!;
    // Before revocation: the task's own work. Right after: the engine's canary probe. Then a thief.
    engine.trail.record(key, {
      eventName: 'GitPull',
      eventSource: 'codecommit.amazonaws.com',
      eventTime: at(engine, -60_000),
      sourceIp: '10.0.0.5',
    });
    engine.trail.record(key, {
      eventName: 'DescribeSecret',
      eventSource: 'secretsmanager.amazonaws.com',
      eventTime: at(engine, 200),
      sourceIp: '10.0.0.9',
      userAgent: `aws-sdk-js/3 ${PROBE_USER_AGENT}`,
    });
    engine.trail.record(key, {
      eventName: 'ListRepositories',
      eventSource: 'codecommit.amazonaws.com',
      eventTime: at(engine, 30_000),
      sourceIp: '203.0.113.7',
      errorCode: 'AccessDenied',
    });
    engine.trail.record(key, {
      eventName: 'GetSecretValue',
      eventSource: 'secretsmanager.amazonaws.com',
      eventTime: at(engine, 90_000),
      sourceIp: '203.0.113.7',
    });

    engine.clock.advance(30 * MINUTE);
    expect((await sweepDueGrants(engine)).dueGrants).toBe(0);
    engine.clock.advance(16 * MINUTE);
    expect(await sweepDueGrants(engine)).toMatchObject({ dueGrants: 1, usedAfterRevocation: 1, errors: 0 });

    const [finding] = engine.events.of('Credential Used After Revocation');
    expect(finding?.detail).toMatchObject({
      grantId,
      credentialId: key,
      possibleMisuse: true,
      revokedAt: revokedAt.toISOString(),
      callCount: 2,
      calls: [
        {
          eventName: 'ListRepositories',
          eventTime: at(engine, -46 * MINUTE + 30_000).toISOString(),
          sourceIp: '203.0.113.7',
          errorCode: 'AccessDenied',
        },
        { eventName: 'GetSecretValue', eventSource: 'secretsmanager.amazonaws.com', sourceIp: '203.0.113.7' },
      ],
    });
    const serialized = JSON.stringify(finding);
    expect(serialized).not.toContain(delivered.secretAccessKey);
    expect(serialized).not.toContain(delivered.sessionToken);
    const grant = await engine.store.get(grantId);
    expect(grant?.audit.at(-1)).toMatchObject({
      action: 'used-after-revocation',
      detail: { calls: [{ eventName: 'ListRepositories' }, { eventName: 'GetSecretValue' }] },
    });
    expect(verifyChain(grantId, grant!.audit).ok).toBe(true);
  });

  it('alerts in Slack with each call, its time and its IP, and no secret', async () => {
    const engine = engineWithTrail();
    const { delivered } = await issuedAndEnded(engine);
    engine.trail.record(delivered.accessKeyId!, {
      eventName: 'ListBuckets',
      eventSource: 's3.amazonaws.com',
      eventTime: at(engine, 5_000),
      sourceIp: '198.51.100.23',
    });
    engine.clock.advance(46 * MINUTE);
    await sweepDueGrants(engine);

    const [finding] = engine.events.of('Credential Used After Revocation');
    const parsed = parseAlertEvent(finding!.detailType, finding!.detail, finding!.detail.at);
    if (!parsed.ok) throw new Error(parsed.reason);
    const message = JSON.stringify(alertMessage(parsed.event));

    expect(message).toContain('Credential used after revocation');
    expect(message).toContain('ListBuckets');
    expect(message).toContain('198.51.100.23');
    expect(message).not.toContain(delivered.secretAccessKey);
    expect(message).not.toContain(delivered.sessionToken);
  });

  it("does not count the engine's own probes: a probe call, with the probe's user agent, between revocation and verification", async () => {
    const engine = engineWithTrail();
    const started = taskStarted({ agentId: 'deploy-bot', scopes: ['bucket-read-key'] });
    await startTask(engine, started);
    const key = engine.vault.secrets.get('taskbound/deploy-bot/task-1')!.payload.accessKeyId!;
    await reportLeak(engine, { credentialId: key, reportedBy: 'scanner' });
    const probe = { eventName: 'GetCallerIdentity', eventSource: 'sts.amazonaws.com', sourceIp: '10.0.0.9' };
    engine.trail.record(key, { ...probe, eventTime: at(engine, 1_000), userAgent: PROBE_USER_AGENT });
    // The same call without the probe's user agent, or minutes after verification, is not the engine's.
    engine.trail.record(key, { ...probe, eventTime: at(engine, 2_000), userAgent: 'aws-cli/2.15', sourceIp: '203.0.113.7' });
    engine.trail.record(key, { ...probe, eventTime: at(engine, 4 * MINUTE), userAgent: PROBE_USER_AGENT, sourceIp: '203.0.113.8' });

    // A deleted key is read until a few minutes after it was proven dead: one read, 20 minutes on.
    engine.clock.advance(19 * MINUTE);
    expect((await sweepDueGrants(engine)).dueGrants).toBe(0);
    engine.clock.advance(2 * MINUTE);
    expect(await sweepDueGrants(engine)).toMatchObject({ dueGrants: 1, usedAfterRevocation: 1 });

    const [finding] = engine.events.of('Credential Used After Revocation');
    expect(finding?.detail.calls).toEqual([
      expect.objectContaining({ eventName: 'GetCallerIdentity', sourceIp: '203.0.113.7' }),
      expect.objectContaining({ eventName: 'GetCallerIdentity', sourceIp: '203.0.113.8' }),
    ]);
  });

  it('keeps reading a long session until it could no longer be used, then notes a clean record and stops', async () => {
    const engine = engineWithTrail();
    const { grantId } = await issuedAndEnded(engine, { agentId: 'deploy-bot', scopes: ['repo-read'], ttlSeconds: 3600 });

    // Usable until expiry + STS's floor (75 min): reads at 75 min, then the rest at 90 min.
    engine.clock.advance(75 * MINUTE);
    expect(await sweepDueGrants(engine)).toMatchObject({ dueGrants: 1, usedAfterRevocation: 0 });
    engine.clock.advance(15 * MINUTE);
    expect(await sweepDueGrants(engine)).toMatchObject({ dueGrants: 1, usedAfterRevocation: 0 });
    engine.clock.advance(24 * 60 * MINUTE);
    expect((await sweepDueGrants(engine)).dueGrants).toBe(0);

    expect(engine.trail.reads).toHaveLength(2);
    expect(engine.trail.reads[1]!.from).toEqual(engine.trail.reads[0]!.to);
    const grant = await engine.store.get(grantId);
    expect(grant?.audit.at(-1)).toMatchObject({ action: 'use-check', reason: expect.stringMatching(/no call recorded after revocation/) });
    expect(grant?.misuseCheckAt).toBeUndefined();
  });

  it('reports a call in a later read that was not delivered by the first, once', async () => {
    const engine = engineWithTrail();
    const { delivered } = await issuedAndEnded(engine, { agentId: 'deploy-bot', scopes: ['repo-read'], ttlSeconds: 3600 });
    const key = delivered.accessKeyId!;
    engine.trail.record(key, {
      eventName: 'ListRepositories',
      eventSource: 'codecommit.amazonaws.com',
      eventTime: at(engine, 10 * MINUTE),
      sourceIp: '203.0.113.7',
    });
    engine.trail.record(key, {
      eventName: 'GitPull',
      eventSource: 'codecommit.amazonaws.com',
      eventTime: at(engine, 70 * MINUTE),
      sourceIp: '203.0.113.7',
    });

    engine.clock.advance(75 * MINUTE);
    await sweepDueGrants(engine);
    engine.clock.advance(15 * MINUTE);
    await sweepDueGrants(engine);

    expect(
      engine.events
        .of('Credential Used After Revocation')
        .map((event) => (event.detail.calls as { eventName: string }[]).map((call) => call.eventName)),
    ).toEqual([['ListRepositories'], ['GitPull']]);
  });

  it('schedules no read where the platform keeps no record of calls', async () => {
    const engine = fakeEngine();
    const { grantId } = await issuedAndEnded(engine);

    expect((await engine.store.get(grantId))?.misuseCheckAt).toBeUndefined();
    engine.clock.advance(24 * 60 * MINUTE);
    expect((await sweepDueGrants(engine)).dueGrants).toBe(0);
  });
});
