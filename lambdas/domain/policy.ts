// Domain: the policy file (docs/contract.md §4), validated on load. Every error names the file,
// the path inside it and what is wrong; the policy's version is the hash of its text.
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { PolicyError } from './errors';
import { isLeftOut, LEFT_OUT } from './left-out';
import { AGENT_ID_PATTERN, SCOPE_NAME_PATTERN } from './ids';
import { IAM_PRINCIPAL_PATTERN, PERSON_ID_PATTERN, principalKey, SLACK_USER_PATTERN } from './people';
import { privilegeReasons } from './privilege';
import { ACCOUNT_ID, refineAccounts } from './accounts';
import { CHAINED_SESSION_MAX_SECONDS, MAX_TTL_SECONDS, ttlSecondsSchema } from './ttl';

export const ACTION_CLASSES = ['read', 'write', 'deploy', 'transact'] as const;
export type ActionClass = (typeof ACTION_CLASSES)[number];
export const CREDENTIAL_KINDS = ['aws-sts-session', 'aws-iam-access-key'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];
export const RISK_TIERS = ['low', 'medium', 'high'] as const;
export type RiskTier = (typeof RISK_TIERS)[number];

/** The action classes each risk tier may hold. */
export const TIER_ALLOWS: Readonly<Record<RiskTier, readonly ActionClass[]>> = {
  low: ['read'],
  medium: ['read', 'write'],
  high: ['read', 'write', 'deploy', 'transact'],
};

const PRINCIPAL = z.string().min(3).max(256);
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
/**
 * The runtime's own IAM role or user, exactly: the delivery policy and the key policy match it
 * against `aws:PrincipalArn`, which for a session is its role's ARN, never an `sts` ARN.
 */
const RUNTIME_PRINCIPAL = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[A-Za-z0-9+=,.@_/-]+$/;
/** The account a credential comes from (hub and spoke, lambdas/domain/accounts.ts); absent = the engine's own. */
const account = z.string().regex(ACCOUNT_ID, 'an AWS account id is 12 digits').optional();
const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const statementSchema = z
  .strictObject({
    Sid: z
      .string()
      .regex(/^[A-Za-z0-9]*$/)
      .optional(),
    Effect: z.enum(['Allow', 'Deny']),
    Action: stringOrList.optional(),
    /** Only in a `privileged: true` scope. */
    NotAction: stringOrList.optional(),
    Resource: stringOrList.optional(),
    /** Only in a `privileged: true` scope. */
    NotResource: stringOrList.optional(),
    Condition: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  })
  .superRefine((statement, ctx) => {
    if ((statement.Action === undefined) === (statement.NotAction === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['Action'], message: 'a statement needs exactly one of Action and NotAction' });
    }
    if ((statement.Resource === undefined) === (statement.NotResource === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['Resource'], message: 'a statement needs exactly one of Resource and NotResource' });
    }
  });
export type PolicyStatement = z.infer<typeof statementSchema>;

const approvalRuleSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('auto') }),
  z
    .strictObject({
      mode: z.literal('manual'),
      approvers: z.int().min(1).max(5),
      approverGroup: z.array(PRINCIPAL).min(1).max(100),
    })
    .refine((rule) => new Set(rule.approverGroup).size >= rule.approvers, {
      message: 'approverGroup must name at least `approvers` different people',
    }),
]);

const scopeSchema = z
  .strictObject({
    action: z.enum(ACTION_CLASSES),
    credential: z.enum(CREDENTIAL_KINDS),
    account,
    /**
     * Says that the scope grants privilege (`*`, IAM wildcards, iam:PassRole, sts:AssumeRole*,
     * permissions management, NotAction/NotResource). Without it such a scope is refused at
     * load; with it, every request for the scope needs a manual approval.
     */
    privileged: z.boolean().default(false),
    statements: z.array(statementSchema).max(20),
    secrets: z
      .array(
        z.strictObject({
          arn: z.string().regex(SECRET_ARN, 'must be a Secrets Manager secret ARN'),
          rotateAfterUse: z.boolean().default(false),
        }),
      )
      .max(10)
      .default([]),
  })
  .superRefine((scope, ctx) => {
    if (scope.privileged) return;
    for (const [index, statement] of scope.statements.entries()) {
      for (const found of privilegeReasons(statement)) {
        ctx.addIssue({
          code: 'custom',
          path: ['statements', index, found.field, ...(found.index === undefined ? [] : [found.index])],
          message: `${found.reason}; a scope that grants privilege must say \`privileged: true\` (and then always needs manual approval)`,
        });
      }
    }
  });
export type Scope = z.infer<typeof scopeSchema>;

/** A person who may decide: the AWS principals and Slack users the engine authenticates as them. */
const personSchema = z
  .strictObject({
    awsPrincipals: z
      .array(z.string().regex(IAM_PRINCIPAL_PATTERN, 'must be an IAM role or user ARN (arn:aws:iam::ACCOUNT:role/NAME), no wildcards'))
      .max(20)
      .default([]),
    slackUserIds: z.array(z.string().regex(SLACK_USER_PATTERN, 'must be a Slack user id like U0123ABCD')).max(20).default([]),
  })
  .refine((person) => person.awsPrincipals.length + person.slackUserIds.length > 0, {
    message: 'declares no awsPrincipals and no slackUserIds: this person could never be authenticated',
  });

const agentSchema = z
  .strictObject({
    owner: PRINCIPAL,
    purpose: z.string().min(1).max(1024),
    riskTier: z.enum(RISK_TIERS),
    /** The default account of this agent's scopes. */
    account,
    runtimePrincipal: z
      .string()
      .regex(
        RUNTIME_PRINCIPAL,
        'must be an IAM role or user ARN without wildcards (arn:aws:iam::<account>:role/<name>); an sts assumed-role ARN names one session, and aws:PrincipalArn never equals it',
      ),
    scopes: z.array(z.string().regex(SCOPE_NAME_PATTERN)).min(1).max(50),
    maxTtlSeconds: ttlSecondsSchema(),
    defaultTtlSeconds: ttlSecondsSchema(),
    maxConcurrentGrants: z.int().min(1).max(1000),
  })
  .refine((agent) => agent.defaultTtlSeconds <= agent.maxTtlSeconds, {
    message: 'defaultTtlSeconds must not exceed maxTtlSeconds',
    path: ['defaultTtlSeconds'],
  });
export type Agent = z.infer<typeof agentSchema>;

const policySchema = z
  .strictObject({
    version: z.literal(1),
    /** How long a request may wait for approval before it is denied. */
    approvalTimeoutSeconds: z
      .int()
      .min(60)
      .max(7 * 86_400)
      .default(3600),
    approvals: z.strictObject({
      read: approvalRuleSchema,
      write: approvalRuleSchema,
      deploy: approvalRuleSchema,
      transact: approvalRuleSchema,
    }),
    scopes: z.record(z.string().regex(SCOPE_NAME_PATTERN, 'scope names are lower-case letters, digits and dashes'), scopeSchema),
    agents: z.record(z.string().regex(AGENT_ID_PATTERN, 'agent ids are lower-case letters, digits and dashes'), agentSchema),
    /** Who may decide, and how the engine recognises them (operator endpoint, Slack). */
    people: z.record(z.string(), personSchema).default({}),
    /**
     * Accounts taken out of service: nothing is issued there any more (no scope or agent may name
     * one), but the engine still reaches them to revoke, prove dead and reconcile what lives there.
     */
    retiredAccounts: z.array(z.string().regex(ACCOUNT_ID, 'an AWS account id is 12 digits')).max(100).optional(),
  })
  .superRefine((policy, ctx) => {
    checkPeople(policy, ctx);
    for (const [scopeName, scope] of Object.entries(policy.scopes)) {
      if (scope.privileged && policy.approvals[scope.action].mode !== 'manual') {
        ctx.addIssue({
          code: 'custom',
          path: ['scopes', scopeName, 'privileged'],
          message: `a privileged scope always needs manual approval, but approvals.${scope.action} is auto; set approvals.${scope.action}.mode to manual or give the scope a class that has it`,
        });
      }
    }
    for (const [agentId, agent] of Object.entries(policy.agents)) {
      for (const [index, scopeName] of agent.scopes.entries()) {
        const scope = policy.scopes[scopeName];
        const path = ['agents', agentId, 'scopes', index];
        if (!scope) {
          ctx.addIssue({ code: 'custom', path, message: `scope "${scopeName}" is not defined under scopes` });
        } else if (!TIER_ALLOWS[agent.riskTier].includes(scope.action)) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: `scope "${scopeName}" is a ${scope.action} scope, above risk tier ${agent.riskTier} (allows ${TIER_ALLOWS[agent.riskTier].join(', ')})`,
          });
        } else {
          const short = approversShort(policy.approvals[scope.action], agent.owner);
          if (short) ctx.addIssue({ code: 'custom', path, message: `scope "${scopeName}" (${scope.action}) ${short}` });
        }
      }
      // Only sessions, so a task past an hour could never be issued (evaluate.ts denies it): say so at load.
      const sessionsOnly = agent.scopes.every((scopeName) => policy.scopes[scopeName]?.credential === 'aws-sts-session');
      if (sessionsOnly && agent.maxTtlSeconds > CHAINED_SESSION_MAX_SECONDS) {
        ctx.addIssue({
          code: 'custom',
          path: ['agents', agentId, 'maxTtlSeconds'],
          message:
            `at most ${CHAINED_SESSION_MAX_SECONDS} for an agent whose scopes are all aws-sts-session: the engine starts sessions from ` +
            'its own role session, and STS gives a session started that way (role chaining) at most one hour',
        });
      }
    }
  })
  .superRefine(refineAccounts);

/**
 * The owner may never decide their agent's grants: a group that leaves too few besides them denies
 * every request for the scope at once, which is a policy mistake to refuse at load, not at 3 a.m.
 */
function approversShort(rule: z.infer<typeof approvalRuleSchema>, owner: string): string | undefined {
  if (rule.mode !== 'manual') return undefined;
  const eligible = new Set(rule.approverGroup.filter((member) => member !== owner));
  if (eligible.size >= rule.approvers) return undefined;
  return (
    `needs ${rule.approvers} approval(s), but its approver group has ${eligible.size} besides the agent's owner ${owner}, ` +
    'who may not decide: every request would be denied. Add people to the group, lower approvers, or give the agent another owner'
  );
}

type Checked = Pick<z.infer<typeof policySchema>, 'approvals' | 'people'>;

/** Approvers must be declared people, and no principal or Slack user may stand for two people. */
function checkPeople(policy: Checked, ctx: z.RefinementCtx): void {
  for (const [actionClass, rule] of Object.entries(policy.approvals)) {
    if (rule.mode !== 'manual') continue;
    for (const [index, member] of rule.approverGroup.entries()) {
      if (!Object.hasOwn(policy.people, member)) {
        ctx.addIssue({
          code: 'custom',
          path: ['approvals', actionClass, 'approverGroup', index],
          message: `"${member}" is not declared under people`,
        });
      }
    }
  }
  const owners = new Map<string, string>();
  for (const [personId, person] of Object.entries(policy.people)) {
    // Checked here rather than as the record's key schema, whose message zod does not pass on.
    if (!PERSON_ID_PATTERN.test(personId))
      ctx.addIssue({ code: 'custom', path: ['people', personId], message: 'person ids look like e-mail addresses (name@example.com)' });
    const identities = [
      ...person.awsPrincipals.map((arn, index) => ({
        key: `aws:${principalKey(arn) ?? arn}`,
        path: ['people', personId, 'awsPrincipals', index],
        shown: arn,
      })),
      ...person.slackUserIds.map((id, index) => ({ key: `slack:${id}`, path: ['people', personId, 'slackUserIds', index], shown: id })),
    ];
    for (const identity of identities) {
      const owner = owners.get(identity.key);
      if (owner !== undefined) {
        const also = owner === personId ? 'twice for this person' : `already for ${owner}`;
        ctx.addIssue({
          code: 'custom',
          path: identity.path,
          message: `${identity.shown} is declared ${also}; a principal or Slack user stands for one person only`,
        });
      } else {
        owners.set(identity.key, personId);
      }
    }
  }
}

export type PolicyDocument = z.infer<typeof policySchema>;

/** A validated policy and the version (hash) every grant records. */
export interface Policy extends PolicyDocument {
  readonly policyVersion: string;
  readonly source: string;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.');
}

const samePath = (a: readonly PropertyKey[], b: readonly PropertyKey[]) => a.length === b.length && a.every((key, i) => key === b[i]);

/**
 * zod's words, except where a person editing YAML needs others: a key left out is "required, not
 * given" (not "expected number, received undefined"), and an unknown key spelled like a required one
 * that is missing beside it (`maxTTLSeconds` for `maxTtlSeconds`) names it.
 */
function issueText(issue: z.core.$ZodIssue, document: unknown, issues: readonly z.core.$ZodIssue[]): string {
  if (isLeftOut(issue, document)) return LEFT_OUT;
  if (issue.code !== 'unrecognized_keys') return issue.message;
  const missing = issues
    .filter((other) => samePath(other.path.slice(0, -1), issue.path) && isLeftOut(other, document))
    .map((other) => String(other.path[other.path.length - 1]));
  const meant = issue.keys.flatMap((key) => missing.filter((candidate) => candidate.toLowerCase() === key.toLowerCase()));
  return meant.length > 0 ? `${issue.message} (did you mean ${meant.map((key) => `"${key}"`).join(' and ')}?)` : issue.message;
}

/** The version every grant records: the SHA-256 of the policy file's exact text. */
export function policyVersionOf(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/**
 * Validates an already parsed policy document. Throws PolicyError naming file, path and
 * problem. Lambdas use this on the document compiled in at bundle time (no YAML parser).
 */
export function policyFromDocument(document: unknown, file: string, policyVersion: string): Policy {
  const result = policySchema.safeParse(document);
  if (!result.success) {
    throw new PolicyError(
      file,
      result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issueText(issue, document, result.error.issues)}`),
    );
  }
  return { ...result.data, policyVersion, source: file };
}

/** An agent role's MaxSessionDuration for an agent's longest task: IAM allows 3,600 to 43,200 s. */
export function roleMaxSessionSeconds(maxTtlSeconds: number): number {
  return Math.max(3600, Math.min(MAX_TTL_SECONDS, maxTtlSeconds));
}

/**
 * The longest session the engine asks STS for, across the policy's agents: no task outlives its
 * agent's `maxTtlSeconds`, and each agent role's MaxSessionDuration covers that (docs/deploy.md).
 * It also bounds how long after a revocation a session could still be used (the misuse check's window).
 */
export function longestRoleSessionSeconds(policy: Pick<Policy, 'agents'>): number {
  return roleMaxSessionSeconds(Math.max(0, ...Object.values(policy.agents).map((agent) => agent.maxTtlSeconds)));
}
