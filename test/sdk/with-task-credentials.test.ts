// The SDK against the local engine, through its AWS endpoints only: a task's whole life.
import { describe, expect, it } from 'vitest';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { localClientConfig } from '../../lambdas/local/host/sdk-clients';
import {
  CredentialRevokedError,
  GrantDeniedError,
  InvalidTaskRequestError,
  TaskCancelledError,
  WaitTimeoutError,
  type TaskContext,
} from '../../sdk';
import { approve } from './approve';
import { harnessPerFile, startSdkHarness } from './sdk-harness';

const REQUEST = { agentId: 'release-bot', purpose: 'bump lodash', requestedBy: 'dev@example.com', scopes: ['repo-read'] };

describe('withTaskCredentials against the local engine', () => {
  const h = harnessPerFile(startSdkHarness);

  it('runs the work with a working credential, then ends the task and the credential is dead', async () => {
    const taskbound = h().client({ wait: {} });
    const callsBefore = h().calls.calls;
    const started = Date.now();
    let seen: { arn: string; grantId: string } | undefined;

    const result = await taskbound.withTaskCredentials(
      { ...REQUEST, taskId: 'sdk-happy' },
      async ({ credentials, grantId, systemsTouched }) => {
        seen = { arn: await h().whoAmI(credentials), grantId };
        systemsTouched.push('codecommit:web');
        return 'done';
      },
    );

    expect(result).toBe('done');
    expect(seen?.arn).toContain(seen?.grantId);
    const grant = await h().waitForGrant('release-bot', 'sdk-happy', ['verified']);
    expect(grant.revocation).toMatchObject({ trigger: 'task_ended', reason: 'task succeeded' });
    expect(grant.systemsTouched).toEqual(['codecommit:web']);
    // Start, a few reads with backoff (the default strategy), end: no fixed poll.
    const calls = h().calls.calls - callsBefore;
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(calls).toBeLessThanOrEqual(4 + (Date.now() - started) / 1_000);
  });

  it('rejects with GrantDeniedError carrying the reason, and never runs the work', async () => {
    let ran = false;
    const denied = h()
      .client()
      .withTaskCredentials({ ...REQUEST, taskId: 'sdk-denied', scopes: ['deploy-web'] }, async () => {
        ran = true;
      });

    await expect(denied).rejects.toBeInstanceOf(GrantDeniedError);
    await expect(denied).rejects.toMatchObject({ reason: expect.stringContaining('deploy-web') });
    expect(ran).toBe(false);
  });

  it('reports a grant held for approval, keeps waiting, and runs the work once it is approved', async () => {
    const pending: string[] = [];
    const arn = await h()
      .client()
      .withTaskCredentials(
        { agentId: 'deploy-bot', taskId: 'sdk-approved', purpose: 'ship 1.4', requestedBy: 'dev@example.com', scopes: ['deploy-web'] },
        async ({ credentials }) => h().whoAmI(credentials),
        { onPending: ({ grantId }) => void (pending.push(grantId), approve(h().engine, grantId, 'lead@example.com')) },
      );

    expect(pending).toHaveLength(1);
    expect(arn).toContain(pending[0]);
  });

  it('times out while the approval is pending, and ends the task so a late approval issues nothing', async () => {
    const waiting = h()
      .client({ wait: { pendingMinDelayMs: 50, pendingMaxDelayMs: 100, timeoutMs: 1_000 } })
      .withTaskCredentials(
        { agentId: 'deploy-bot', taskId: 'sdk-unanswered', purpose: 'ship 1.5', requestedBy: 'dev@example.com', scopes: ['deploy-web'] },
        async () => 'never',
      );

    await expect(waiting).rejects.toBeInstanceOf(WaitTimeoutError);
    await expect(waiting).rejects.toMatchObject({ lastStatus: 'pending_approval' });
    const grant = await h().waitForGrant('deploy-bot', 'sdk-unanswered', ['denied']);
    expect(grant.reason).toContain('task cancelled');
  });

  it('ends the task as failed when the work throws, and rethrows the work’s own error', async () => {
    const boom = new Error('the build broke');
    const failing = h()
      .client()
      .withTaskCredentials({ ...REQUEST, taskId: 'sdk-throws' }, async () => {
        throw boom;
      });

    await expect(failing).rejects.toBe(boom);
    const grant = await h().waitForGrant('release-bot', 'sdk-throws', ['verified']);
    expect(grant.revocation).toMatchObject({ trigger: 'task_ended', reason: 'task failed' });
  });

  it('ends the task as cancelled as soon as the signal aborts, even if the work ignores it', async () => {
    const controller = new AbortController();
    let context: TaskContext | undefined;
    const running = h()
      .client()
      .withTaskCredentials(
        { ...REQUEST, taskId: 'sdk-aborted' },
        async (given) => {
          context = given;
          controller.abort(new Error('user pressed stop'));
          return new Promise<never>(() => undefined);
        },
        { signal: controller.signal },
      );

    await expect(running).rejects.toBeInstanceOf(TaskCancelledError);
    expect(context?.signal.aborted).toBe(true);
    await expect(context!.credentials()).rejects.toMatchObject({ revocation: 'task-ended' });
    const grant = await h().waitForGrant('release-bot', 'sdk-aborted', ['verified']);
    expect(grant.revocation).toMatchObject({ reason: 'task cancelled' });
  });

  it('stops handing out the credential once the engine revokes it while the work runs', async () => {
    const events = new EventBridgeClient(localClientConfig(h().engine.url));
    const running = h()
      .client()
      .withTaskCredentials(
        { ...REQUEST, taskId: 'sdk-leaked' },
        async ({ credentials, grantId }) => {
          const identity = await credentials();
          expect(await h().whoAmI(credentials)).toContain(grantId);
          await events.send(
            new PutEventsCommand({
              Entries: [
                {
                  EventBusName: 'taskbound',
                  Source: 'test.scanner',
                  DetailType: 'Credential Leaked',
                  Detail: JSON.stringify({ credentialId: identity.accessKeyId, reportedBy: 'scanner' }),
                },
              ],
            }),
          );
          await h().waitForGrant('release-bot', 'sdk-leaked', ['verified']);
          return credentials();
        },
        { provider: { recheckMs: 0 } },
      );

    await expect(running).rejects.toBeInstanceOf(CredentialRevokedError);
    await expect(running).rejects.toMatchObject({ revocation: 'revoked' });
    events.destroy();
  });

  it('treats a duplicate start of the same task as one grant with one credential', async () => {
    const taskbound = h().client();
    const task = { agentId: 'release-bot', taskId: 'sdk-twice' };
    await Promise.all([taskbound.startTask({ ...REQUEST, ...task }), taskbound.startTask({ ...REQUEST, ...task })]);

    const [first, second] = await Promise.all([taskbound.waitForCredentials(task), taskbound.waitForCredentials(task)]);
    await taskbound.endTask({ ...task, outcome: 'succeeded' });

    expect(second.accessKeyId).toBe(first.accessKeyId);
    const grant = await h().waitForGrant('release-bot', 'sdk-twice', ['verified']);
    expect(grant.audit.filter((entry) => entry.action === 'issued')).toHaveLength(1);
  });

  it('refuses a malformed request field by field before sending anything', async () => {
    const before = h().calls.calls;

    const invalid = h()
      .client()
      .withTaskCredentials({ ...REQUEST, taskId: 'has spaces', scopes: [] }, async () => 'never');

    await expect(invalid).rejects.toBeInstanceOf(InvalidTaskRequestError);
    await expect(invalid).rejects.toMatchObject({ issues: [{ path: ['taskId'] }, { path: ['scopes'] }] });
    expect(h().calls.calls).toBe(before);
  });
});
