// Composition: one engine, many accounts (hub and spoke). The use cases keep one `Issuers`; each
// kind's issuer here routes a request or target to the issuer of the account the grant records,
// built on first use by a per-account factory, and lists issued credentials in every account.
import { CREDENTIAL_KINDS, type CredentialKind } from '../domain/policy';
import { TaskboundError, UnissuableRequestError } from '../domain/errors';
import type { AgentRevocation, CredentialIssuer, CredentialMaterial, IssueRequest, Issuers, RevokeTarget, ProbePatience } from '../ports';

export interface AccountIssuersOptions {
  /** The engine's own account: where a grant that names no account lives. */
  readonly hubAccount: string;
  /** Every account the policy names (lambdas/domain/accounts.ts `accountsNamed`). */
  readonly spokeAccounts: readonly string[];
  /** Builds the issuers that act in one account; called once per account. */
  readonly issuersIn: (account: string) => Issuers;
  /**
   * Proves the engine can act in a spoke (assumes its engine role: cached, so no call once it
   * has) before anything is issued there. A spoke it cannot reach then refuses the request
   * cleanly: nothing was issued, so nothing is left to revoke there (which would fail the same way).
   */
  readonly reach?: (account: string) => Promise<unknown>;
}

/** Thrown for a grant naming an account the policy does not: the engine has no spoke role there. */
export class UnknownAccountError extends TaskboundError {
  override readonly name = 'UnknownAccountError';
}

/** Issuers that act in the account each grant records, across the hub and every spoke. */
export function accountIssuers(options: AccountIssuersOptions): Issuers {
  const known = new Set([options.hubAccount, ...options.spokeAccounts]);
  const built = new Map<string, Issuers>();
  const issuersOf = (account: string | undefined): Issuers => {
    const resolved = account ?? options.hubAccount;
    if (!known.has(resolved))
      throw new UnknownAccountError(
        `account ${resolved} is not named by the policy: the engine may not assume its spoke role; ` +
          'list it under retiredAccounts until the grants there are dead (docs/deploy.md, Removing an account)',
      );
    let issuers = built.get(resolved);
    if (!issuers) {
      issuers = options.issuersIn(resolved);
      built.set(resolved, issuers);
    }
    return issuers;
  };
  const reachable = async (account: string | undefined): Promise<void> => {
    if (account === undefined || account === options.hubAccount || !options.reach) return;
    issuersOf(account); // an account the policy does not name is refused before any AssumeRole
    try {
      await options.reach(account);
    } catch (error) {
      throw new UnissuableRequestError(`no credential in account ${account}: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  };
  const routed = (kind: CredentialKind): CredentialIssuer => {
    const inAccount = (account: string | undefined) => issuersOf(account)[kind];
    const listable = inAccount(options.hubAccount).listIssued !== undefined;
    const agentWide = inAccount(options.hubAccount).revokeAgent !== undefined;
    // The same margin in every account (it allows for STS's clock): the hub's issuer says it.
    const admits = inAccount(options.hubAccount).admitsIssuesFrom?.bind(inAccount(options.hubAccount));
    return {
      issue: async (request: IssueRequest) => {
        await reachable(request.account);
        return inAccount(request.account).issue(request);
      },
      revoke: async (target: RevokeTarget) => inAccount(target.account).revoke(target),
      verify: async (target: RevokeTarget, material: CredentialMaterial | undefined, patience?: ProbePatience) =>
        inAccount(target.account).verify(target, material, patience),
      ...(agentWide ? { revokeAgent: async (revocation: AgentRevocation) => inAccount(revocation.account).revokeAgent?.(revocation) } : {}),
      ...(admits ? { admitsIssuesFrom: admits } : {}),
      ...(listable ? { listIssued: () => listEverywhere(kind, [...known], issuersOf, options.hubAccount) } : {}),
    };
  };
  return Object.fromEntries(CREDENTIAL_KINDS.map((kind) => [kind, routed(kind)])) as unknown as Issuers;
}

/** Lists a kind's credentials account by account, each tagged with the spoke account it lives in. */
async function* listEverywhere(kind: CredentialKind, accounts: readonly string[], issuersOf: (account: string) => Issuers, hub: string) {
  for (const account of accounts) {
    const listing = issuersOf(account)[kind].listIssued;
    if (!listing) continue;
    for await (const issued of listing.call(issuersOf(account)[kind])) yield account === hub ? issued : { ...issued, account };
  }
}
