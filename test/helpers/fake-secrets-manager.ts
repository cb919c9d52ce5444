// Test helper: Secrets Manager's rotation, which the emulator tier cannot run (moto invokes a
// rotation function only through its own Lambda, and without one it makes the new version
// current at once, where AWS refuses). Only RotateSecret and DescribeSecret, on secrets seeded
// with a rotation function that finishes after some DescribeSecret calls; every other Secrets
// Manager behaviour is tested on moto (test/aws/secrets-manager-delivery-vault.test.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import {
  DescribeSecretCommand,
  InvalidRequestException,
  RotateSecretCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
  type DescribeSecretCommandInput,
  type RotateSecretCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';

const CURRENT = 'AWSCURRENT';
const PENDING = 'AWSPENDING';
const PREVIOUS = 'AWSPREVIOUS';
const metadata = { httpStatusCode: 400 };

interface Version {
  readonly versionId: string;
  stages: string[];
}

interface RotatingSecret {
  readonly name: string;
  readonly arn: string;
  readonly versions: Version[];
  readonly rotationLambdaArn?: string;
  deletedDate?: Date;
  /** DescribeSecret calls left before a started rotation's finishSecret step runs. */
  stepsLeft?: number;
}

/** How a secret's rotation function behaves once RotateSecret starts it. */
export interface RotationSetup {
  readonly lambdaArn: string;
  /** DescribeSecret calls before the new version becomes AWSCURRENT; Infinity never finishes. */
  readonly completesAfterDescribes: number;
}

/** Secrets Manager's throttling answer: not in its model, so the SDK's base class named by its code. */
export function throttling(): SecretsManagerServiceException {
  return new SecretsManagerServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    message: 'Rate exceeded',
    $metadata: metadata,
  });
}

const refused = (message: string) => new InvalidRequestException({ message, $metadata: metadata });

/** RotateSecret and DescribeSecret on `client` alone, as the API reference documents them. */
export class FakeSecretsManager {
  readonly client = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' } });
  readonly mock: AwsClientStub<SecretsManagerClient> = mockClient(this.client);
  private readonly secrets = new Map<string, RotatingSecret>();
  private readonly rotations = new Map<string, RotationSetup | undefined>();
  private readonly faults: Array<{ readonly command: string; readonly error: Error }> = [];

  constructor() {
    this.mock.callsFake(() => {
      throw new Error('FakeSecretsManager models rotation only (RotateSecret, DescribeSecret)');
    });
    this.on(RotateSecretCommand, (input: RotateSecretCommandInput) => this.rotate(input));
    this.on(DescribeSecretCommand, (input: DescribeSecretCommandInput) => this.describe(input));
  }

  /** A secret with one version, with or without a rotation function; returns its ARN. */
  seed(name: string, rotation?: RotationSetup): string {
    const arn = `arn:aws:secretsmanager:us-east-1:111122223333:secret:${name}-${randomBytes(3).toString('hex')}`;
    this.secrets.set(arn, {
      name,
      arn,
      versions: [{ versionId: randomUUID(), stages: [CURRENT] }],
      ...(rotation ? { rotationLambdaArn: rotation.lambdaArn } : {}),
    });
    this.rotations.set(arn, rotation);
    return arn;
  }

  /** As DeleteSecret with a recovery window leaves it. */
  scheduleDeletion(arn: string): void {
    const secret = this.secrets.get(arn);
    if (secret) secret.deletedDate = new Date();
  }

  /** The next call of `command` (e.g. `'RotateSecret'`) fails with `error`. */
  failNext(command: string, error: Error): void {
    this.faults.push({ command, error });
  }

  /** The version id holding AWSCURRENT. */
  currentVersion(arn: string): string | undefined {
    return this.secrets.get(arn)?.versions.find((version) => version.stages.includes(CURRENT))?.versionId;
  }

  restore(): void {
    this.mock.restore();
    this.client.destroy();
  }

  private on<Input>(command: { readonly name: string; new (input: Input): unknown }, handler: (input: Input) => object): void {
    const name = command.name.replace(/Command$/, '');
    this.mock.on(command as never).callsFake(async (input: Input) => {
      const fault = this.faults.findIndex((candidate) => candidate.command === name);
      if (fault >= 0) throw this.faults.splice(fault, 1)[0]!.error;
      return { $metadata: { httpStatusCode: 200 }, ...handler(input) };
    });
  }

  private find(secretId: string | undefined): RotatingSecret {
    const secret = this.secrets.get(secretId ?? '');
    // DescribeSecret and RotateSecret, Errors: ResourceNotFoundException. Tests address secrets by ARN only.
    if (!secret) throw new Error(`FakeSecretsManager: no secret ${secretId} was seeded`);
    return secret;
  }

  /**
   * RotateSecret (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html):
   * a secret marked for deletion, one without a rotation function, and one whose previous
   * rotation left AWSPENDING on a version that is not AWSCURRENT are refused with
   * InvalidRequestException (the last: "Troubleshoot rotation", "A previous rotation isn't
   * complete"). Otherwise it labels the new version, named by ClientRequestToken, AWSPENDING,
   * starts the function and answers at once.
   */
  private rotate(input: RotateSecretCommandInput): object {
    const secret = this.find(input.SecretId);
    if (secret.deletedDate) throw refused("You can't perform this operation on the secret because it was marked for deletion.");
    if (!secret.rotationLambdaArn && !input.RotationLambdaARN)
      throw refused('No Lambda rotation function ARN is associated with this secret.');
    if (secret.versions.some((version) => version.stages.includes(PENDING) && !version.stages.includes(CURRENT))) {
      throw refused("A previous rotation isn't complete. That rotation will be reattempted.");
    }
    const versionId = input.ClientRequestToken ?? randomUUID();
    secret.versions.push({ versionId, stages: [PENDING] });
    secret.stepsLeft = this.rotations.get(secret.arn)?.completesAfterDescribes ?? 0;
    this.advance(secret, 0);
    return { ARN: secret.arn, Name: secret.name, VersionId: versionId };
  }

  /** DescribeSecret (API_DescribeSecret.html): rotation settings, deletion date and VersionIdsToStages. */
  private describe(input: DescribeSecretCommandInput): object {
    const secret = this.find(input.SecretId);
    this.advance(secret, 1);
    return {
      ARN: secret.arn,
      Name: secret.name,
      RotationEnabled: secret.rotationLambdaArn !== undefined,
      ...(secret.rotationLambdaArn ? { RotationLambdaARN: secret.rotationLambdaArn } : {}),
      ...(secret.deletedDate ? { DeletedDate: secret.deletedDate } : {}),
      VersionIdsToStages: Object.fromEntries(
        secret.versions.filter((version) => version.stages.length > 0).map((version) => [version.versionId, version.stages]),
      ),
    };
  }

  /**
   * The rotation function's finishSecret step (https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html):
   * AWSCURRENT moves to the pending version, AWSPREVIOUS to the version that held AWSCURRENT, AWSPENDING is removed.
   */
  private advance(secret: RotatingSecret, calls: number): void {
    if (secret.stepsLeft === undefined) return;
    secret.stepsLeft -= calls;
    if (secret.stepsLeft > 0) return;
    delete secret.stepsLeft;
    const pending = secret.versions.find((version) => version.stages.includes(PENDING));
    const current = secret.versions.find((version) => version.stages.includes(CURRENT));
    if (!pending || !current) return;
    for (const version of secret.versions) version.stages = version.stages.filter((stage) => stage !== PREVIOUS);
    current.stages = [...current.stages.filter((stage) => stage !== CURRENT), PREVIOUS];
    pending.stages = [CURRENT];
  }
}
