// Test fixture: the emulated Secrets Manager served on loopback, with an SDK client pointed at it.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startAwsProtocolServer, type RunningServer } from '../../../../lambdas/local/emulated-aws/aws-protocol-server';
import {
  createSecretsManagerService,
  type SecretsManagerService,
  type SecretsManagerServiceOptions,
} from '../../../../lambdas/local/emulated-aws/secrets-manager-service';
import { localClientConfig } from '../../../../lambdas/local/host/sdk-clients';

export interface ServedSecretsManager {
  readonly service: SecretsManagerService;
  readonly server: RunningServer;
  readonly client: SecretsManagerClient;
  /** Closes the client, the server and the service, in that order. */
  stop(): Promise<void>;
}

export async function serveSecretsManager(options: SecretsManagerServiceOptions): Promise<ServedSecretsManager> {
  const service = await createSecretsManagerService(options);
  const server = await startAwsProtocolServer({ services: [service] });
  const client = new SecretsManagerClient(localClientConfig(server.url));
  return {
    service,
    server,
    client,
    async stop() {
      client.destroy();
      await server.close();
      await service.close();
    },
  };
}
