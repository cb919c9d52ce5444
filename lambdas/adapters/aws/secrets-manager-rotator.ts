// Adapter (AWS Secrets Manager): rotates a brokered secret once the task that could read it
// is over, through the secret's own rotation function, and confirms the new value is live.
import { randomUUID } from 'node:crypto';
import {
  DescribeSecretCommand,
  InvalidParameterException,
  InvalidRequestException,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { TaskboundError } from '../../domain/errors';
import type { SecretRotator } from '../../ports';
import { realSleep } from '../sleep';
import { notYet, retry, settled } from '../retry';

const CURRENT = 'AWSCURRENT';
/** How AWS words a RotateSecret refused because the previous rotation has not finished. */
const ROTATION_IN_PROGRESS = /previous rotation isn.t complete|rotation is already in progress/i;

export interface RotationConfirmation {
  /** DescribeSecret checks at most this many times. */
  readonly attempts: number;
  /** Ceiling of the wait before the second check (jittered); doubled before each later one, up to `maxDelayMs`. */
  readonly delayMs: number;
  readonly maxDelayMs: number;
}

export interface SecretsManagerRotatorOptions {
  /** Rotation functions take seconds: by default about 30 s of checks over 8 attempts. */
  readonly confirmation?: RotationConfirmation;
  /** Injected so tests do not wait for real. */
  readonly sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_CONFIRMATION: RotationConfirmation = { attempts: 8, delayMs: 500, maxDelayMs: 8000 };

/** The secret has no rotation function (nor managed rotation): it cannot be rotated after use. */
export class RotationNotConfiguredError extends TaskboundError {}

/** RotateSecret was accepted, but no new AWSCURRENT version appeared in time. */
export class RotationUnconfirmedError extends TaskboundError {}

export class SecretsManagerRotator implements SecretRotator {
  private readonly confirmation: RotationConfirmation;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: SecretsManagerClient,
    options: SecretsManagerRotatorOptions = {},
  ) {
    this.confirmation = options.confirmation ?? DEFAULT_CONFIRMATION;
    this.sleep = options.sleep ?? realSleep;
    if (!Number.isInteger(this.confirmation.attempts) || this.confirmation.attempts < 1)
      throw new RangeError('confirmation attempts must be a positive integer');
  }

  /**
   * SDK calls: RotateSecret, then DescribeSecret until the new version is AWSCURRENT. Our own
   * ClientRequestToken names the new version, so we know which version to wait for.
   */
  async rotate(secretArn: string): Promise<'rotated' | 'already-rotating'> {
    const token = randomUUID();
    let versionId: string;
    try {
      const started = await this.client.send(new RotateSecretCommand({ SecretId: secretArn, ClientRequestToken: token }));
      versionId = started.VersionId ?? token;
    } catch (error) {
      if (error instanceof InvalidRequestException && ROTATION_IN_PROGRESS.test(error.message)) return 'already-rotating';
      if (error instanceof InvalidRequestException || error instanceof InvalidParameterException)
        await this.explainRefusal(secretArn, error);
      throw error;
    }
    await this.confirmCurrent(secretArn, versionId);
    return 'rotated';
  }

  /** Turns a refusal into a clear error when the cause is a secret with no rotation set up. */
  private async explainRefusal(secretArn: string, refusal: Error): Promise<void> {
    let configured: boolean;
    try {
      const secret = await this.client.send(new DescribeSecretCommand({ SecretId: secretArn }));
      configured = secret.RotationEnabled === true || secret.RotationLambdaARN !== undefined;
    } catch {
      return;
    }
    if (!configured) {
      throw new RotationNotConfiguredError(
        `secret ${secretArn} has no rotation configured (RotateSecret answered ${refusal.name}): give it a rotation function, or drop rotateAfterUse from the policy`,
        { cause: refusal },
      );
    }
  }

  private async confirmCurrent(secretArn: string, versionId: string): Promise<void> {
    const { attempts, delayMs, maxDelayMs } = this.confirmation;
    const confirmed = await retry(
      { attempts, baseDelayMs: delayMs, maxDelayMs },
      async () => {
        const secret = await this.client.send(new DescribeSecretCommand({ SecretId: secretArn }));
        return secret.VersionIdsToStages?.[versionId]?.includes(CURRENT) ? settled(true) : notYet(false);
      },
      { sleep: this.sleep },
    );
    if (confirmed.settled) return;
    throw new RotationUnconfirmedError(
      `rotation of ${secretArn} started (version ${versionId}) but that version was not ${CURRENT} after ${attempts} checks`,
    );
  }
}
