// Example: a business-process agent. A refund is a `transact` scope, so the policy holds it for
// two approvers (never the agent's owner nor the requester); the agent says so and waits, then
// reads the payment provider's key it was brokered, and ends the task, which rotates that key.
//
//   AWS_ENDPOINT_URL=http://127.0.0.1:4010 AWS_REGION=us-east-1 npx tsx examples/refund-agent.ts
//   # then approve twice:  taskbound approve <grantId> ...  (see docs/cli.md)
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Taskbound } from '../sdk'; // in your project: from 'taskbound/sdk'

const STRIPE_KEY = process.env.STRIPE_KEY_SECRET ?? 'arn:aws:secretsmanager:us-east-1:111122223333:secret:stripe-key';
const taskbound = new Taskbound({ wait: { timeoutMs: 60 * 60_000 } }); // approvals may take a while

const refunded = await taskbound.withTaskCredentials(
  {
    agentId: 'finance-bot',
    purpose: 'refund order 1042 (duplicate charge)',
    requestedBy: 'support@example.com',
    scopes: ['refund'],
    context: { order: 1042, amountCents: 4999 },
  },
  async ({ credentials, grantId }) => {
    const secrets = new SecretsManagerClient({ credentials });
    const key = await secrets.send(new GetSecretValueCommand({ SecretId: STRIPE_KEY }));
    // A real agent would call the payment provider with the key here; it never prints it.
    return { grantId, keyVersion: key.VersionId };
  },
  { onPending: ({ grantId }) => console.log(`waiting for two approvals of grant ${grantId}`) },
);
console.log(`refund done under grant ${refunded.grantId} (key version ${refunded.keyVersion})`);
taskbound.destroy();
