// Domain: deciding a task's request against the policy. Pure: the caller supplies what
// the store knows (suspension, live grants); the answer is a value, never an exception.
import {
  ACTION_CLASSES,
  TIER_ALLOWS,
  type ActionClass,
  type Agent,
  type CredentialKind,
  type Policy,
  type PolicyStatement,
} from './policy';
import type { BrokeredSecret, Grant } from './grant';
import { accountOf } from './accounts';
import { designates } from './people';
import { scopeStatementDigests, type ScopeDigests } from './scope-digests';
import { CHAINED_SESSION_MAX_SECONDS } from './ttl';

export interface TaskRequest {
  readonly agentId: string;
  readonly taskId: string;
  readonly purpose: string;
  readonly requestedBy: string;
  readonly scopes: readonly string[];
  readonly ttlSeconds?: number;
}

export interface AgentStanding {
  readonly suspended: boolean;
  /**
   * Live grants, when the caller counted them. Start-task does not: a count read before the
   * write races with concurrent starts, so it takes a slot instead (GrantStore.openHoldingSlot).
   */
  readonly liveGrants?: number;
}

export interface Entitlement {
  readonly agent: Agent;
  readonly actionClasses: readonly ActionClass[];
  readonly credentialKind: CredentialKind;
  /** The account the credential comes from; absent = the engine's own. */
  readonly account?: string;
  readonly ttlSeconds: number;
  readonly statements: readonly PolicyStatement[];
  /** Each requested scope's statements, digested: what the grant records it was given. */
  readonly scopeDigests: ScopeDigests;
  readonly brokeredSecrets: readonly BrokeredSecret[];
  readonly requiredApprovals: number;
  readonly eligibleApprovers: readonly string[];
}

export type RequestDecision =
  | { readonly outcome: 'denied'; readonly reason: string; readonly agent?: Agent }
  | ({ readonly outcome: 'auto-approved' | 'needs-approval' } & Entitlement);

const deny = (reason: string, agent?: Agent): RequestDecision => ({ outcome: 'denied', reason, ...(agent ? { agent } : {}) });

/** The request a grant holds, as its `Task Started` made it: to judge it again under the policy in force. */
export function requestHeldBy(grant: Grant): TaskRequest {
  return {
    agentId: grant.agentId,
    taskId: grant.taskId,
    purpose: grant.purpose ?? '',
    requestedBy: grant.requestedBy ?? '',
    scopes: grant.scopes,
    ...(grant.ttlSeconds ? { ttlSeconds: grant.ttlSeconds } : {}),
  };
}

/** Decides a `Task Started` request: who may have what, for how long, approved by whom. */
export function evaluateTaskRequest(policy: Policy, request: TaskRequest, standing: AgentStanding): RequestDecision {
  const agent = policy.agents[request.agentId];
  if (!agent) return deny(`agent "${request.agentId}" is not registered in policy ${policy.policyVersion}`);
  if (standing.suspended) return deny(suspendedReason(request.agentId), agent);

  const actionClasses = new Set<ActionClass>();
  const privilegedClasses = new Set<ActionClass>();
  const kinds = new Set<CredentialKind>();
  const statements: PolicyStatement[] = [];
  const scopeDigests: Record<string, readonly string[]> = {};
  const secrets = new Map<string, BrokeredSecret>();
  for (const scopeName of new Set(request.scopes)) {
    const scope = policy.scopes[scopeName];
    if (!scope) return deny(`scope "${scopeName}" is not defined`, agent);
    // Not the agent's first: that is the reason to give for a scope it does not hold, whatever its tier.
    if (!agent.scopes.includes(scopeName)) return deny(`scope "${scopeName}" is not allowed for agent "${request.agentId}"`, agent);
    // The policy loader refuses an agent holding a scope above its tier; kept here as a second lock.
    if (!TIER_ALLOWS[agent.riskTier].includes(scope.action)) {
      return deny(`scope "${scopeName}" is a ${scope.action} scope, above agent risk tier ${agent.riskTier}`, agent);
    }
    actionClasses.add(scope.action);
    if (scope.privileged) privilegedClasses.add(scope.action);
    kinds.add(scope.credential);
    statements.push(...scope.statements);
    scopeDigests[scopeName] = scopeStatementDigests(scope);
    for (const secret of scope.secrets) {
      const known = secrets.get(secret.arn);
      secrets.set(secret.arn, { arn: secret.arn, rotateAfterUse: secret.rotateAfterUse || (known?.rotateAfterUse ?? false) });
    }
  }
  if (kinds.size > 1) {
    return deny(
      `scopes ${request.scopes.join(', ')} need different credential kinds (${[...kinds].join(', ')}); request them in separate tasks`,
      agent,
    );
  }
  const accounts = new Set([...new Set(request.scopes)].map((scopeName) => accountOf(policy, scopeName, request.agentId)));
  if (accounts.size > 1) {
    const named = [...accounts].map((account) => account ?? "the engine's own account").join(', ');
    return deny(
      `scopes ${request.scopes.join(', ')} come from different accounts (${named}); one credential is one account: request them in separate tasks`,
      agent,
    );
  }
  const [account] = accounts;

  const ttlSeconds = request.ttlSeconds ?? agent.defaultTtlSeconds;
  if (ttlSeconds < 60) return deny(`ttlSeconds ${ttlSeconds} is below the minimum of 60`, agent);
  if (ttlSeconds > agent.maxTtlSeconds) {
    return deny(`ttlSeconds ${ttlSeconds} is above agent "${request.agentId}" maximum of ${agent.maxTtlSeconds}`, agent);
  }
  if (kinds.has('aws-sts-session') && ttlSeconds > CHAINED_SESSION_MAX_SECONDS) {
    return deny(
      `ttlSeconds ${ttlSeconds} is above ${CHAINED_SESSION_MAX_SECONDS} for an aws-sts-session credential: the engine starts sessions ` +
        'from its own role session, and STS gives a session started that way (role chaining) at most one hour; ' +
        'split the task, or use an aws-iam-access-key scope',
      agent,
    );
  }
  if (standing.liveGrants !== undefined && standing.liveGrants >= agent.maxConcurrentGrants) {
    return deny(concurrencyCapReason(request.agentId, standing.liveGrants, agent.maxConcurrentGrants), agent);
  }

  const approval = approvalNeeded(policy, [...actionClasses], privilegedClasses, [agent.owner, request.requestedBy]);
  if (approval.required > 0 && approval.eligible.length < approval.required) {
    return deny(
      `needs ${approval.required} approvals but only ${approval.eligible.length} approvers remain after excluding the owner and the requester`,
      agent,
    );
  }
  const ordered = ACTION_CLASSES.filter((action) => actionClasses.has(action));
  return {
    outcome: approval.required > 0 ? 'needs-approval' : 'auto-approved',
    agent,
    actionClasses: ordered,
    credentialKind: [...kinds][0] ?? 'aws-sts-session',
    ...(account ? { account } : {}),
    ttlSeconds,
    statements,
    scopeDigests,
    brokeredSecrets: [...secrets.values()],
    requiredApprovals: approval.required,
    eligibleApprovers: approval.eligible,
  };
}

/**
 * Every manual action class in the request must be satisfied, so the approvers needed are
 * the most any class asks for, drawn from people in every manual class's group, never
 * the agent's owner or the task's requester (separation of duties). A privileged scope
 * always needs a person: in a class without a manual rule (the policy loader refuses that,
 * but a hand-built policy could hold it) nobody is eligible, so the request is denied.
 */
function approvalNeeded(
  policy: Policy,
  classes: readonly ActionClass[],
  privileged: ReadonlySet<ActionClass>,
  excluded: readonly string[],
) {
  let required = 0;
  let eligible: string[] | undefined;
  for (const action of classes) {
    const rule = policy.approvals[action];
    if (rule.mode !== 'manual') {
      if (privileged.has(action)) {
        required = Math.max(required, 1);
        eligible = [];
      }
      continue;
    }
    required = Math.max(required, rule.approvers);
    eligible = eligible ? eligible.filter((person) => rule.approverGroup.includes(person)) : [...new Set(rule.approverGroup)];
  }
  return {
    required,
    eligible: (eligible ?? []).filter((person) => !excluded.some((name) => designates(policy.people, person, name))),
  };
}

/** Why a request is refused when its agent is suspended. */
export function suspendedReason(agentId: string): string {
  return `agent "${agentId}" is suspended`;
}

/** Why a request is refused when the agent's concurrency slots are all taken. */
export function concurrencyCapReason(agentId: string, held: number, max: number): string {
  return `agent "${agentId}" already holds ${held} live grants (maximum ${max})`;
}
