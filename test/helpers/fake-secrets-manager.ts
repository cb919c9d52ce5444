// Test helper: a stateful Secrets Manager behind aws-sdk-client-mock, reproducing the
// documented behaviours the adapters depend on, with the SDK's own exception classes.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretsCommand,
  MalformedPolicyDocumentException,
  PublicPolicyException,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
  TagResourceCommand,
  type CreateSecretCommandInput,
  type DeleteSecretCommandInput,
  type DescribeSecretCommandInput,
  type GetSecretValueCommandInput,
  type ListSecretsCommandInput,
  type PutResourcePolicyCommandInput,
  type PutSecretValueCommandInput,
  type RestoreSecretCommandInput,
  type RotateSecretCommandInput,
  type Tag,
  type TagResourceCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';

const CURRENT = 'AWSCURRENT';
const PENDING = 'AWSPENDING';
const PREVIOUS = 'AWSPREVIOUS';
const metadata = { httpStatusCode: 400 };

export interface FakeVersion {
  readonly versionId: string;
  readonly secretString: string;
  stages: string[];
}

export interface FakeSecret {
  readonly name: string;
  readonly arn: string;
  readonly kmsKeyId?: string;
  tags: Tag[];
  versions: FakeVersion[];
  resourcePolicy?: string;
  deletedDate?: Date;
  rotationLambdaArn?: string;
  rotationEnabled?: boolean;
  /** DescribeSecret calls left before a started rotation completes (the rotation function's work). */
  rotationStepsLeft?: number;
}

/** How a rotation function behaves when RotateSecret starts it. */
export interface RotationSetup {
  readonly lambdaArn: string;
  /** DescribeSecret calls before the new version becomes AWSCURRENT; Infinity never finishes. */
  readonly completesAfterDescribes: number;
}

/** A throttling error as Secrets Manager sends it (unmodelled, so the SDK's base class). */
export function throttling(): SecretsManagerServiceException {
  return new SecretsManagerServiceException({ name: 'ThrottlingException', $fault: 'client', message: 'Rate exceeded', $metadata: metadata });
}

const notFound = () => new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: metadata });
const markedForDeletion = () =>
  new InvalidRequestException({ message: "You can't perform this operation on the secret because it was marked for deletion.", $metadata: metadata });

export interface FakeSecretsManagerOptions {
  /** Answer every SecretsManagerClient in the process (clients a composition root builds), not only `client`. */
  readonly everyClient?: boolean;
}

export class FakeSecretsManager {
  /** Pass this client to the adapter under test; unless `everyClient`, only it is mocked. */
  readonly client = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' } });
  readonly mock: AwsClientStub<SecretsManagerClient>;
  readonly secrets = new Map<string, FakeSecret>();
  private readonly faults: Array<{ readonly command: string; readonly error: Error }> = [];
  private readonly rotations = new Map<string, RotationSetup | undefined>();
  /** Stands in for IAM: may refuse a call by the credentials that signed it (a revoked session's deny). */
  gate?: (credentials: { readonly accessKeyId: string; readonly sessionToken?: string }, action: string) => Error | undefined;

  constructor(options: FakeSecretsManagerOptions = {}) {
    this.mock = mockClient(options.everyClient ? SecretsManagerClient : this.client);
    this.on(CreateSecretCommand, (input) => this.createSecret(input));
    this.on(PutSecretValueCommand, (input) => this.putSecretValue(input));
    this.on(GetSecretValueCommand, (input) => this.getSecretValue(input));
    this.on(DescribeSecretCommand, (input) => this.describeSecret(input));
    this.on(DeleteSecretCommand, (input) => this.deleteSecret(input));
    this.on(RestoreSecretCommand, (input) => this.restoreSecret(input));
    this.on<ListSecretsCommandInput>(ListSecretsCommand, (input) => this.listSecrets(input));
    this.on(PutResourcePolicyCommand, (input) => this.putResourcePolicy(input));
    this.on(TagResourceCommand, (input) => this.tagResource(input));
    this.on(RotateSecretCommand, (input) => this.rotateSecret(input));
  }

  /** The next call of `command` (e.g. `'DeleteSecret'`) fails with `error` instead. */
  failNext(command: string, error: Error): void {
    this.faults.push({ command, error });
  }

  /**
   * Adds a secret as if created elsewhere, e.g. a brokered secret with a rotation function.
   * Given a full ARN (`...:secret:<name>-<6 characters>`, as a policy names it), keeps that ARN.
   */
  seed(nameOrArn: string, secretString: string, rotation?: RotationSetup): FakeSecret {
    const nameInArn = /^arn:[\w-]+:secretsmanager:[\w-]+:\d{12}:secret:(.+)-[A-Za-z0-9]{6}$/.exec(nameOrArn)?.[1];
    const name = nameInArn ?? nameOrArn;
    const secret: FakeSecret = {
      name,
      arn: nameInArn ? nameOrArn : this.arnFor(name),
      tags: [],
      versions: [{ versionId: randomUUID(), secretString, stages: [CURRENT] }],
      ...(rotation ? { rotationLambdaArn: rotation.lambdaArn, rotationEnabled: true } : {}),
    };
    this.secrets.set(name, secret);
    this.rotations.set(name, rotation);
    return secret;
  }

  /** Schedules a secret for deletion, as DeleteSecret with a recovery window does. */
  scheduleDeletion(name: string): void {
    const secret = this.secrets.get(name);
    if (secret) secret.deletedDate = new Date();
  }

  currentValue(name: string): string | undefined {
    return this.secrets.get(name)?.versions.find((version) => version.stages.includes(CURRENT))?.secretString;
  }

  restore(): void {
    this.mock.restore();
    this.client.destroy();
  }

  private on<Input>(command: { readonly name: string; new (input: Input): unknown }, handler: (input: Input) => object): void {
    const name = command.name.replace(/Command$/, '');
    this.mock.on(command as never).callsFake(async (input: Input, getClient: () => SecretsManagerClient) => {
      const refusal = this.gate?.(await getClient().config.credentials(), `secretsmanager:${name}`);
      if (refusal) throw refusal;
      const fault = this.faults.findIndex((candidate) => candidate.command === name);
      if (fault >= 0) throw this.faults.splice(fault, 1)[0]!.error;
      return { $metadata: { httpStatusCode: 200 }, ...handler(input) };
    });
  }

  private arnFor(name: string): string {
    const suffix = randomBytes(3).toString('hex');
    return `arn:aws:secretsmanager:us-east-1:111122223333:secret:${name}-${suffix}`;
  }

  /** By name or full ARN, as the adapters address secrets. */
  private find(secretId: string): FakeSecret | undefined {
    return this.secrets.get(secretId) ?? [...this.secrets.values()].find((secret) => secret.arn === secretId);
  }

  private existing(secretId: string, options: { readonly allowDeleted?: boolean } = {}): FakeSecret {
    const secret = this.find(secretId);
    if (!secret) throw notFound();
    if (secret.deletedDate && !options.allowDeleted) throw markedForDeletion();
    return secret;
  }

  private createSecret(input: CreateSecretCommandInput): object {
    const name = input.Name ?? '';
    const found = this.secrets.get(name);
    if (found?.deletedDate) {
      throw new InvalidRequestException({ message: "You can't create this secret because a secret with this name is already scheduled for deletion.", $metadata: metadata });
    }
    if (found) throw new ResourceExistsException({ message: `The operation failed because the secret ${name} already exists.`, $metadata: metadata });
    const secret: FakeSecret = {
      name: name,
      arn: this.arnFor(name),
      tags: [...(input.Tags ?? [])],
      versions: input.SecretString === undefined ? [] : [{ versionId: randomUUID(), secretString: input.SecretString, stages: [CURRENT] }],
      ...(input.KmsKeyId ? { kmsKeyId: input.KmsKeyId } : {}),
    };
    this.secrets.set(name, secret);
    return { ARN: secret.arn, Name: secret.name, ...(secret.versions[0] ? { VersionId: secret.versions[0].versionId } : {}) };
  }

  private putSecretValue(input: PutSecretValueCommandInput): object {
    const secret = this.existing(input.SecretId ?? '');
    if (input.SecretString === undefined) throw new InvalidRequestException({ message: 'You must provide either SecretString or SecretBinary.', $metadata: metadata });
    const version = this.addVersion(secret, randomUUID(), input.SecretString, CURRENT);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: version.stages };
  }

  private getSecretValue(input: GetSecretValueCommandInput): object {
    const secret = this.existing(input.SecretId ?? '');
    const version = secret.versions.find((candidate) => candidate.stages.includes(CURRENT));
    if (!version) {
      throw new ResourceNotFoundException({ message: `Secrets Manager can't find the specified secret value for staging label: ${CURRENT}`, $metadata: metadata });
    }
    return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, SecretString: version.secretString, VersionStages: version.stages };
  }

  private describeSecret(input: DescribeSecretCommandInput): object {
    const secret = this.existing(input.SecretId ?? '', { allowDeleted: true });
    this.advanceRotation(secret);
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.kmsKeyId ? { KmsKeyId: secret.kmsKeyId } : {}),
      ...(secret.rotationEnabled !== undefined ? { RotationEnabled: secret.rotationEnabled } : {}),
      ...(secret.rotationLambdaArn ? { RotationLambdaARN: secret.rotationLambdaArn } : {}),
      ...(secret.deletedDate ? { DeletedDate: secret.deletedDate } : {}),
      Tags: secret.tags,
      VersionIdsToStages: Object.fromEntries(secret.versions.filter((version) => version.stages.length > 0).map((version) => [version.versionId, version.stages])),
    };
  }

  /** A forced delete purges at once, even a secret already scheduled; AWS documents no ResourceNotFoundException for an absent one. */
  private deleteSecret(input: DeleteSecretCommandInput): object {
    if (input.ForceDeleteWithoutRecovery && input.RecoveryWindowInDays !== undefined) {
      throw new InvalidParameterException({ message: "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.", $metadata: metadata });
    }
    const secret = this.find(input.SecretId ?? '');
    if (input.ForceDeleteWithoutRecovery) {
      if (secret) this.secrets.delete(secret.name);
      return { ...(secret ? { ARN: secret.arn } : {}), Name: secret?.name ?? input.SecretId, DeletionDate: new Date() };
    }
    if (!secret) throw notFound();
    if (secret.deletedDate) throw new InvalidRequestException({ message: "You tried to perform the operation on a secret that's currently marked deleted.", $metadata: metadata });
    secret.deletedDate = new Date();
    return { ARN: secret.arn, Name: secret.name, DeletionDate: new Date(secret.deletedDate.getTime() + 30 * 86_400_000) };
  }

  private restoreSecret(input: RestoreSecretCommandInput): object {
    const secret = this.existing(input.SecretId ?? '', { allowDeleted: true });
    delete secret.deletedDate;
    return { ARN: secret.arn, Name: secret.name };
  }

  /** Only the `name` filter (a case-insensitive prefix match); planned deletions are left out. */
  private listSecrets(input: ListSecretsCommandInput = {}): object {
    const prefixes = (input.Filters ?? []).filter((filter) => filter.Key === 'name').flatMap((filter) => filter.Values ?? []);
    const matching = [...this.secrets.values()]
      .filter((secret) => !secret.deletedDate)
      .filter((secret) => prefixes.length === 0 || prefixes.some((prefix) => secret.name.toLowerCase().startsWith(prefix.toLowerCase())));
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const page = matching.slice(start, start + (input.MaxResults ?? 100));
    const next = start + page.length;
    return {
      SecretList: page.map((secret) => ({ ARN: secret.arn, Name: secret.name, ...(secret.tags.length > 0 ? { Tags: secret.tags } : {}) })),
      ...(next < matching.length ? { NextToken: String(next) } : {}),
    };
  }

  private putResourcePolicy(input: PutResourcePolicyCommandInput): object {
    const secret = this.existing(input.SecretId ?? '');
    let policy: { Statement?: Array<{ Effect?: string; Principal?: unknown }> };
    try {
      policy = JSON.parse(input.ResourcePolicy ?? '');
    } catch {
      throw new MalformedPolicyDocumentException({ message: 'This resource policy contains a syntax error.', $metadata: metadata });
    }
    const grantsEveryone = (policy.Statement ?? []).some(
      (statement) => statement.Effect === 'Allow' && (statement.Principal === '*' || JSON.stringify(statement.Principal).includes('"*"')),
    );
    if (input.BlockPublicPolicy && grantsEveryone) throw new PublicPolicyException({ message: 'This resource policy grants public access.', $metadata: metadata });
    secret.resourcePolicy = input.ResourcePolicy;
    return { ARN: secret.arn, Name: secret.name };
  }

  private tagResource(input: TagResourceCommandInput): object {
    const secret = this.existing(input.SecretId ?? '');
    const byKey = new Map(secret.tags.map((tag) => [tag.Key, tag]));
    for (const tag of input.Tags ?? []) byKey.set(tag.Key, tag);
    secret.tags = [...byKey.values()];
    return {};
  }

  private rotateSecret(input: RotateSecretCommandInput): object {
    const secret = this.existing(input.SecretId ?? '');
    const rotation = this.rotations.get(secret.name);
    if (!secret.rotationLambdaArn && !input.RotationLambdaARN) {
      throw new InvalidRequestException({ message: 'No Lambda rotation function ARN is associated with this secret.', $metadata: metadata });
    }
    if (secret.versions.some((version) => version.stages.includes(PENDING))) {
      throw new InvalidRequestException({ message: "A previous rotation isn't complete. That rotation will be reattempted.", $metadata: metadata });
    }
    if (input.RotationLambdaARN) secret.rotationLambdaArn = input.RotationLambdaARN;
    const versionId = input.ClientRequestToken ?? randomUUID();
    this.addVersion(secret, versionId, `rotated-${randomUUID()}`, PENDING);
    secret.rotationEnabled = true;
    secret.rotationStepsLeft = rotation?.completesAfterDescribes ?? 0;
    this.advanceRotation(secret, 0);
    return { ARN: secret.arn, Name: secret.name, VersionId: versionId };
  }

  /** The rotation function's finishSecret step: AWSCURRENT moves to the pending version. */
  private advanceRotation(secret: FakeSecret, step = 1): void {
    if (secret.rotationStepsLeft === undefined) return;
    secret.rotationStepsLeft -= step;
    if (secret.rotationStepsLeft > 0) return;
    delete secret.rotationStepsLeft;
    const pending = secret.versions.find((version) => version.stages.includes(PENDING));
    if (!pending) return;
    pending.stages = pending.stages.filter((stage) => stage !== PENDING);
    this.addStage(secret, pending, CURRENT);
  }

  private addVersion(secret: FakeSecret, versionId: string, secretString: string, stage: string): FakeVersion {
    const version: FakeVersion = { versionId, secretString, stages: [] };
    secret.versions.push(version);
    this.addStage(secret, version, stage);
    return version;
  }

  /** Moves `stage` onto `target`; moving AWSCURRENT leaves AWSPREVIOUS on the old current version. */
  private addStage(secret: FakeSecret, target: FakeVersion, stage: string): void {
    const previous = secret.versions.find((version) => version !== target && version.stages.includes(stage));
    if (previous) previous.stages = previous.stages.filter((candidate) => candidate !== stage);
    if (stage === CURRENT && previous) {
      for (const version of secret.versions) version.stages = version.stages.filter((candidate) => candidate !== PREVIOUS);
      previous.stages.push(PREVIOUS);
    }
    target.stages.push(stage);
  }
}
