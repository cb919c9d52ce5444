// The task credential provider against the local engine's Secrets Manager: how often it reads,
// a refreshed session picked up from the delivery near expiry, and an expired one refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { localClientConfig } from '../../lambdas/local/host/sdk-clients';
import { CredentialRevokedError, type IssuedCredential, type Taskbound } from '../../sdk';
import { startSdkHarness, type SdkHarness } from './sdk-harness';

const REQUEST = { agentId: 'release-bot', purpose: 'provider test', requestedBy: 'dev@example.com', scopes: ['repo-read'] };

describe('the task credential provider', () => {
  let h: SdkHarness;
  let taskbound: Taskbound;
  beforeAll(async () => {
    h = await startSdkHarness();
    taskbound = h.client();
  });
  afterAll(async () => {
    await h.stop();
  });

  async function issued(taskId: string): Promise<IssuedCredential> {
    await taskbound.startTask({ ...REQUEST, taskId });
    return taskbound.waitForCredentials({ agentId: 'release-bot', taskId });
  }

  it('reads the delivery at most once per recheck interval, and tells the AWS SDK to ask again by then', async () => {
    const credential = await issued('provider-recheck');
    const start = Date.now();
    let clock = start;
    const provider = taskbound.credentialProvider({ agentId: 'release-bot', taskId: 'provider-recheck' }, credential, {
      recheckMs: 10_000,
      refreshBeforeExpiryMs: 0,
      now: () => clock,
    });
    const before = h.calls.calls;

    const first = await provider();
    await provider();
    clock += 10_000;
    await provider();

    expect(h.calls.calls - before).toBe(1);
    expect(first.accessKeyId).toBe(credential.accessKeyId);
    // The AWS SDK refreshes an identity five minutes before its stated expiration: so, after the recheck interval.
    expect(first.expiration!.getTime()).toBe(Math.min(credential.expiration!.getTime(), start + 10_000 + 5 * 60_000));
  });

  it('picks up a refreshed session from the delivery when the one it holds nears its expiry', async () => {
    const credential = await issued('provider-refresh');
    const secrets = new SecretsManagerClient(localClientConfig(h.engine.url));
    const refreshed = {
      status: 'issued',
      grantId: credential.grantId,
      kind: credential.kind,
      accessKeyId: 'ASIAREFRESHEDSESSION',
      secretAccessKey: 'refreshed',
      sessionToken: 'refreshed-token',
      expiration: new Date(Date.now() + 3_600_000).toISOString(),
      scopes: credential.scopes,
    };
    await secrets.send(
      new PutSecretValueCommand({ SecretId: 'taskbound/release-bot/provider-refresh', SecretString: JSON.stringify(refreshed) }),
    );
    secrets.destroy();
    const nearExpiry = credential.expiration!.getTime() - 60_000;
    const provider = taskbound.credentialProvider({ agentId: 'release-bot', taskId: 'provider-refresh' }, credential, {
      recheckMs: 3_600_000,
      now: () => nearExpiry,
    });

    const identity = await provider();

    expect(identity).toMatchObject({ accessKeyId: 'ASIAREFRESHEDSESSION', sessionToken: 'refreshed-token' });
  });

  it('refuses a credential past its expiry with CredentialRevokedError (expired)', async () => {
    const credential = await issued('provider-expired');
    const provider = taskbound.credentialProvider({ agentId: 'release-bot', taskId: 'provider-expired' }, credential, {
      now: () => credential.expiration!.getTime() + 1,
    });

    await expect(provider()).rejects.toBeInstanceOf(CredentialRevokedError);
    await expect(provider()).rejects.toMatchObject({ revocation: 'expired' });
  });
});
