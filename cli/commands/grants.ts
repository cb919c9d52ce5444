// CLI commands: `grants list` and `grants show`, read straight from the GrantStore port (and, for
// `show`, what the credential did: cli/grant-calls.ts).
import type { ChainVerdict } from '../../lambdas/domain/audit';
import { FINAL_STATES, GRANT_STATES, verifyGrantAudit, withReadableAudit, type Grant, type GrantState } from '../../lambdas/domain/grant';
import { AGENT_ID_PATTERN, GRANT_ID_PATTERN } from '../../lambdas/domain/ids';
import { EXIT, UsageError, type CliDeps, type ExitCode } from '../context';
import { grantCalls, printGrantCalls } from '../grant-calls';
import { json, NONE, relative, stateLabel, table } from '../output';

export interface ListOptions {
  readonly agent?: string;
  readonly state?: string;
  readonly limit?: string;
  readonly json?: boolean;
}

/** How many grants a listing shows unless told otherwise: the table is not a pager. */
export const DEFAULT_LIST_LIMIT = 100;

/** What `grants list --json` prints per grant: identifiers and lifecycle facts, no audit. */
export interface GrantSummary {
  readonly grantId: string;
  readonly agentId: string;
  readonly taskId: string;
  readonly state: GrantState;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly expiresAt?: string;
  readonly scopes: readonly string[];
  readonly trigger?: string;
}

export function summarize(grant: Grant): GrantSummary {
  return {
    grantId: grant.grantId,
    agentId: grant.agentId,
    taskId: grant.taskId,
    state: grant.state,
    createdAt: grant.createdAt,
    updatedAt: grant.updatedAt,
    ...(grant.expiresAt ? { expiresAt: grant.expiresAt } : {}),
    scopes: grant.scopes,
    ...(grant.revocation ? { trigger: grant.revocation.trigger } : {}),
  };
}

export function checkedGrantId(grantId: string): string {
  if (!GRANT_ID_PATTERN.test(grantId)) throw new UsageError(`"${grantId}" is not a grant id (g- and 26 letters or digits)`);
  return grantId;
}

export function checkedAgentId(agentId: string): string {
  if (!AGENT_ID_PATTERN.test(agentId)) throw new UsageError(`"${agentId}" is not an agent id (lower-case letters, digits and dashes)`);
  return agentId;
}

function checkedLimit(limit: string | undefined): number {
  if (limit === undefined) return DEFAULT_LIST_LIMIT;
  if (!/^\d{1,6}$/.test(limit) || Number(limit) === 0) throw new UsageError(`--limit: "${limit}" is not a positive whole number`);
  return Number(limit);
}

function checkedState(state: string): GrantState {
  const known: readonly string[] = GRANT_STATES;
  if (!known.includes(state)) throw new UsageError(`unknown state "${state}"; one of ${GRANT_STATES.join(', ')}`);
  return state as GrantState;
}

/** Lists grants, newest first, by agent and/or state. */
export async function listGrants(deps: CliDeps, options: ListOptions): Promise<ExitCode> {
  const state = options.state === undefined ? undefined : checkedState(options.state);
  const limit = checkedLimit(options.limit);
  const grants = options.agent
    ? (await deps.store.grantsOfAgent(checkedAgentId(options.agent))).filter((grant) => !state || grant.state === state).slice(0, limit)
    : await deps.store.listGrants({ ...(state ? { state } : {}), limit });
  if (options.json) {
    deps.out(json(grants.map(summarize)));
    return EXIT.ok;
  }
  if (grants.length === 0) {
    deps.out('no grants');
    return EXIT.ok;
  }
  // Relative times for people (`12s ago`, `expires in 4m`); `--json` keeps the ISO times.
  const now = deps.clock.now();
  const rows = grants.map((g) => [
    g.grantId,
    g.agentId,
    g.taskId,
    stateLabel(g.state),
    relative(g.createdAt, now),
    // A credential proven dead (or never issued) expires nowhere: its old deadline would read as a live one.
    g.expiresAt && !FINAL_STATES.includes(g.state) ? relative(g.expiresAt, now) : NONE,
    g.scopes.join(','),
  ]);
  for (const line of table(['GRANT', 'AGENT', 'TASK', 'STATE', 'CREATED', 'EXPIRES', 'SCOPES'], rows)) deps.out(line);
  if (grants.length === limit) deps.err(`(showing the newest ${limit}; --limit N for more)`);
  return EXIT.ok;
}

export interface ShowOptions {
  readonly json?: boolean;
}

/** Shows one grant, its audit chain and its credential's calls; a chain that does not verify makes it a failure. */
export async function showGrant(deps: CliDeps, grantId: string, options: ShowOptions): Promise<ExitCode> {
  const stored = await deps.store.get(checkedGrantId(grantId));
  if (!stored) {
    deps.err(`taskbound: no grant ${grantId}`);
    return EXIT.failure;
  }
  const grant = withReadableAudit(stored);
  const chain = verifyGrantAudit(grant);
  const calls = await grantCalls(deps, grant);
  if (options.json) deps.out(json({ grant, chain, ...(calls ? { calls } : {}) }));
  else {
    printGrant(deps, grant, chain);
    if (calls) printGrantCalls(deps, calls);
  }
  return chain.ok ? EXIT.ok : EXIT.failure;
}

function printGrant(deps: CliDeps, grant: Grant, chain: ChainVerdict): void {
  const facts: [string, string | undefined][] = [
    ['grant', grant.grantId],
    ['agent', grant.agentId],
    ['task', grant.taskId],
    ['state', stateLabel(grant.state)],
    ['purpose', grant.purpose],
    ['requested by', grant.requestedBy],
    ['scopes', grant.scopes.join(', ')],
    ['credential', grant.credential ? `${grant.credential.kind} ${grant.credential.accessKeyId}` : undefined],
    // Where to look for the credential in AWS (its IAM, its CloudTrail): `hub` is the engine's own account, as in `agents`.
    ['account', grant.account ?? 'hub'],
    ['created', `${grant.createdAt} (${relative(grant.createdAt, deps.clock.now())})`],
    ['expires', grant.expiresAt ? `${grant.expiresAt} (${relative(grant.expiresAt, deps.clock.now())})` : undefined],
    ['revocation', grant.revocation ? `${grant.revocation.trigger} by ${grant.revocation.by}: ${grant.revocation.reason}` : undefined],
    ['revoked', grant.revokedAt],
    ['verified', grant.verifiedAt],
    ['reason', grant.reason],
    ['policy', grant.policyVersion],
  ];
  for (const [label, value] of facts) if (value) deps.out(`${`${label}:`.padEnd(14)}${value}`);
  deps.out('');
  const rows = grant.audit.map((entry) => [
    String(entry.seq),
    entry.at,
    entry.actor,
    entry.action,
    entry.from && entry.to ? `${entry.from} -> ${entry.to}` : NONE,
    entry.reason ?? '',
  ]);
  for (const line of table(['SEQ', 'AT', 'ACTOR', 'ACTION', 'STATE', 'REASON'], rows)) deps.out(line);
  deps.out('');
  deps.out(
    chain.ok ? `audit chain verifies (${grant.audit.length} entries)` : `AUDIT CHAIN BROKEN at entry ${chain.brokenAt}: ${chain.why}`,
  );
}
