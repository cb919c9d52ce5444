// Test helpers: the local credential authority and the local STS endpoint that answers for it,
// on a table of an embedded store, so credentials can be checked with real SigV4 requests.
import type { CredentialKind } from '../../lambdas/domain/policy';
import { startAwsProtocolServer, type RunningServer } from '../../lambdas/local/emulated-aws/aws-protocol-server';
import { LocalCredentialAuthority } from '../../lambdas/local/emulated-aws/credential-authority';
import { createStsService } from '../../lambdas/local/emulated-aws/sts-service';
import type { Clock, IssueRequest } from '../../lambdas/ports';
import type { EmbeddedStoreFixture } from './embedded-store-fixture';

export interface LocalSts {
  readonly authority: LocalCredentialAuthority;
  readonly server: RunningServer;
}

export interface LocalStsOptions {
  readonly clock: Clock;
  /** What signatures are judged by; `clock` when absent (as the engine's signatureClockOf gives a test's clock). */
  readonly signatureClock?: Clock;
  /** A fresh table unless given (a second authority on the same table is a restart). */
  readonly tableName?: string;
  readonly accessKeyRevocationLagMs?: number;
}

/** Starts an authority and its STS endpoint; the server closes with the store fixture. */
export async function startLocalSts(store: EmbeddedStoreFixture, options: LocalStsOptions): Promise<LocalSts> {
  const { clock } = options;
  const authority = new LocalCredentialAuthority({
    client: store.client,
    tableName: options.tableName ?? store.freshTableName(),
    clock,
    accessKeyRevocationLagMs: options.accessKeyRevocationLagMs ?? 0,
  });
  await authority.start();
  const server = await startAwsProtocolServer({
    services: [createStsService({ authority, clock, ...(options.signatureClock ? { signatureClock: options.signatureClock } : {}) })],
  });
  store.servers.push(server);
  return { authority, server };
}

export const LOCAL_STS_GRANT = 'g-aaaaaaaaaaaaaaaaaaaaaaaaaa';

/** A request for a credential of `kind` that lives `ttlSeconds` from the clock's now. */
export function issueRequest(kind: CredentialKind, clock: Clock, options: { grantId?: string; ttlSeconds?: number } = {}): IssueRequest {
  const ttlSeconds = options.ttlSeconds ?? 900;
  return {
    grantId: options.grantId ?? LOCAL_STS_GRANT,
    taskId: 'task-1',
    agentId: 'release-bot',
    kind,
    statements: [],
    brokeredSecretArns: [],
    ttlSeconds,
    expiresAt: new Date(clock.now().getTime() + ttlSeconds * 1000),
  };
}
