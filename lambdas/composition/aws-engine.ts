// Composition (AWS): the composition root for every Lambda function: the engine's (which the
// operator endpoint shares), the alerts' and Slack's interactions. Each part's configuration is read and validated whole on the first
// invocation (fail fast, naming the variable; no silent defaults), and its adapters are built
// once per container. The policy text is bundled at build time (esbuild `define`).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { policyFromDocument, type Policy } from '../domain/policy';
import type { EngineDeps, RefusalDeps } from '../use-cases/engine-deps';
import { DynamoDbGrantStore } from '../adapters/aws/dynamodb-grant-store';
import { createIamClient, createStsClient } from '../adapters/aws/aws-clients';
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { StsSessionIssuer, type SessionCanary } from '../adapters/aws/sts-session-issuer';
import { RoleInlinePolicyBudget } from '../adapters/aws/role-inline-policy-budget';
import { REVOKED_SESSIONS_POLICY_NAME } from '../adapters/aws/revoked-sessions-policy';
import { IamAccessKeyIssuer } from '../adapters/aws/iam-access-key-issuer';
import { StsCredentialProbe } from '../adapters/aws/sts-credential-probe';
import { spokeCredentials } from '../adapters/aws/spoke-credentials';
import { accountsNamed, spokeBoundaryArn, spokeEngineRoleArn } from '../domain/accounts';
import { accountIssuers } from './account-issuers';
import { SecretsManagerCanaryProbe } from '../adapters/aws/canary-probe';
import { DEFAULT_USE_CHECK_TIMING } from '../domain/use-after-revocation';
import { SecretsManagerDeliveryVault } from '../adapters/aws/secrets-manager-delivery-vault';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDbKmsDeliveryVault } from '../adapters/aws/dynamodb-kms-delivery-vault';
import { DELIVERY_MODES } from '../domain/delivery-item';
import type { Clock, DeliveryVault } from '../ports';
import { SecretsManagerRotator } from '../adapters/aws/secrets-manager-rotator';
import { EventBridgePublisher } from '../adapters/aws/eventbridge-publisher';
import { EventBridgeSchedulerExpiry } from '../adapters/aws/scheduler-expiry';
import { TtlMarkerExpiry } from '../adapters/aws/ttl-marker-expiry';
import { CompositeExpiry } from '../adapters/aws/composite-expiry';
import { systemClock } from '../adapters/system-clock';
import { DynamoDbApprovalMessages } from '../adapters/slack/dynamodb-approval-messages';
import type { SlackDecisionConfig } from '../use-cases/slack-decision';
import { inMemoryReplayStore, type ReplayStore } from '../adapters/slack/signature';
import { cachedSlackSecret, loadSlackSettings, notifierFor, SlackConfigError, type SlackSettings } from '../adapters/slack/slack-config';
import { SlackNotifier } from '../adapters/slack/slack-notifier';
import type { AlertDeps } from '../use-cases/send-alert';
import type { DigestDeps } from '../use-cases/build-digest';
import type { HealthDeps } from '../use-cases/post-health';
import { engineLogger } from './logger';
import { laneAwareRetryStrategy, QuotaThrottle } from '../adapters/aws/quota-throttle';
import { scaledQuotas } from '../adapters/aws/documented-quotas';
import { CONTROL_PLANE_MAX_ATTEMPTS } from '../adapters/aws/aws-clients';

const environmentSchema = z.object({
  AWS_REGION: z.string().min(1),
  TABLE_NAME: z.string().min(3),
  EVENT_BUS_NAME: z.string().min(1),
  ACCOUNT_ID: z.string().regex(/^\d{12}$/),
  /** Names the spoke roles and boundaries in every account the policy names (lib/stacks/spoke-stack.ts). */
  INSTANCE_NAME: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/),
  AGENT_ROLE_PREFIX: z.string().min(1).default('taskbound-agent-'),
  AGENT_ROLE_MAX_SESSION_SECONDS: z.coerce.number().int().min(900).max(43_200).default(3600),
  /** Characters the revoked-sessions deny may use per agent role; measured from each role's other inline policies when unset. */
  AGENT_ROLE_DENY_BUDGET_CHARS: z.coerce.number().int().min(500).max(10_240).optional(),
  PERMISSIONS_BOUNDARY_ARN: z.string().startsWith('arn:'),
  DELIVERY_KMS_KEY_ARN: z.string().startsWith('arn:').optional(),
  /** The engine roles' exact ARNs, comma-separated: the only principals besides the runtime a delivery admits. */
  ENGINE_ROLE_ARNS: z
    .string()
    .transform((value) => value.split(','))
    .pipe(z.array(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[^*?]+$/, 'an exact IAM role ARN')).min(1)),
  /** Secrets Manager secrets, or KMS-encrypted items of DELIVERY_TABLE_NAME under DELIVERY_KMS_KEY_ARN (docs/scale.md §8). */
  DELIVERY_MODE: z.enum(DELIVERY_MODES).default('secrets-manager'),
  DELIVERY_TABLE_NAME: z.string().min(3).optional(),
  /** One Scheduler schedule per grant, or none: the per-minute due-index readers expire grants (docs/scale.md §8). */
  EXPIRY_MODE: z.enum(['schedule', 'due-index']).default('schedule'),
  SCHEDULER_GROUP: z.string().min(1).optional(),
  SCHEDULER_ROLE_ARN: z.string().startsWith('arn:').optional(),
  EXPIRE_FUNCTION_ARN: z.string().startsWith('arn:').optional(),
  SCHEDULER_DLQ_ARN: z.string().startsWith('arn:').optional(),
  /** The secret every session may describe: the probe that proves a revoked session dead (the stack sets it: no default to drift from it). */
  CANARY_SECRET_NAME: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/),
  /** How late CloudTrail may deliver a call's record (AWS: "an average of about 5 minutes", not guaranteed). */
  USE_CHECK_DELIVERY_LAG_MINUTES: z.coerce.number().int().min(5).max(24 * 60).default(DEFAULT_USE_CHECK_TIMING.deliveryLagMs / 60_000),
  USE_CHECK_INTERVAL_MINUTES: z.coerce.number().int().min(5).max(24 * 60).default(DEFAULT_USE_CHECK_TIMING.intervalMs / 60_000),
  /**
   * How many containers may call the paced services at once (the stack sums the functions' reserved
   * concurrency): each container paces itself to the documented quota ÷ this (docs/scale.md §4).
   */
  QUOTA_SHARE: z.coerce.number().int().min(1).max(1_000_000),
}).superRefine((env, ctx) => {
  // Each mode's own settings, named when missing: no silent default.
  const required = (names: readonly (keyof typeof env)[], mode: string) => {
    for (const name of names) if (env[name] === undefined) ctx.addIssue({ code: 'custom', path: [name], message: `required with ${mode}` });
  };
  if (env.DELIVERY_MODE === 'dynamodb-kms') required(['DELIVERY_TABLE_NAME', 'DELIVERY_KMS_KEY_ARN'], 'DELIVERY_MODE=dynamodb-kms');
  if (env.EXPIRY_MODE === 'schedule') required(['SCHEDULER_GROUP', 'SCHEDULER_ROLE_ARN', 'EXPIRE_FUNCTION_ARN', 'SCHEDULER_DLQ_ARN'], 'EXPIRY_MODE=schedule');
});

type EngineEnvironment = z.infer<typeof environmentSchema>;

/** What the alerts function needs beyond the Slack settings: the grant table keeps approval threads. */
const alertsEnvironmentSchema = z.object({ AWS_REGION: z.string().min(1), TABLE_NAME: z.string().min(3) });

/** The digest reads the grant table and posts as the alerts do; DIGEST_HOURS is set by the stack. */
const digestEnvironmentSchema = z.object({ AWS_REGION: z.string().min(1), TABLE_NAME: z.string().min(3), DIGEST_HOURS: z.coerce.number().int().min(1).max(168) });

/** Validates the whole of one function's configuration, naming every variable that is wrong. */
function configuration<S extends z.ZodType>(schema: S): z.infer<S> {
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** The policy document, substituted at bundle time (lib/bundling.ts), validated again here. */
function bundledPolicy(): Policy {
  const compiled = process.env.TASKBOUND_POLICY;
  if (!compiled) throw new Error('the policy was not bundled: build with lib/bundling.ts');
  const { file, policyVersion, document } = JSON.parse(compiled) as { file: string; policyVersion: string; document: unknown };
  return policyFromDocument(document, file, policyVersion);
}

/** What every account's issuers share: the hub's own STS client (it assumes the spoke roles too), the probes. */
interface SharedByAccounts {
  readonly hubSts: STSClient;
  readonly probe: StsCredentialProbe;
  /** The session canary of each account: every spoke stack creates its own (lib/stacks/spoke-stack.ts). */
  readonly canaryIn: (account: string) => SessionCanary;
}

/**
 * The session canary in one account: its secret is `CANARY_SECRET_NAME` there, named by its
 * partial ARN so the probe reads that account's canary whatever the session's account.
 */
function canaryIn(env: z.infer<typeof environmentSchema>, account: string): SessionCanary {
  const arn = `arn:aws:secretsmanager:${env.AWS_REGION}:${account}:secret:${env.CANARY_SECRET_NAME}`;
  return { secretArnPattern: `${arn}-??????`, probe: new SecretsManagerCanaryProbe({ region: env.AWS_REGION, canarySecretId: arn }) };
}

let hubStsClient: STSClient | undefined;
/** The function's own STS client: it assumes the agent roles in the hub and the engine role of every spoke. */
const hubSts = (region: string) => (hubStsClient ??= createStsClient({ region }));
const spokeSessions = new Map<string, AwsCredentialIdentityProvider>();

/**
 * The hub engine's credentials in a spoke (its engine role, one cached session per account per
 * container), shared by the issuers and the sweep's CloudTrail reader so both cost one AssumeRole.
 */
export function spokeCredentialsFor(account: string): AwsCredentialIdentityProvider {
  const env = configuration(environmentSchema);
  let provider = spokeSessions.get(account);
  if (!provider) {
    provider = spokeCredentials({ sts: hubSts(env.AWS_REGION), roleArn: spokeEngineRoleArn(account, env.INSTANCE_NAME), clock: systemClock });
    spokeSessions.set(account, provider);
  }
  return provider;
}

/** Issuers in the engine's own account, or in a spoke through its engine role (cached session). */
function issuersIn(env: EngineEnvironment, account: string, shared: SharedByAccounts): EngineDeps['issuers'] {
  const region = env.AWS_REGION;
  const clock = systemClock;
  const hub = account === env.ACCOUNT_ID;
  const credentials = hub ? {} : { credentials: spokeCredentialsFor(account) };
  const iam = createIamClient({ region, ...credentials });
  // Each account's roles have their own inline-policy budget for the revoked-sessions deny.
  const roleBudgets = new RoleInlinePolicyBudget(iam, clock, REVOKED_SESSIONS_POLICY_NAME);
  return {
    'aws-sts-session': new StsSessionIssuer({
      sts: hub ? shared.hubSts : createStsClient({ region, ...credentials }),
      iam,
      clock,
      accountId: account,
      rolePrefix: env.AGENT_ROLE_PREFIX,
      roleMaxSessionSeconds: env.AGENT_ROLE_MAX_SESSION_SECONDS,
      canary: shared.canaryIn(account),
      revocationPolicyMaxChars: env.AGENT_ROLE_DENY_BUDGET_CHARS ?? ((roleName) => roleBudgets.of(roleName)),
    }),
    'aws-iam-access-key': new IamAccessKeyIssuer({
      iam,
      clock,
      permissionsBoundaryArn: hub ? env.PERMISSIONS_BOUNDARY_ARN : spokeBoundaryArn(account, env.INSTANCE_NAME),
      probe: shared.probe,
    }),
  };
}

function buildEngine(): EngineDeps {
  const env = configuration(environmentSchema);
  const region = env.AWS_REGION;
  const clock = systemClock;
  const policy = bundledPolicy();
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region }), { marshallOptions: { removeUndefinedValues: true } });
  const shared: SharedByAccounts = {
    hubSts: hubSts(region),
    // A probe signs with the credential it probes, whatever its account: one (and one connection pool) serves them all.
    probe: new StsCredentialProbe({ region }),
    canaryIn: (account) => canaryIn(env, account),
  };
  const paced = pacedClients(env);
  const secrets = paced(new SecretsManagerClient({ region, ...paced.retries }), 'secretsmanager');
  return {
    policy,
    clock,
    logger: engineLogger,
    useCheckTiming: {
      deliveryLagMs: env.USE_CHECK_DELIVERY_LAG_MINUTES * 60_000,
      intervalMs: env.USE_CHECK_INTERVAL_MINUTES * 60_000,
      longestSessionMs: env.AGENT_ROLE_MAX_SESSION_SECONDS * 1000,
    },
    store: new DynamoDbGrantStore({ client: documents, tableName: env.TABLE_NAME }),
    // Each account's sessions carry (and are proven dead by) that account's own canary secret.
    issuers: accountIssuers({ hubAccount: env.ACCOUNT_ID, spokeAccounts: accountsNamed(policy), issuersIn: (account) => issuersIn(env, account, shared) }),
    vault: deliveryVault(env, documents, secrets),
    rotator: new SecretsManagerRotator(secrets),
    events: new EventBridgePublisher(paced(new EventBridgeClient({ region, ...paced.retries }), 'events'), { eventBusName: env.EVENT_BUS_NAME }),
    expiry: new CompositeExpiry({
      ...(env.EXPIRY_MODE === 'schedule' ? { schedule: schedulerExpiry(env, paced) } : {}),
      // The backstop in either mode; in `due-index` mode the per-minute shard readers are the precise path.
      ttlMarker: new TtlMarkerExpiry(documents, { tableName: env.TABLE_NAME }),
    }),
  };
}

/** Paces a client to this container's share of the documented quotas; `retries` is the lane-aware retry mode. */
interface Pacing {
  <C>(client: C, service: 'secretsmanager' | 'events' | 'scheduler'): C;
  readonly retries: { readonly retryStrategy: ReturnType<typeof laneAwareRetryStrategy> };
}

/**
 * One set of token buckets per container, shared by its Secrets Manager, EventBridge and Scheduler
 * clients: the quotas are per account and region, and QUOTA_SHARE containers may call at once, so
 * each takes quota ÷ QUOTA_SHARE. Revoking functions run in the revocation lane (their handlers),
 * served first. Issuance retries in the SDK's adaptive mode, revocation in standard mode.
 * IAM and STS stay unpaced: AWS documents no per-second rate for their calls (documented-quotas.ts).
 */
function pacedClients(env: EngineEnvironment): Pacing {
  const throttle = new QuotaThrottle({ quotas: scaledQuotas(1 / env.QUOTA_SHARE) });
  const pace = <C>(client: C, service: string) => throttle.attach(client, service);
  return Object.assign(pace, { retries: { retryStrategy: laneAwareRetryStrategy(CONTROL_PLANE_MAX_ATTEMPTS) } });
}

/** One Scheduler schedule per grant (EXPIRY_MODE=schedule; the refinement guarantees its settings). */
function schedulerExpiry(env: EngineEnvironment, paced: Pacing): EventBridgeSchedulerExpiry {
  return new EventBridgeSchedulerExpiry(paced(new SchedulerClient({ region: env.AWS_REGION, ...paced.retries }), 'scheduler'), {
    groupName: env.SCHEDULER_GROUP!,
    expireFunctionArn: env.EXPIRE_FUNCTION_ARN!,
    schedulerRoleArn: env.SCHEDULER_ROLE_ARN!,
    deadLetterQueueArn: env.SCHEDULER_DLQ_ARN!,
    clock: systemClock,
  });
}

/** The deployment's delivery mode: Secrets Manager secrets, or KMS-encrypted items of the delivery table. */
function deliveryVault(env: EngineEnvironment, documents: DynamoDBDocumentClient, secrets: SecretsManagerClient): DeliveryVault {
  if (env.DELIVERY_MODE === 'dynamodb-kms') {
    return new DynamoDbKmsDeliveryVault(documents, new KMSClient({ region: env.AWS_REGION }), {
      tableName: env.DELIVERY_TABLE_NAME!,
      keyId: env.DELIVERY_KMS_KEY_ARN!,
      clock: systemClock,
    });
  }
  return new SecretsManagerDeliveryVault(secrets, {
    enginePrincipalArns: env.ENGINE_ROLE_ARNS,
    ...(env.DELIVERY_KMS_KEY_ARN ? { kmsKeyArn: env.DELIVERY_KMS_KEY_ARN } : {}),
  });
}

let engine: EngineDeps | undefined;

/** Built on first use, so importing a handler (tests, the local engine) has no side effect. */
export async function awsEngine(): Promise<EngineDeps> {
  engine ??= buildEngine();
  return engine;
}

let refusals: RefusalDeps | undefined;

/** The grant-decision function's dependencies: the grant table, the bus and the clock, nothing that issues or revokes. */
export async function awsRefusals(): Promise<RefusalDeps> {
  refusals ??= (() => {
    // What refusing needs: the grant it names and the bus it answers on. Declared here, not at the
    // top, so the other functions' bundles (which never refuse) leave it out.
    const env = configuration(z.object({ AWS_REGION: z.string().min(1), TABLE_NAME: z.string().min(3), EVENT_BUS_NAME: z.string().min(1) }));
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: env.AWS_REGION }), { marshallOptions: { removeUndefinedValues: true } });
    return {
      store: new DynamoDbGrantStore({ client: documents, tableName: env.TABLE_NAME }),
      events: new EventBridgePublisher(new EventBridgeClient({ region: env.AWS_REGION }), { eventBusName: env.EVENT_BUS_NAME }),
      clock: systemClock,
    };
  })();
  return refusals;
}

/** What the interaction endpoint needs: the engine it decides with, the signing secret and replay memory. */
export interface SlackInteractionsDeps {
  readonly engine: () => Promise<EngineDeps>;
  readonly config: SlackDecisionConfig;
  readonly signingSecret: () => Promise<string>;
  readonly replay: ReplayStore;
  readonly clock: Clock;
}

let alertsTable: DynamoDBDocumentClient | undefined;

/** The grant table's client for the alerts' approval threads and, in the digest function, its store: one per container. */
const alertsTableClient = (region: string) => (alertsTable ??= DynamoDBDocumentClient.from(new DynamoDBClient({ region })));

/** SLACK_SECRET_ARN, SLACK_ROUTING and TABLE_NAME; the Slack secret is read on first use and cached. */
function buildAlerts(): () => Promise<AlertDeps> {
  const env = configuration(alertsEnvironmentSchema);
  const settings: SlackSettings = loadSlackSettings(process.env);
  const secret = cachedSlackSecret(new SecretsManagerClient({ region: env.AWS_REGION }), settings.secretArn);
  const approvals = new DynamoDbApprovalMessages(alertsTableClient(env.AWS_REGION), env.TABLE_NAME);
  let deps: AlertDeps | undefined;
  return async () => (deps ??= { notifier: new SlackNotifier(notifierFor(await secret(), settings.routing)), routing: settings.routing, approvals });
}

/**
 * SLACK_SECRET_ARN and SLACK_TEAM_ID, plus the engine's whole configuration: a click is decided
 * here, as the person the policy maps the Slack user to, and may issue the credential.
 */
function buildSlackInteractions(): SlackInteractionsDeps {
  const env = configuration(environmentSchema);
  const settings = loadSlackSettings(process.env);
  const secret = cachedSlackSecret(new SecretsManagerClient({ region: env.AWS_REGION }), settings.secretArn);
  return {
    engine: awsEngine,
    config: settings.teamId ? { teamId: settings.teamId } : {},
    signingSecret: async () => {
      const { signingSecret } = await secret();
      if (!signingSecret) throw new SlackConfigError('the Slack secret has no signingSecret: approvals need the app’s signing secret');
      return signingSecret;
    },
    replay: inMemoryReplayStore(),
    clock: systemClock,
  };
}

let alerts: (() => Promise<AlertDeps>) | undefined;

/** The alerts function's dependencies, built (and its configuration validated) on first use. */
export async function awsAlerts(): Promise<AlertDeps> {
  alerts ??= buildAlerts();
  return alerts();
}

let digest: Promise<HealthDeps & DigestDeps & { readonly hours: number }> | undefined;

/** The digest function's dependencies: the alerts' notifier and routing, the grant table, the period. */
export async function awsDigest(): Promise<HealthDeps & DigestDeps & { readonly hours: number }> {
  digest ??= (async () => {
    const env = configuration(digestEnvironmentSchema);
    const { notifier, routing } = await awsAlerts();
    const store = new DynamoDbGrantStore({ client: alertsTableClient(env.AWS_REGION), tableName: env.TABLE_NAME });
    return { notifier, routing, store, clock: systemClock, hours: env.DIGEST_HOURS };
  })();
  return digest;
}

let interactions: SlackInteractionsDeps | undefined;

/** The Slack interaction endpoint's dependencies, built (and its configuration validated) on first use. */
export function awsSlackInteractions(): SlackInteractionsDeps {
  interactions ??= buildSlackInteractions();
  return interactions;
}
