// Adapter (AWS STS): the hub engine's credentials in a spoke account. The engine assumes the
// spoke's engine role with its own SourceIdentity, and keeps the session until shortly before
// it expires, so one invocation's many IAM calls (and a warm container's) cost one AssumeRole.
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import type { Clock } from '../../ports';
import { ENGINE_SOURCE_IDENTITY } from '../../domain/accounts';

/** Renew this long before the spoke session expires, so no call starts with a dying credential. */
export const SPOKE_REFRESH_MARGIN_MS = 5 * 60_000;
const SPOKE_SESSION_SECONDS = 3600;

export interface SpokeCredentialsOptions {
  /** An STS client with the hub engine function's own credentials. */
  readonly sts: STSClient;
  readonly roleArn: string;
  readonly clock: Clock;
  readonly sourceIdentity?: string;
}

/** A credential provider for AWS SDK clients acting in a spoke; concurrent callers share one AssumeRole. */
export function spokeCredentials(options: SpokeCredentialsOptions): AwsCredentialIdentityProvider {
  let cached: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  const fresh = () =>
    cached?.expiration !== undefined && cached.expiration.getTime() - SPOKE_REFRESH_MARGIN_MS > options.clock.now().getTime();
  const assume = async (): Promise<AwsCredentialIdentity> => {
    const { Credentials: session } = await options.sts.send(
      new AssumeRoleCommand({
        RoleArn: options.roleArn,
        RoleSessionName: `${options.sourceIdentity ?? ENGINE_SOURCE_IDENTITY}-${options.clock.now().getTime()}`,
        SourceIdentity: options.sourceIdentity ?? ENGINE_SOURCE_IDENTITY,
        DurationSeconds: SPOKE_SESSION_SECONDS,
      }),
    );
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
