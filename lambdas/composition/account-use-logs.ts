// Composition: one engine, many accounts, for the record of calls (CloudTrail). Each account keeps
// its own event history, so a spoke grant's calls are read in the spoke, through its engine role.
import type { RecordedCall } from '../domain/use-after-revocation';
import type { CredentialUseLog } from '../ports';
import { UnknownAccountError } from './account-issuers';

export interface AccountUseLogsOptions {
  /** The engine's own account: where a grant that names no account was issued. */
  readonly hubAccount: string;
  /** Every account the policy names (lambdas/domain/accounts.ts `accountsNamed`). */
  readonly spokeAccounts: readonly string[];
  /** Builds the use log that reads one account's record; called once per account, up front (no call is made). */
  readonly useLogIn: (account: string) => CredentialUseLog;
}

/** A use log that reads each grant's calls in the account its credential lives in. */
export class AccountUseLogs implements CredentialUseLog {
  /** One per account, built up front: a plain record, so tests can reach each account's client. */
  readonly logs: Readonly<Record<string, CredentialUseLog>>;

  constructor(private readonly options: AccountUseLogsOptions) {
    const accounts = [...new Set([options.hubAccount, ...options.spokeAccounts])];
    this.logs = Object.fromEntries(accounts.map((account) => [account, options.useLogIn(account)]));
  }

  callsWith(accessKeyId: string, from: Date, to: Date, account?: string): Promise<readonly RecordedCall[]> {
    const resolved = account ?? this.options.hubAccount;
    const log = Object.hasOwn(this.logs, resolved) ? this.logs[resolved] : undefined;
    if (!log)
      throw new UnknownAccountError(
        `account ${resolved} is not named by the policy: the engine has no spoke role there to read CloudTrail`,
      );
    return log.callsWith(accessKeyId, from, to);
  }
}
