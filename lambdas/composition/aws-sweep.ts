// Composition (AWS): the sweep's dependencies: the revoking engine's, plus CloudTrail for use after
// revocation. Only the sweep reads CloudTrail, so only its bundle carries the client. Each
// account's event history is its own: a spoke's is read through the spoke engine role.
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudTrailUseLog } from '../adapters/aws/cloudtrail-use-log';
import { accountsNamed } from '../domain/accounts';
import type { EngineDeps } from '../use-cases/engine-deps';
import { AccountUseLogs } from './account-use-logs';
import { engineConfiguration } from './aws-config';
import { awsRevokingEngine, spokeCredentialsFor } from './aws-engine';

let useLog: AccountUseLogs | undefined;

/** The revoking engine's dependencies with the CloudTrail use log of every account, built once per container. */
export async function awsSweepEngine(): Promise<EngineDeps> {
  const deps = await awsRevokingEngine();
  useLog ??= (() => {
    // Validated whole by awsRevokingEngine above; read again for the region and the accounts.
    const { env } = engineConfiguration('revoking');
    const hubAccount = env.ACCOUNT_ID;
    return new AccountUseLogs({
      hubAccount,
      spokeAccounts: accountsNamed(deps.policy),
      useLogIn: (account) =>
        new CloudTrailUseLog({
          cloudTrail: new CloudTrailClient({
            region: env.AWS_REGION,
            ...(account === hubAccount ? {} : { credentials: spokeCredentialsFor(env, account) }),
          }),
        }),
    });
  })();
  return { ...deps, useLog };
}
