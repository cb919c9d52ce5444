// SDK: an AWS credential provider over a task's delivered credential. AWS SDK clients built with
// it just work; it re-reads the delivery now and then, picks up a refreshed session, and once the
// grant is revoked (or expired, or the task ended) it stops handing out the credential.
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { CredentialRevokedError, type RevocationCause } from './errors';
import type { DeliveryReading, IssuedCredential, TaskRef } from './types';
import { issuedCredentialOf } from './wait';

export interface ProviderOptions {
  /** How often, at most, the provider re-reads the delivery while the work runs. Default 30 s. */
  readonly recheckMs?: number;
  /** Re-read this long before the credential expires, for a refreshed session. Default 5 minutes. */
  readonly refreshBeforeExpiryMs?: number;
  /** The clock, in ms (tests). */
  readonly now?: () => number;
}

/** A credential provider you can also close (the task ended) and ask about. */
export interface TaskCredentialProvider extends AwsCredentialIdentityProvider {
  /** Stops handing out the credential: every later call throws `CredentialRevokedError` ('task-ended'). */
  close(): void;
  /** The grant's id, for logs and audits. */
  readonly grantId: string;
}

/** The AWS SDK refreshes a cached identity this long before its `expiration`. */
const AWS_SDK_REFRESH_WINDOW_MS = 5 * 60_000;

export function taskCredentialProvider(
  read: (task: TaskRef) => Promise<DeliveryReading>,
  task: TaskRef,
  issued: IssuedCredential,
  options: ProviderOptions = {},
): TaskCredentialProvider {
  const now = options.now ?? Date.now;
  const recheckMs = options.recheckMs ?? 30_000;
  const refreshBeforeExpiryMs = options.refreshBeforeExpiryMs ?? AWS_SDK_REFRESH_WINDOW_MS;
  let current = issued;
  let lastReadAt = now();
  let dead: RevocationCause | undefined;
  let reading: Promise<void> | undefined;

  const refuse = (cause: RevocationCause): never => {
    dead ??= cause;
    throw new CredentialRevokedError(task.agentId, task.taskId, dead);
  };

  const reread = async () => {
    const delivery = await read(task);
    lastReadAt = now();
    if (dead) return;
    // Gone (revoked and proven dead) or anything but issued: the credential is not ours any more.
    if (delivery.status !== 'issued' || delivery.grantId !== current.grantId) {
      dead = 'revoked';
      return;
    }
    current = issuedCredentialOf(task, delivery);
  };

  const provider = async (): Promise<AwsCredentialIdentity> => {
    if (dead) refuse(dead);
    const at = now();
    const expiresAt = current.expiration?.getTime();
    const nearExpiry = expiresAt !== undefined && expiresAt - at < refreshBeforeExpiryMs;
    if (at - lastReadAt >= recheckMs || nearExpiry) {
      // One read for every caller waiting at the same moment.
      reading ??= reread().finally(() => {
        reading = undefined;
      });
      await reading;
      if (dead) refuse(dead);
    }
    const expiration = current.expiration?.getTime();
    if (expiration !== undefined && expiration <= now()) refuse('expired');
    // Said to expire no later than the next recheck, so the AWS SDK asks again by then (it refreshes
    // an identity within five minutes of its expiration); never later than the real expiration.
    const askAgainBy = now() + recheckMs + AWS_SDK_REFRESH_WINDOW_MS;
    return {
      accessKeyId: current.accessKeyId,
      secretAccessKey: current.secretAccessKey,
      ...(current.sessionToken ? { sessionToken: current.sessionToken } : {}),
      expiration: new Date(expiration === undefined ? askAgainBy : Math.min(expiration, askAgainBy)),
    };
  };
  return Object.assign(provider, {
    close() {
      dead ??= 'task-ended';
    },
    grantId: issued.grantId,
  });
}
