// Adapter (AWS STS): the hub engine's credentials in a spoke account. The engine assumes the
// spoke's engine role in a session named for the engine (no source identity: it would stick to
// the agent sessions the spoke role starts), and keeps the session until shortly before it
// expires, so one invocation's many IAM calls (and a warm container's) cost one AssumeRole.
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import type { Clock } from '../../ports';
import { ENGINE_SESSION_PREFIX } from '../../domain/accounts';
import { TaskboundError } from '../../domain/errors';

/**
 * A spoke role (its engine role, or its prover) could not be assumed (after the STS client's own retries):
 * the spoke is not deployed, the role does not trust this engine's role, or STS failed. Says which, never STS's
 * own message (it names the caller's session).
 */
export class SpokeUnreachableError extends TaskboundError {
  constructor(
    readonly roleArn: string,
    cause: unknown,
  ) {
    const code = cause instanceof Error && cause.name !== 'Error' ? cause.name : 'UnknownError';
    super(
      `the engine could not assume the spoke role ${roleArn} (${code}): deploy the spoke stack in that account, ` +
        `with this engine's roles in its hubEngineRoleArns (docs/deploy.md, Hub and spoke)`,
      { cause },
    );
  }
}

/** Renew this long before the spoke session expires, so no call starts with a dying credential. */
export const SPOKE_REFRESH_MARGIN_MS = 5 * 60_000;
const SPOKE_SESSION_SECONDS = 3600;

export interface SpokeCredentialsOptions {
  /** An STS client with the hub engine function's own credentials. */
  readonly sts: STSClient;
  readonly roleArn: string;
  readonly clock: Clock;
}

/** A credential provider for AWS SDK clients acting in a spoke; concurrent callers share one AssumeRole. */
export function spokeCredentials(options: SpokeCredentialsOptions): AwsCredentialIdentityProvider {
  let cached: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  const fresh = () =>
    cached?.expiration !== undefined && cached.expiration.getTime() - SPOKE_REFRESH_MARGIN_MS > options.clock.now().getTime();
  const assume = async (): Promise<AwsCredentialIdentity> => {
    const { Credentials: session } = await options.sts
      .send(
        new AssumeRoleCommand({
          RoleArn: options.roleArn,
          // No SourceIdentity: set here, it would persist into every agent session this spoke role
          // starts, which could then never carry its grant id (AWS refuses to change one once set).
          RoleSessionName: `${ENGINE_SESSION_PREFIX}-${options.clock.now().getTime()}`,
          DurationSeconds: SPOKE_SESSION_SECONDS,
        }),
      )
      .catch((error: unknown) => {
        throw new SpokeUnreachableError(options.roleArn, error);
      });
    if (!session?.AccessKeyId || !session.SecretAccessKey || !session.SessionToken || !session.Expiration) {
      throw new Error(`AssumeRole of ${options.roleArn} returned no credentials`);
    }
    return {
      accessKeyId: session.AccessKeyId,
      secretAccessKey: session.SecretAccessKey,
      sessionToken: session.SessionToken,
      expiration: session.Expiration,
    };
  };
  return async () => {
    if (fresh() && cached) return cached;
    pending ??= assume()
      .then((credentials) => (cached = credentials))
      .finally(() => (pending = undefined));
    return pending;
  };
}
