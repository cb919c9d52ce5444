// The local engine judges a credential it issued by the policy AWS would attach to it (its scopes),
// so a runtime rehearses locally both a call it is allowed and the AccessDenied of one it is not.
import { DescribeSecretCommand, GetSecretValueCommand, ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CANARY_SECRET_NAME } from '../../lambdas/adapters/aws/canary-probe';
import { deliverySecretName } from '../../lambdas/domain/ids';
import type { Delivery } from '../helpers/agent-runtime';
import { startHarness, type Harness } from './local-engine';

async function issued(h: Harness, agentId: string, taskId: string, scopes: string[]): Promise<Delivery> {
  await h.runtime.startTask({ agentId, taskId, purpose: 'rehearse a refusal', requestedBy: 'dev@example.com', scopes });
  return h.runtime.waitForDelivery(agentId, taskId, ['issued']);
}

describe("local engine: an issued credential may do only what its task's scopes allow", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('refuses a session what its scopes do not allow with AWS AccessDeniedException, and lets it describe the canary', async () => {
    const delivery = await issued(h, 'release-bot', 'scoped-1', ['repo-read']);

    expect(
      await h.runtime.secretsManagerAs(delivery, (client) =>
        client.send(new DescribeSecretCommand({ SecretId: LOCAL_CANARY_SECRET_NAME })),
      ),
    ).toBe('ok');
    expect(await h.runtime.secretsManagerAs(delivery, (client) => client.send(new ListSecretsCommand({})))).toMatch(
      /^AccessDeniedException: User: arn:aws:sts::000000000000:assumed-role\/taskbound-agent-release-bot\/g-\w+ is not authorized to perform: secretsmanager:ListSecrets on resource: \* because no session policy allows the secretsmanager:ListSecrets action$/,
    );
    // Another task's brokered secret, and even the task's own delivery (read with the runtime's identity, not the task's).
    expect(
      await h.runtime.secretsManagerAs(delivery, (client) => client.send(new GetSecretValueCommand({ SecretId: 'stripe-key' }))),
    ).toMatch(
      /^AccessDeniedException: .* secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:000000000000:secret:stripe-key-\w{6} because/,
    );
    expect(
      await h.runtime.secretsManagerAs(delivery, (client) =>
        client.send(new GetSecretValueCommand({ SecretId: deliverySecretName('release-bot', 'scoped-1') })),
      ),
    ).toMatch(/^AccessDeniedException: /);
  });

  it("refuses an access key what its user's policy does not allow, in the words IAM uses for an identity-based policy", async () => {
    const delivery = await issued(h, 'ops-bot', 'scoped-2', ['reports-upload-key']);

    expect(await h.runtime.secretsManagerAs(delivery, (client) => client.send(new ListSecretsCommand({})))).toMatch(
      /^AccessDeniedException: User: \S+ is not authorized to perform: secretsmanager:ListSecrets on resource: \* because no identity-based policy allows/,
    );
  });

  it('lets a task read the brokered secret its scope names (the policy file names another account: locally there is one)', async () => {
    await h.runtime.startTask({
      agentId: 'finance-bot',
      taskId: 'scoped-3',
      purpose: 'refund',
      requestedBy: 'dev@example.com',
      scopes: ['refund'],
    });
    const pending = await h.waitForGrant('finance-bot', 'scoped-3', ['pending_approval']);
    for (const person of ['sre@example.com', 'lead@example.com'])
      await h.operator(person, { action: 'approve', grantId: pending.grantId, reason: 'ticket 42' });
    const delivery = await h.runtime.waitForDelivery('finance-bot', 'scoped-3', ['issued']);

    expect(await h.runtime.secretsManagerAs(delivery, (client) => client.send(new GetSecretValueCommand({ SecretId: 'stripe-key' })))).toBe(
      'ok',
    );
    expect(
      await h.runtime.secretsManagerAs(delivery, (client) => client.send(new DescribeSecretCommand({ SecretId: 'stripe-key' }))),
    ).toMatch(/^AccessDeniedException: /);
  });
});
