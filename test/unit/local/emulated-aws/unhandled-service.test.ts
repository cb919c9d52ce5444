// Tests: a call to a service the local engine does not emulate is answered in the caller's protocol,
// so the SDK shows what happened instead of a bare "400 Bad Request".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { SecretsManagerClient, ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { startAwsProtocolServer, type RunningServer } from '../../../../lambdas/local/emulated-aws/aws-protocol-server';

const credentials = { accessKeyId: 'AKIALOCALRUNTIME0000', secretAccessKey: 'local-runtime' };

describe('a request no local service handles', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startAwsProtocolServer({ services: [] });
  });
  afterAll(async () => {
    await server.close();
  });

  it('reaches an XML-protocol SDK client (the query protocol, as IAM; boto3 reads it for S3 the same document in test/runtimes) as a named error saying what the engine emulates', async () => {
    const iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });

    const error = await iam.send(new ListUsersCommand({})).then(
      () => undefined,
      (caught: unknown) => caught as Error & { $metadata: { httpStatusCode: number } },
    );

    expect(error?.name).toBe('UnknownOperationException');
    expect(error?.message).toMatch(
      /^No local service handles iam POST \/\. The local engine emulates EventBridge PutEvents, Secrets Manager, STS/,
    );
    expect(error?.$metadata.httpStatusCode).toBe(400);
  });

  it('reaches a JSON-protocol SDK client as a named error with the operation', async () => {
    const secrets = new SecretsManagerClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });

    const error = await secrets.send(new ListSecretsCommand({})).then(
      () => undefined,
      (caught: unknown) => caught as Error,
    );

    expect(error?.name).toBe('UnknownOperationException');
    expect(error?.message).toMatch(/^No local service handles secretsmanager\.ListSecrets\. The local engine emulates/);
  });
});
