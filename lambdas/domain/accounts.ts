// Domain: which AWS account a scope's credential comes from (hub and spoke). Absent means the
// engine's own account. One credential lives in one account, so a task never spans two.
import type { z } from 'zod';

/** An AWS account id: exactly 12 digits. */
export const ACCOUNT_ID = /^\d{12}$/;

/** The account field of an ARN (`arn:partition:service:region:account:resource`), if it names one. */
function accountOfArn(arn: string): string | undefined {
  const account = arn.split(':')[4];
  return account && ACCOUNT_ID.test(account) ? account : undefined;
}

/** What of the policy the account rules read (structural, so policy.ts can refine with them without a cycle). */
interface AccountPolicy {
  readonly scopes: Readonly<
    Record<
      string,
      {
        readonly account?: string;
        readonly credential: string;
        readonly statements: readonly { readonly Resource?: string | readonly string[] }[];
      }
    >
  >;
  readonly agents: Readonly<Record<string, { readonly account?: string; readonly scopes: readonly string[] }>>;
  /** Accounts nothing is issued in any more, still reached to revoke what lives there. */
  readonly retiredAccounts?: readonly string[];
}

/**
 * The engine's sessions in a spoke are named `taskbound-engine-<ms>`, and spoke trust requires that name.
 * They set no source identity: AWS keeps the first one set along a chain of role sessions and refuses to
 * change it, and an agent session the spoke engine role starts must carry its grant id as its own (the
 * agent role's trust requires it, and the revoked-sessions deny finds the session by it).
 */
export const ENGINE_SESSION_PREFIX = 'taskbound-engine';
/** `sts:RoleSessionName` of the engine's spoke sessions, as an IAM `StringLike` pattern. */
export const ENGINE_SESSION_NAME_PATTERN = `${ENGINE_SESSION_PREFIX}-*`;

/**
 * Which spoke role a hub function acts through: the engine role (issue, revoke), or the read-only
 * prover (prove-revocation: it reads the sessions' deny and lists issued keys, and can neither revoke
 * nor revive, where the engine role could empty the deny).
 */
export type SpokeRole = 'engine' | 'prover';

/** The name every spoke stack gives the role: `<instanceName>-spoke-<role>`, fixed so the hub can name it in any account. */
export const spokeRoleName = (instanceName: string, role: SpokeRole) => `${instanceName}-spoke-${role}`;

/** A role every spoke stack creates: `arn:<partition>:iam::<account>:role/<instanceName>-spoke-<role>`. */
export function spokeRoleArn(account: string, instanceName: string, role: SpokeRole, partition = 'aws'): string {
  return `arn:${partition}:iam::${account}:role/${spokeRoleName(instanceName, role)}`;
}

/** The spoke's permissions boundary for issued users: a fixed name, so the hub can name it in any account. */
export function spokeBoundaryArn(account: string, instanceName: string, partition = 'aws'): string {
  return `arn:${partition}:iam::${account}:policy/taskbound/${instanceName}-issued-credential-boundary`;
}

/** The account a scope's credential comes from for this agent: the scope's, else the agent's, else the engine's own (undefined). */
export function accountOf(policy: AccountPolicy, scopeName: string, agentId: string): string | undefined {
  return policy.scopes[scopeName]?.account ?? policy.agents[agentId]?.account;
}

/**
 * Every account the policy names, retired ones included: the accounts the engine must reach through
 * a spoke (to issue, or only to revoke, prove dead and reconcile what still lives there).
 */
export function accountsNamed(policy: AccountPolicy): readonly string[] {
  const named = [...Object.values(policy.scopes), ...Object.values(policy.agents)].flatMap((entry) =>
    entry.account ? [entry.account] : [],
  );
  return [...new Set([...named, ...(policy.retiredAccounts ?? [])])].sort();
}

/**
 * Refines the policy (zod superRefine): a scope's statements must not name an account other than
 * the one its credential comes from, since a credential in one account cannot act in another
 * account's resources unless that account trusts it (and then the scope belongs there).
 */
export function refineAccounts(policy: AccountPolicy, ctx: z.RefinementCtx): void {
  refineRetired(policy, ctx);
  for (const [scopeName, scope] of Object.entries(policy.scopes)) {
    const owners = scope.account
      ? [{ account: scope.account, by: `scope "${scopeName}"` }]
      : Object.entries(policy.agents)
          .filter(([, agent]) => agent.account && agent.scopes.includes(scopeName))
          .map(([agentId, agent]) => ({ account: agent.account as string, by: `agent "${agentId}"` }));
    for (const [index, statement] of scope.statements.entries()) {
      const resources = [statement.Resource ?? []].flat();
      for (const resource of resources) {
        const named = accountOfArn(resource);
        const other = owners.find((owner) => named && owner.account !== named);
        if (other) {
          ctx.addIssue({
            code: 'custom',
            path: ['scopes', scopeName, 'statements', index, 'Resource'],
            message: `${resource} is in account ${named}, but ${other.by} takes its credential from account ${other.account}`,
          });
        }
      }
    }
  }
}

/** A retired account is named once, and by nothing that would issue in it. */
function refineRetired(policy: AccountPolicy, ctx: z.RefinementCtx): void {
  const retired = policy.retiredAccounts ?? [];
  for (const [index, account] of retired.entries()) {
    if (retired.indexOf(account) !== index) {
      ctx.addIssue({ code: 'custom', path: ['retiredAccounts', index], message: `account ${account} is listed twice` });
    }
  }
  const issuing = [
    ...Object.entries(policy.scopes).map(([name, scope]) => ({
      account: scope.account,
      path: ['scopes', name, 'account'],
      by: `scope "${name}"`,
    })),
    ...Object.entries(policy.agents).map(([id, agent]) => ({
      account: agent.account,
      path: ['agents', id, 'account'],
      by: `agent "${id}"`,
    })),
  ];
  for (const { account, path, by } of issuing) {
    if (account && retired.includes(account)) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `account ${account} is retired (retiredAccounts), but ${by} still takes credentials from it: nothing is issued in a retired account`,
      });
    }
  }
}

/**
 * Agents whose scopes come from more than one account: a task asking for scopes of two accounts is
 * refused (one credential is one account), so such an agent must split its work into tasks per account.
 */
export function accountWarnings(policy: AccountPolicy): readonly string[] {
  const warnings: string[] = [];
  for (const [agentId, agent] of Object.entries(policy.agents)) {
    const byCombination = new Map<string, string[]>();
    for (const scopeName of agent.scopes) {
      const scope = policy.scopes[scopeName];
      if (!scope) continue;
      const key = `${scope.credential} in ${accountOf(policy, scopeName, agentId) ?? "the engine's own account"}`;
      byCombination.set(key, [...(byCombination.get(key) ?? []), scopeName]);
    }
    const accounts = new Set(agent.scopes.map((scopeName) => accountOf(policy, scopeName, agentId) ?? ''));
    if (accounts.size > 1) {
      const combinations = [...byCombination].map(([key, scopes]) => `${scopes.join(', ')} (${key})`).join('; ');
      warnings.push(
        `agent "${agentId}": its scopes span ${accounts.size} accounts, and a task may ask only for scopes of one account: ${combinations}`,
      );
    }
  }
  return warnings;
}
