// Composition (AWS): each engine function's configuration, read from its environment and validated
// whole on the first invocation (fail fast, naming every variable that is wrong; no silent default
// for what the stack sets). Three kinds of engine function read three nested sets: the revoking
// ones (revoke, cancel expiry, deliver `denied`), the expiring ones (also re-arm an early expiry),
// the issuing ones (also create bounded users). lib/constructs/functions/environment.ts sets exactly these.
import * as z from 'zod';
import { policyFromDocument, type Policy } from '../domain/policy';
import { DEFAULT_USE_CHECK_TIMING } from '../domain/use-after-revocation';
import { DELIVERY_MODES } from '../domain/delivery-item';

/** What an engine function does beyond revoking decides what it is configured with. */
export type EngineRole = 'revoking' | 'expiring' | 'issuing';

const arn = z.string().startsWith('arn:');

/** What every engine function reads: the store, the bus, the accounts, deliveries, the canary, cancelling expiry. */
const REVOKING_SHAPE = {
  AWS_REGION: z.string().min(1),
  TABLE_NAME: z.string().min(3),
  EVENT_BUS_NAME: z.string().min(1),
  ACCOUNT_ID: z.string().regex(/^\d{12}$/),
  /** Names the spoke roles and boundaries in every account the policy names (lib/stacks/spoke-stack.ts). */
  INSTANCE_NAME: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/),
  /** The agent roles a session deny is written on (revoking) and sessions are taken from (issuing). */
  AGENT_ROLE_PREFIX: z.string().min(1),
  /** The longest session asked of STS (the policy's longest task, set by the stack): no default, a wrong one cuts sessions short. */
  AGENT_ROLE_MAX_SESSION_SECONDS: z.coerce.number().int().min(900).max(43_200),
  /** Characters the revoked-sessions deny may use per agent role; measured from each role's other inline policies when unset. */
  AGENT_ROLE_DENY_BUDGET_CHARS: z.coerce.number().int().min(500).max(10_240).optional(),
  DELIVERY_KMS_KEY_ARN: arn.optional(),
  /** The engine roles' exact ARNs, comma-separated: the only principals besides the runtime a delivery admits. */
  ENGINE_ROLE_ARNS: z
    .string()
    .transform((value) => value.split(','))
    .pipe(z.array(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[^*?]+$/, 'an exact IAM role ARN')).min(1)),
  /** Secrets Manager secrets, or KMS-encrypted items of DELIVERY_TABLE_NAME under DELIVERY_KMS_KEY_ARN (docs/scale.md §8). */
  DELIVERY_MODE: z.enum(DELIVERY_MODES),
  DELIVERY_TABLE_NAME: z.string().min(3).optional(),
  /** One Scheduler schedule per grant, or none: the per-minute due-index readers expire grants (docs/scale.md §8). */
  EXPIRY_MODE: z.enum(['schedule', 'due-index']),
  /** Where the grants' schedules are: cancelling one needs only this. */
  SCHEDULER_GROUP: z.string().min(1).optional(),
  /** The secret every session may describe: the probe that proves a revoked session dead (the stack sets it: no default to drift from it). */
  CANARY_SECRET_NAME: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/),
  /** How late CloudTrail may deliver a call's record (AWS: "an average of about 5 minutes", not guaranteed). */
  USE_CHECK_DELIVERY_LAG_MINUTES: z.coerce
    .number()
    .int()
    .min(5)
    .max(24 * 60)
    .default(DEFAULT_USE_CHECK_TIMING.deliveryLagMs / 60_000),
  USE_CHECK_INTERVAL_MINUTES: z.coerce
    .number()
    .int()
    .min(5)
    .max(24 * 60)
    .default(DEFAULT_USE_CHECK_TIMING.intervalMs / 60_000),
  /**
   * How many containers may call the paced services at once (the stack sums the functions' reserved
   * concurrency): each container paces itself to the documented quota ÷ this (docs/scale.md §4).
   */
  QUOTA_SHARE: z.coerce.number().int().min(1).max(1_000_000),
};

/** What arming a schedule adds (EXPIRY_MODE=schedule): the function it invokes, the role it passes, the dead-letter queue. */
const ARMING_SHAPE = { SCHEDULER_ROLE_ARN: arn.optional(), EXPIRE_FUNCTION_ARN: arn.optional(), SCHEDULER_DLQ_ARN: arn.optional() };
const ARMING = ['SCHEDULER_ROLE_ARN', 'EXPIRE_FUNCTION_ARN', 'SCHEDULER_DLQ_ARN'] as const;

/** What issuing adds: the boundary every grant user is created under. */
const ISSUING_SHAPE = { PERMISSIONS_BOUNDARY_ARN: arn };

/** Each role's variables: a role reads its own and those of the roles it extends. */
export const ENGINE_SHAPES = {
  revoking: REVOKING_SHAPE,
  expiring: { ...REVOKING_SHAPE, ...ARMING_SHAPE },
  issuing: { ...REVOKING_SHAPE, ...ARMING_SHAPE, ...ISSUING_SHAPE },
} as const satisfies Record<EngineRole, z.ZodRawShape>;

/** The variables every engine function reads, validated. */
export type EngineEnvironment = z.output<z.ZodObject<typeof REVOKING_SHAPE>>;

/** Where an armed schedule points (EXPIRY_MODE=schedule, expiring and issuing functions only). */
export interface ScheduleArming {
  readonly schedulerRoleArn: string;
  readonly expireFunctionArn: string;
  readonly deadLetterQueueArn: string;
}

/** One engine function's validated configuration: the shared part, and what its role adds. */
export interface EngineConfiguration {
  readonly role: EngineRole;
  readonly env: EngineEnvironment;
  /** Present for the expiring and issuing functions in the `schedule` mode. */
  readonly arming?: ScheduleArming;
  /** Present for the issuing functions only. */
  readonly permissionsBoundaryArn?: string;
}

/** Validates the whole of one function's configuration, naming every variable that is wrong. */
export function configuration<S extends z.ZodType>(schema: S, source: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** Each mode's own settings, named when missing: no silent default. */
function requireModeSettings(role: EngineRole) {
  return (env: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const required = (names: readonly string[], mode: string) => {
      for (const name of names)
        if (env[name] === undefined) ctx.addIssue({ code: 'custom', path: [name], message: `required with ${mode}` });
    };
    if (env.DELIVERY_MODE === 'dynamodb-kms') required(['DELIVERY_TABLE_NAME', 'DELIVERY_KMS_KEY_ARN'], 'DELIVERY_MODE=dynamodb-kms');
    if (env.EXPIRY_MODE === 'schedule') required(['SCHEDULER_GROUP', ...(role === 'revoking' ? [] : ARMING)], 'EXPIRY_MODE=schedule');
  };
}

/** `role`'s configuration from the environment; throws naming each missing or malformed variable. */
export function engineConfiguration(role: EngineRole, source: NodeJS.ProcessEnv = process.env): EngineConfiguration {
  const parsed = configuration(z.object(ENGINE_SHAPES[role]).superRefine(requireModeSettings(role)), source) as EngineEnvironment &
    Partial<Record<(typeof ARMING)[number] | 'PERMISSIONS_BOUNDARY_ARN', string>>;
  const { SCHEDULER_ROLE_ARN, EXPIRE_FUNCTION_ARN, SCHEDULER_DLQ_ARN, PERMISSIONS_BOUNDARY_ARN, ...env } = parsed;
  const armed = role !== 'revoking' && env.EXPIRY_MODE === 'schedule';
  return {
    role,
    env,
    // The refinement guarantees all three in the schedule mode.
    ...(armed
      ? {
          arming: {
            schedulerRoleArn: SCHEDULER_ROLE_ARN!,
            expireFunctionArn: EXPIRE_FUNCTION_ARN!,
            deadLetterQueueArn: SCHEDULER_DLQ_ARN!,
          },
        }
      : {}),
    ...(PERMISSIONS_BOUNDARY_ARN ? { permissionsBoundaryArn: PERMISSIONS_BOUNDARY_ARN } : {}),
  };
}

/** The policy document, substituted at bundle time (lib/bundling.ts), validated again here. */
export function bundledPolicy(): Policy {
  const compiled = process.env.TASKBOUND_POLICY;
  if (!compiled) throw new Error('the policy was not bundled: build with lib/bundling.ts');
  const { file, policyVersion, document } = JSON.parse(compiled) as { file: string; policyVersion: string; document: unknown };
  return policyFromDocument(document, file, policyVersion);
}
