// CLI commands: `agents list` and `agents show A`: the inventory of AI identities. Who owns
// each agent, what it is for, what it may reach and under which approval, its limits, whether
// it is suspended, and which credentials it holds right now. The policy file says what an agent
// may do; the store says what it holds and whether the kill switch is thrown. Each scope and
// each live grant names the account its credential comes from (hub and spoke).
import { accountOf } from '../../lambdas/domain/accounts';
import type { Grant } from '../../lambdas/domain/grant';
import type { Policy } from '../../lambdas/domain/policy';
import type { AgentRecord } from '../../lambdas/ports';
import { EXIT, type CliDeps, type ExitCode } from '../context';
import { bad, dim, good, json, NONE, relative, repeatText, stateLabel, table } from '../output';
import { checkedAgentId } from './grants';

export interface InventoryOptions {
  readonly json?: boolean;
}

export interface ScopeEntry {
  readonly scope: string;
  readonly actionClass?: string;
  readonly credential?: string;
  readonly approval: string;
  readonly actions: readonly string[];
  readonly secrets: readonly string[];
  /** The account its credential comes from; absent = the engine's own (`hub`). */
  readonly account?: string;
  /** False when the agent names a scope the policy file does not define. */
  readonly defined: boolean;
}

export interface LiveGrant {
  readonly grantId: string;
  readonly taskId: string;
  readonly state: string;
  readonly createdAt: string;
  readonly expiresAt?: string;
  readonly scopes: readonly string[];
  /** The account its credential lives in; absent = the engine's own (`hub`). */
  readonly account?: string;
  /** True when the grant was allowed by a policy other than the file read. */
  readonly otherPolicyVersion: boolean;
}

/** One agent of the inventory, as `--json` prints it (times absolute, ISO 8601). */
export interface AgentInventory {
  readonly agentId: string;
  readonly inPolicy: boolean;
  readonly owner?: string;
  readonly purpose?: string;
  readonly riskTier?: string;
  readonly runtimePrincipal?: string;
  readonly limits?: { readonly defaultTtlSeconds: number; readonly maxTtlSeconds: number; readonly maxConcurrentGrants: number };
  readonly scopes: readonly ScopeEntry[];
  /** While suspended: the suspension in force, and its latest repeat when it was thrown again. */
  readonly status: Pick<
    AgentRecord,
    'by' | 'at' | 'reason' | 'repeatCount' | 'lastRepeatedBy' | 'lastRepeatedAt' | 'lastRepeatedReason'
  > & {
    readonly state: 'active' | 'suspended';
  };
  readonly liveGrants: readonly LiveGrant[];
}

function approvalOf(rule: Policy['approvals'][keyof Policy['approvals']] | undefined): string {
  if (!rule) return NONE;
  return rule.mode === 'auto' ? 'auto' : `manual: ${rule.approvers} of ${rule.approverGroup.join(', ')}`;
}

const asList = (value: string | readonly string[]) => (typeof value === 'string' ? [value] : [...value]);

/** How an account is shown: its id, or `hub` for the engine's own. */
const HUB = 'hub';
const accountText = (account: string | undefined) => account ?? HUB;

function scopeEntries(policy: Policy, agentId: string, scopeNames: readonly string[]): ScopeEntry[] {
  return scopeNames.map((name) => {
    const scope = policy.scopes[name];
    if (!scope) return { scope: name, approval: NONE, actions: [], secrets: [], defined: false };
    const account = accountOf(policy, name, agentId);
    return {
      scope: name,
      actionClass: scope.action,
      credential: scope.credential,
      approval: approvalOf(policy.approvals[scope.action]),
      // A NotAction statement allows everything but its list: shown as such, never as the list itself.
      actions: scope.statements
        .filter((statement) => statement.Effect === 'Allow')
        .flatMap((statement) =>
          statement.Action !== undefined
            ? asList(statement.Action)
            : asList(statement.NotAction ?? []).map((action) => `all but ${action}`),
        ),
      secrets: scope.secrets.map((secret) => secret.arn),
      ...(account ? { account } : {}),
      defined: true,
    };
  });
}

function statusOf(record: AgentRecord): AgentInventory['status'] {
  if (!record.suspended) return { state: 'active', ...(record.by ? { by: record.by, at: record.at, reason: record.reason } : {}) };
  return {
    state: 'suspended',
    ...(record.by ? { by: record.by } : {}),
    ...(record.at ? { at: record.at } : {}),
    ...(record.reason ? { reason: record.reason } : {}),
    ...(record.repeatCount
      ? {
          repeatCount: record.repeatCount,
          ...(record.lastRepeatedBy ? { lastRepeatedBy: record.lastRepeatedBy } : {}),
          ...(record.lastRepeatedAt ? { lastRepeatedAt: record.lastRepeatedAt } : {}),
          ...(record.lastRepeatedReason ? { lastRepeatedReason: record.lastRepeatedReason } : {}),
        }
      : {}),
  };
}

/** Grants that may hold a credential: live, or revoked but not yet proven dead. */
async function liveGrantsOf(deps: CliDeps, agentId: string, policy: Policy): Promise<LiveGrant[]> {
  const grants: readonly Grant[] = await deps.store.grantsOfAgent(agentId, { liveOnly: true });
  return grants.map((grant) => ({
    grantId: grant.grantId,
    taskId: grant.taskId,
    state: grant.state,
    createdAt: grant.createdAt,
    ...(grant.expiresAt ? { expiresAt: grant.expiresAt } : {}),
    scopes: grant.scopes,
    ...(grant.account ? { account: grant.account } : {}),
    otherPolicyVersion: grant.policyVersion !== policy.policyVersion,
  }));
}

async function inventoryOf(deps: CliDeps, policy: Policy, agentId: string): Promise<AgentInventory> {
  const agent = policy.agents[agentId];
  const [record, liveGrants] = await Promise.all([deps.store.getAgent(agentId), liveGrantsOf(deps, agentId, policy)]);
  return {
    agentId,
    inPolicy: agent !== undefined,
    ...(agent
      ? {
          owner: agent.owner,
          purpose: agent.purpose,
          riskTier: agent.riskTier,
          runtimePrincipal: agent.runtimePrincipal,
          limits: {
            defaultTtlSeconds: agent.defaultTtlSeconds,
            maxTtlSeconds: agent.maxTtlSeconds,
            maxConcurrentGrants: agent.maxConcurrentGrants,
          },
        }
      : {}),
    scopes: agent ? scopeEntries(policy, agentId, agent.scopes) : [],
    status: statusOf(record),
    liveGrants,
  };
}

const statusText = (status: AgentInventory['status'], now: Date) =>
  status.state === 'suspended'
    ? bad(
        `suspended${status.by ? ` by ${status.by}` : ''}${status.at ? ` ${relative(status.at, now)}` : ''}${status.repeatCount ? ` (thrown again ${status.repeatCount}x)` : ''}`,
      )
    : good('active');

/** Every agent in the policy, and any agent the store knows that the policy no longer names. */
export async function listAgents(deps: CliDeps, options: InventoryOptions): Promise<ExitCode> {
  const policy = await deps.policy();
  const progress = deps.progress(`reading ${Object.keys(policy.agents).length} agents`);
  // An agent dropped from the policy can still hold credentials issued before: it stays an identity to account for.
  const retired = (await deps.store.liveGrants()).map((grant) => grant.agentId).filter((agentId) => !(agentId in policy.agents));
  const known = [...new Set([...Object.keys(policy.agents), ...retired.sort()])];
  const inventory = await Promise.all(known.map((agentId) => inventoryOf(deps, policy, agentId)));
  progress.succeed(`${inventory.length} agents`);
  if (options.json) {
    deps.out(json({ policy: { file: policy.source, version: policy.policyVersion }, agents: inventory }));
    return EXIT.ok;
  }
  const now = deps.clock.now();
  const rows = inventory.map((agent) => [
    agent.agentId,
    agent.inPolicy ? (agent.owner ?? NONE) : bad('not in policy'),
    agent.riskTier ?? NONE,
    statusText(agent.status, now),
    String(agent.liveGrants.length),
    [...new Set(agent.scopes.map((scope) => accountText(scope.account)))].join(' ') || NONE,
    agent.scopes.map((scope) => `${scope.scope}(${scope.actionClass ?? '?'})`).join(' '),
  ]);
  for (const line of table(['AGENT', 'OWNER', 'RISK', 'STATUS', 'LIVE', 'ACCOUNTS', 'SCOPES (CLASS)'], rows)) deps.out(line);
  deps.out(dim(`policy ${policy.source} (${policy.policyVersion.slice(0, 19)}…)`));
  return EXIT.ok;
}

/** One agent: owner, purpose, risk tier, scopes and their classes, limits, status, live grants. */
export async function showAgent(deps: CliDeps, agentId: string, options: InventoryOptions): Promise<ExitCode> {
  const policy = await deps.policy();
  const agent = await inventoryOf(deps, policy, checkedAgentId(agentId));
  if (!agent.inPolicy && agent.liveGrants.length === 0 && agent.status.by === undefined) {
    deps.err(
      `taskbound: no agent "${agentId}" in ${policy.source}, and the store knows none; \`taskbound agents list\` shows the agents (or pass the deployed policy with --policy FILE)`,
    );
    return EXIT.failure;
  }
  if (options.json) {
    deps.out(json({ policy: { file: policy.source, version: policy.policyVersion }, agent }));
    return EXIT.ok;
  }
  const now = deps.clock.now();
  const facts: [string, string | undefined][] = [
    ['agent', agent.agentId],
    ['owner', agent.owner],
    ['purpose', agent.purpose],
    ['risk tier', agent.riskTier],
    ['runtime', agent.runtimePrincipal],
    [
      'limits',
      agent.limits
        ? `ttl ${agent.limits.defaultTtlSeconds}s default, ${agent.limits.maxTtlSeconds}s max; ${agent.limits.maxConcurrentGrants} grants at once`
        : undefined,
    ],
    [
      'status',
      statusText(agent.status, now) +
        (agent.status.reason ? `: ${agent.status.reason}` : '') +
        repeatText({ ...agent.status, agentId: agent.agentId, suspended: agent.status.state === 'suspended' }, now),
    ],
    ['policy', agent.inPolicy ? `${policy.source}` : bad(`not in ${policy.source}`)],
  ];
  for (const [label, value] of facts) if (value) deps.out(`${`${label}:`.padEnd(11)}${value}`);
  deps.out('');
  const scopeRows = agent.scopes.map((scope) => [
    scope.scope,
    scope.actionClass ?? bad('undefined'),
    scope.credential ?? NONE,
    scope.defined ? accountText(scope.account) : NONE,
    scope.approval,
    [...scope.actions, ...scope.secrets].join(', ') || NONE,
  ]);
  for (const line of table(['SCOPE', 'CLASS', 'CREDENTIAL', 'ACCOUNT', 'APPROVAL', 'ALLOWS'], scopeRows)) deps.out(line);
  deps.out('');
  if (agent.liveGrants.length === 0) {
    deps.out('no live grants');
    return EXIT.ok;
  }
  const grantRows = agent.liveGrants.map((grant) => [
    grant.grantId,
    grant.taskId,
    stateLabel(grant.state),
    relative(grant.createdAt, now),
    grant.expiresAt
      ? grant.expiresAt > now.toISOString()
        ? `expires ${relative(grant.expiresAt, now)}`
        : bad(`expired ${relative(grant.expiresAt, now)}`)
      : NONE,
    accountText(grant.account),
    grant.scopes.join(',') + (grant.otherPolicyVersion ? dim(' (other policy version)') : ''),
  ]);
  for (const line of table(['GRANT', 'TASK', 'STATE', 'CREATED', 'EXPIRES', 'ACCOUNT', 'SCOPES'], grantRows)) deps.out(line);
  return EXIT.ok;
}
