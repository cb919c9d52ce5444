import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../lambdas/domain/audit';
import { startHarness, type Harness } from './local-engine';

describe('local engine: a task lifecycle over the AWS protocols', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('issues a working credential, then kills it when the task ends and proves it dead', async () => {
    await h.runtime.startTask({
      agentId: 'release-bot',
      taskId: 'bump-lodash',
      purpose: 'bump lodash',
      requestedBy: 'dev@example.com',
      scopes: ['repo-read'],
    });
    const delivery = await h.runtime.waitForDelivery('release-bot', 'bump-lodash', ['issued', 'denied']);
    expect(delivery).toMatchObject({ status: 'issued', kind: 'aws-sts-session', scopes: ['repo-read'] });
    expect(await h.runtime.whoAmI(delivery)).toMatchObject({ ok: true, arn: expect.stringContaining(delivery.grantId) });

    await h.runtime.endTask({ agentId: 'release-bot', taskId: 'bump-lodash', outcome: 'succeeded', systemsTouched: ['codecommit:web'] });
    expect(await h.runtime.waitUntilRejected(delivery)).toBe('InvalidClientTokenId');

    const grant = await h.waitForGrant('release-bot', 'bump-lodash', ['verified']);
    expect(grant.revocation).toMatchObject({ trigger: 'task_ended' });
    expect(grant.systemsTouched).toEqual(['codecommit:web']);
    expect(grant.audit.map((entry) => entry.action)).toEqual([
      'requested',
      'auto-approved',
      'issued',
      'revoke:task_ended',
      'revoked',
      'verified',
    ]);
    expect(verifyChain(grant.grantId, grant.audit)).toEqual({ ok: true });
    // The delivery secret is deleted once the credential is proven dead.
    expect(await h.runtime.readDelivery('release-bot', 'bump-lodash')).toBeUndefined();
  });

  it('delivers to a task whose id holds a colon, which a Secrets Manager name may not', async () => {
    await h.runtime.startTask({
      agentId: 'release-bot',
      taskId: 'jira:OPS-12',
      purpose: 'ticket work',
      requestedBy: 'dev@example.com',
      scopes: ['repo-read'],
    });
    const delivery = await h.runtime.waitForDelivery('release-bot', 'jira:OPS-12', ['issued', 'denied']);
    expect(delivery).toMatchObject({ status: 'issued' });
    await h.runtime.endTask({ agentId: 'release-bot', taskId: 'jira:OPS-12', outcome: 'succeeded' });
    expect(await h.runtime.waitUntilRejected(delivery)).toBe('InvalidClientTokenId');
  });

  it('issues once for a duplicated Task Started', async () => {
    const task = { agentId: 'release-bot', taskId: 'dup-1', purpose: 'twice', requestedBy: 'dev@example.com', scopes: ['repo-read'] };
    await Promise.all([h.runtime.startTask(task), h.runtime.startTask(task), h.runtime.startTask(task)]);
    const first = await h.runtime.waitForDelivery('release-bot', 'dup-1', ['issued']);
    await h.engine.bus.idle();
    const again = await h.runtime.readDelivery('release-bot', 'dup-1');
    expect(again?.accessKeyId).toBe(first.accessKeyId);
    const grant = await h.waitForGrant('release-bot', 'dup-1', ['active']);
    expect(grant.audit.filter((entry) => entry.action === 'issued')).toHaveLength(1);
  });

  it('leaves no live credential when Task Ended arrives before Task Started', async () => {
    await h.runtime.endTask({ agentId: 'release-bot', taskId: 'early-end', outcome: 'cancelled' });
    await h.waitForGrant('release-bot', 'early-end', ['denied']);
    await h.runtime.startTask({
      agentId: 'release-bot',
      taskId: 'early-end',
      purpose: 'late start',
      requestedBy: 'dev@example.com',
      scopes: ['repo-read'],
    });
    const delivery = await h.runtime.waitForDelivery('release-bot', 'early-end', ['denied', 'issued']);
    expect(delivery).toMatchObject({ status: 'denied', reason: expect.stringMatching(/after its Task Ended/) });
    expect(delivery.accessKeyId).toBeUndefined();
  });

  it('denies a request outside the policy with a reason the runtime can read', async () => {
    await h.runtime.startTask({
      agentId: 'release-bot',
      taskId: 'too-long',
      purpose: 'x',
      requestedBy: 'dev@example.com',
      scopes: ['repo-read'],
      ttlSeconds: 7200,
    });
    const delivery = await h.runtime.waitForDelivery('release-bot', 'too-long', ['denied', 'issued']);
    expect(delivery).toMatchObject({ status: 'denied', reason: expect.stringMatching(/maximum of 1800/) });
  });

  it('holds a deploy for approval, refuses the owner, and issues on an eligible approval', async () => {
    await h.runtime.startTask({
      agentId: 'deploy-bot',
      taskId: 'ship-42',
      purpose: 'release 42',
      requestedBy: 'dev@example.com',
      scopes: ['deploy-web'],
    });
    const pending = await h.runtime.waitForDelivery('deploy-bot', 'ship-42', ['pending_approval']);
    expect(await h.operator('sre@example.com', { action: 'approve', grantId: pending.grantId, reason: 'mine' })).toMatchObject({
      status: 403,
      body: { outcome: 'refused' },
    });
    const held = await h.waitForGrant('deploy-bot', 'ship-42', ['pending_approval']);
    expect(held.audit.at(-1)).toMatchObject({ action: 'decision-refused', reason: expect.stringMatching(/owns agent/) });

    expect(await h.operator('lead@example.com', { action: 'approve', grantId: pending.grantId, reason: 'release train' })).toMatchObject({
      status: 200,
      body: { outcome: 'issued' },
    });
    const issued = await h.runtime.waitForDelivery('deploy-bot', 'ship-42', ['issued']);
    expect(await h.runtime.whoAmI(issued)).toMatchObject({ ok: true });
    const grant = await h.waitForGrant('deploy-bot', 'ship-42', ['active']);
    expect(grant.approvals.map((approval) => approval.approver)).toEqual(['lead@example.com']);
  });

  it('answers a malformed event with the reason, on the bus and where the runtime polls, and issues nothing', async () => {
    const seen: { type: string; detail: Record<string, unknown> }[] = [];
    const unsubscribe = h.engine.bus.subscribe(
      (event) => void seen.push({ type: event['detail-type'], detail: event.detail as Record<string, unknown> }),
    );
    await h.runtime.emit('Task Started', {
      agentId: 'release-bot',
      taskId: 'bad-purpose',
      purpose: '',
      requestedBy: 'dev',
      scopes: ['repo-read'],
    });
    await h.engine.bus.idle();
    unsubscribe();
    expect(seen.filter((event) => event.detail.taskId === 'bad-purpose').map((event) => [event.type, event.detail.reason])).toEqual([
      ['Task Started', undefined],
      ['Grant Denied', expect.stringMatching(/^invalid Task Started event: detail\.purpose: /)],
    ]);
    expect(seen.find((event) => event.type === 'Grant Denied')?.detail).toMatchObject({
      requestedBy: 'dev',
      requestedByStatus: 'unverified',
    });
    expect(await h.runtime.readDelivery('release-bot', 'bad-purpose')).toMatchObject({
      status: 'denied',
      reason: expect.stringMatching(/^invalid Task Started event: detail\.purpose: /),
    });
  });

  it('redacts a secret pasted into a purpose or a suspension reason, and still tells the whole story on the bus', async () => {
    const pasted = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const seen: { type: string; detail: Record<string, unknown> }[] = [];
    const unsubscribe = h.engine.bus.subscribe(
      (event) => void seen.push({ type: event['detail-type'], detail: event.detail as Record<string, unknown> }),
    );
    await h.runtime.startTask({
      agentId: 'ops-bot',
      taskId: 'pasted-1',
      purpose: `rotate ${pasted} for the reports bucket`,
      requestedBy: 'dev@example.com',
      scopes: ['reports-upload-key'],
    });
    const delivery = await h.runtime.waitForDelivery('ops-bot', 'pasted-1', ['issued', 'denied']);
    await h.runtime.emit('Agent Suspended', { agentId: 'ops-bot', by: 'secops@example.com', reason: `key ${pasted} seen in a log` });
    expect(await h.runtime.waitUntilRejected(delivery)).toBe('InvalidClientTokenId');
    const grant = await h.waitForGrant('ops-bot', 'pasted-1', ['verified']);
    await h.engine.bus.idle();
    unsubscribe();

    expect(grant.purpose).toBe('rotate [redacted: an AWS secret access key] for the reports bucket');
    expect(grant.revocation?.reason).toBe('agent suspended: key [redacted: an AWS secret access key] seen in a log');
    const published = seen.filter(
      (event) => event.detail.agentId === 'ops-bot' && event.type !== 'Task Started' && event.type !== 'Agent Suspended',
    );
    expect(published.map((event) => event.type)).toEqual(
      expect.arrayContaining(['Grant Issued', 'Grant Revoked', 'Revocation Verified', 'Agent Suspension Completed']),
    );
    expect(JSON.stringify([grant, published])).not.toContain(pasted);
    await h.operator('cfo@example.com', { action: 'resume', agentId: 'ops-bot', reason: 'rotated' });
  });
});
