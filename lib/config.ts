// CDK config: every stack setting in one typed, validated place. Read once from the CDK
// context (`taskbound` object in cdk.json, or `-c taskbound:<key>=<value>`); fails fast with
// the key that is wrong.
import { z } from 'zod';
import { routingConfigSchema } from '../lambdas/domain/alert-routing';
import { DELIVERY_MODES } from '../lambdas/domain/delivery-item';
import { DEFAULT_RESERVED_CONCURRENCY, reservedConcurrencyPerFunction, type EntryPoint } from '../lambdas/routes';

const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const concurrencySchema = z.strictObject({
  /** Functions that create IAM users and assume roles (task-started, grant-decision). */
  issuing: z.int().min(1).max(1000),
  /** Functions that delete keys, users and secrets (task-ended, expire-grant, ...). */
  revoking: z.int().min(1).max(1000),
});

const configSchema = z
  .strictObject({
    /** Prefix of stack names, role paths and resource names; lets two engines share an account. */
    instanceName: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,19}$/, 'lower-case letters, digits and dashes, at most 20')
      .default('taskbound'),
    busName: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,256}$/, 'an EventBridge bus name')
      .default('taskbound'),
    /** The policy file (docs/contract.md §4), relative to the project root. */
    policyFile: z.string().min(1).default('examples/taskbound.policy.yaml'),
    sweepRateMinutes: z.int().min(1).max(60).default(5),
    logRetentionDays: z.union(RETENTION_DAYS.map((days) => z.literal(days))).default(30),
    logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
    serviceName: z.string().min(1).max(64).default('taskbound'),
    metricsNamespace: z
      .string()
      .regex(/^[A-Za-z0-9._/#:-]{1,255}$/)
      .default('Taskbound'),
    /** `retain` keeps the table, key and secrets when the stack is deleted. */
    removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
    /** Per-agent roles are named `<agentRolePrefix><agentId>`. */
    agentRolePrefix: z
      .string()
      .regex(/^[A-Za-z0-9+=,.@_-]{1,30}$/, 'an IAM role name prefix')
      .default('taskbound-agent-'),
    /** The Slack webhook URL or bot token; outside `taskbound/`, so no issuing function can read it. */
    slackSecretName: z
      .string()
      .regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/)
      .refine((name) => !name.startsWith('taskbound/'), 'must not start with taskbound/ (that prefix holds delivery secrets)')
      .default('taskbound-engine/slack'),
    /** Who receives alarm notifications by e-mail, besides Slack. */
    alarmEmail: z.email().optional(),
    /** Hours between Slack digests (routine events summarised), and the period each covers. */
    digestHours: z.int().min(1).max(168).default(24),
    /**
     * Which alerts go to which Slack channel (SLACK_ROUTING), as given: checked here against the schema the
     * alert functions read it with (routingConfigSchema), whose defaults they fill in.
     */
    slackRouting: z.record(z.string(), z.unknown()).optional(),
    /** Only interactions from this Slack workspace are accepted (SLACK_TEAM_ID). */
    slackTeamId: z
      .string()
      .regex(/^T[A-Z0-9]{2,30}$/, 'a Slack team id like T0123ABCD')
      .optional(),
    /**
     * Who may call the operator endpoint (the IAM-authenticated function URL behind `taskbound
     * approve|deny|resume`): exact IAM role or user ARNs such as
     * `arn:aws:iam::111122223333:role/security-operators`. The endpoint then maps each caller to a
     * person of the policy (`people.<id>.awsPrincipals`). Empty (the default): no endpoint is
     * deployed and decisions are Slack-only.
     */
    operatorPrincipalArns: z
      .array(
        z
          .string()
          .regex(
            /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]{1,512}$/,
            'an exact IAM role or user ARN (no wildcards, no sts session ARNs)',
          ),
      )
      .max(20)
      .default([]),
    /** Accounts whose agent runtimes may put events on the bus (the bus's own account always may). */
    producerAccounts: z
      .array(z.string().regex(/^\d{12}$/, 'a 12-digit account id'))
      .max(50)
      .default([]),
    /**
     * Reserved concurrency per issuing and per revoking function, so a burst cannot exhaust IAM's
     * API rate; `false` on low-quota accounts (the sweep always reserves 1). See reservedConcurrencyOf.
     */
    reservedConcurrency: z
      .union([concurrencySchema, z.literal(false)], {
        error: 'an object {"issuing": N, "revoking": N} (1-1000 each), or false',
      })
      .default({ ...DEFAULT_RESERVED_CONCURRENCY }),
    /**
     * The account's Lambda concurrent executions quota (Service Quotas, `L-B99A9384`), as far as
     * the deployer knows it: synth fails when the reservations would leave less than AWS's 100 unreserved.
     */
    lambdaConcurrencyQuota: z.int().min(10).max(1_000_000).default(1000),
    /**
     * How many containers each function paces itself as one of (QUOTA_SHARE: quota ÷ this per container,
     * docs/scale.md §4). Unset: every container that may call at once (the summed reserved concurrency),
     * which never exceeds a quota but leaves it idle when few are busy; smaller trades that for retries.
     */
    quotaShare: z.int().min(1).max(1_000_000).optional(),
    eventRetryAttempts: z.int().min(0).max(185).default(8),
    eventMaxAgeHours: z.int().min(1).max(24).default(2),
    archiveRetentionDays: z.int().min(0).max(3650).default(90),
    /**
     * How credentials reach runtimes (docs/scale.md §8): Secrets Manager secrets (the default), or
     * KMS-encrypted items of a delivery table, past Secrets Manager's 50/s per-region write quotas.
     * Runtimes then need TASKBOUND_DELIVERY_TABLE (the `DeliveryTableName` output).
     */
    deliveryMode: z.enum(DELIVERY_MODES).default('secrets-manager'),
    /**
     * How grants expire: one Scheduler schedule per grant (the default), or `due-index`: none; every
     * minute one reader per shard of the due index expires what is due (docs/scale.md §8).
     */
    expiry: z.enum(['schedule', 'due-index']).default('schedule'),
  })
  .superRefine((config, ctx) => {
    if (config.slackRouting) {
      for (const issue of routingConfigSchema.safeParse(config.slackRouting).error?.issues ?? [])
        ctx.addIssue({ code: 'custom', path: ['slackRouting', ...issue.path], message: issue.message });
    }
    if (config.producerAccounts.length !== new Set(config.producerAccounts).size) {
      ctx.addIssue({ code: 'custom', path: ['producerAccounts'], message: 'lists an account twice' });
    }
    const { total, requiredQuota } = reservedConcurrencyOf(config);
    if (requiredQuota > config.lambdaConcurrencyQuota) {
      ctx.addIssue({
        code: 'custom',
        path: ['reservedConcurrency'],
        message:
          `the functions reserve ${total} concurrent executions and AWS keeps 100 unreserved, so the account needs a Lambda concurrent executions quota ` +
          `of at least ${requiredQuota}, over lambdaConcurrencyQuota (${config.lambdaConcurrencyQuota}): lower reservedConcurrency, set it to false, ` +
          'or raise the quota (Service Quotas → AWS Lambda → Concurrent executions) and set lambdaConcurrencyQuota',
      });
    }
  });

export type TaskboundConfig = z.infer<typeof configSchema>;

/** AWS refuses a reservation that would leave fewer unreserved concurrent executions than this. */
export const UNRESERVED_MINIMUM = 100;

/** What the functions reserve: per function, in total, and the account quota that total needs. */
export interface ReservedConcurrency {
  readonly perFunction: Readonly<Partial<Record<EntryPoint, number>>>;
  readonly total: number;
  /** total + 100: a deploy on an account whose quota is lower fails (docs/deploy.md). */
  readonly requiredQuota: number;
}

/**
 * The sweep reserves 1 always (sweeps never overlap: each sees the previous one's writes); each
 * issuing and each revoking function reserves its configured share (lambdas/routes.ts, shared with
 * the local engine). The operator endpoint's function exists, and reserves, only with operators configured.
 */
export function reservedConcurrencyOf(config: Pick<TaskboundConfig, 'reservedConcurrency' | 'operatorPrincipalArns'>): ReservedConcurrency {
  const perFunction = reservedConcurrencyPerFunction(config.reservedConcurrency, config.operatorPrincipalArns.length > 0);
  const total = Object.values(perFunction).reduce((sum, reserved) => sum + reserved, 0);
  return { perFunction, total, requiredQuota: total + UNRESERVED_MINIMUM };
}

/** Raised when the CDK context holds an invalid setting; names each key and what is wrong. */
export class ConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`invalid taskbound config (CDK context "taskbound")\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** `-c taskbound:key=value` arrives as a string; JSON-shaped values become numbers, booleans, objects. */
function contextValue(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Merges the `taskbound` context object with `taskbound:<key>` overrides and validates them. */
export function loadConfig(context: Readonly<Record<string, unknown>>): TaskboundConfig {
  const base = context.taskbound ?? {};
  if (typeof base !== 'object' || base === null || Array.isArray(base)) {
    throw new ConfigError(['(top level): the "taskbound" context value must be an object']);
  }
  const overrides = Object.entries(context)
    .filter(([key]) => key.startsWith('taskbound:'))
    .map(([key, value]) => [key.slice('taskbound:'.length), contextValue(value)] as const);
  const merged: Record<string, unknown> = { ...base, ...Object.fromEntries(overrides) };
  const result = configSchema.safeParse(merged);
  if (!result.success) throw new ConfigError(configProblems(result.error.issues, merged));
  return result.data;
}

/**
 * One line per key. A list given on the command line as a bare value (`-c taskbound:producerAccounts=1111…`)
 * gets one line saying how to write a list, not zod's "expected array" and a length check of the string.
 */
function configProblems(issues: readonly z.core.$ZodIssue[], given: Readonly<Record<string, unknown>>): string[] {
  const listsAsText = new Set(
    issues
      .filter((issue) => issue.code === 'invalid_type' && issue.expected === 'array' && issue.path.length === 1)
      .map((issue) => String(issue.path[0]))
      .filter((key) => ['string', 'number'].includes(typeof given[key])),
  );
  const lines = issues
    .filter((issue) => !listsAsText.has(String(issue.path[0])))
    .map((issue) => `${issue.path.map(String).join('.') || '(top level)'}: ${issue.message}`);
  return [
    ...[...listsAsText].map(
      (key) => `${key}: a list; on the command line write it as JSON: -c 'taskbound:${key}=["${String(given[key]).slice(0, 80)}"]'`,
    ),
    ...lines,
  ];
}
