// Adapter (local engine): rotation of brokered secrets. The policy names secrets by their
// AWS ARNs; locally they live in the engine's Secrets Manager under the same name, created
// at start, and rotate through the real Secrets Manager rotator over the wire.
import { CreateSecretCommand, ResourceExistsException, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import type { Policy } from '../../domain/policy';
import type { SecretRotator } from '../../ports';
import { SecretsManagerRotator } from '../aws/secrets-manager-rotator';

/** `arn:aws:secretsmanager:r:a:secret:name-AbCdEf` → `name` (the 6-character suffix is AWS's). */
function secretNameOf(arn: string): string {
  const name = arn.split(':secret:')[1] ?? arn;
  return name.replace(/-[A-Za-z0-9]{6}$/, '');
}

export class LocalBrokeredSecretRotator implements SecretRotator {
  private readonly rotator: SecretsManagerRotator;
  private readonly brokered: ReadonlySet<string>;

  constructor(
    private readonly client: SecretsManagerClient,
    policy: Policy,
  ) {
    this.rotator = new SecretsManagerRotator(client, { confirmation: { attempts: 3, delayMs: 50, maxDelayMs: 200 } });
    this.brokered = new Set(Object.values(policy.scopes).flatMap((scope) => scope.secrets.map((secret) => secret.arn)));
  }

  /** Creates, once at start, each brokered secret the policy names that does not exist yet. */
  async ensureSecrets(): Promise<void> {
    for (const arn of this.brokered) {
      try {
        await this.client.send(new CreateSecretCommand({ Name: secretNameOf(arn), SecretString: `local-${randomUUID()}` }));
      } catch (error) {
        if (!(error instanceof ResourceExistsException)) throw error;
      }
    }
  }

  async rotate(secretArn: string): Promise<'rotated' | 'already-rotating'> {
    if (!this.brokered.has(secretArn)) throw new Error('not a brokered secret of the policy');
    return this.rotator.rotate(secretNameOf(secretArn));
  }
}
