// Composition (AWS): the sweep's dependencies: the engine's, plus CloudTrail for use after
// revocation. Only the sweep reads CloudTrail, so only its bundle carries the client. Each
// account's event history is its own: a spoke's is read through the spoke engine role.
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudTrailUseLog } from '../adapters/aws/cloudtrail-use-log';
import { accountsNamed } from '../domain/accounts';
import type { EngineDeps } from '../use-cases/engine-deps';
import { AccountUseLogs } from './account-use-logs';
import { awsEngine, spokeCredentialsFor } from './aws-engine';

let useLog: AccountUseLogs | undefined;

/** The engine's dependencies with the CloudTrail use log of every account, built once per container. */
export async function awsSweepEngine(): Promise<EngineDeps> {
  const deps = await awsEngine();
  // awsEngine validated the configuration: both variables are set.
  const region = process.env.AWS_REGION;
  const hubAccount = process.env.ACCOUNT_ID ?? '';
  useLog ??= new AccountUseLogs({
    hubAccount,
    spokeAccounts: accountsNamed(deps.policy),
    useLogIn: (account) =>
      new CloudTrailUseLog({ cloudTrail: new CloudTrailClient({ region, ...(account === hubAccount ? {} : { credentials: spokeCredentialsFor(account) }) }) }),
  });
  return { ...deps, useLog };
}
