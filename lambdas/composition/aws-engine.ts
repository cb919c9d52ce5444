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
import type { EngineDeps } from '../use-cases/engine-deps';
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
import { SecretsManagerRotator } from '../adapters/aws/secrets-manager-rotator';
import { EventBridgePublisher } from '../adapters/aws/eventbridge-publisher';
import { EventBridgeSchedulerExpiry } from '../adapters/aws/scheduler-expiry';
import { TtlMarkerExpiry } from '../adapters/aws/ttl-marker-expiry';
import { CompositeExpiry } from '../adapters/aws/composite-expiry';
import { systemClock } from '../adapters/system-clock';
import { DynamoDbApprovalMessages } from '../adapters/slack/dynamodb-approval-messages';
import type { Clock } from '../ports';
import type { SlackDecisionConfig } from '../use-cases/slack-decision';
import { inMemoryReplayStore, type ReplayStore } from '../adapters/slack/signature';
import { cachedSlackSecret, loadSlackSettings, notifierFor, SlackConfigError, type SlackSettings } from '../adapters/slack/slack-config';
import { SlackNotifier } from '../adapters/slack/slack-notifier';
import type { AlertDeps } from '../use-cases/send-alert';
import type { DigestDeps } from '../use-cases/build-digest';
import type { HealthDeps } from '../use-cases/post-health';
import { engineLogger } from './logger';

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
  SCHEDULER_GROUP: z.string().min(1),
  SCHEDULER_ROLE_ARN: z.string().startsWith('arn:'),
  EXPIRE_FUNCTION_ARN: z.string().startsWith('arn:'),
  SCHEDULER_DLQ_ARN: z.string().startsWith('arn:'),
  /** The secret every session may describe: the probe that proves a revoked session dead. */
  CANARY_SECRET_NAME: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/).default('taskbound-engine/canary'),
  /** How late CloudTrail may deliver a call's record (AWS: "an average of about 5 minutes", not guaranteed). */
  USE_CHECK_DELIVERY_LAG_MINUTES: z.coerce.number().int().min(5).max(24 * 60).default(DEFAULT_USE_CHECK_TIMING.deliveryLagMs / 60_000),
  USE_CHECK_INTERVAL_MINUTES: z.coerce.number().int().min(5).max(24 * 60).default(DEFAULT_USE_CHECK_TIMING.intervalMs / 60_000),
});

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
function issuersIn(env: z.infer<typeof environmentSchema>, account: string, shared: SharedByAccounts): EngineDeps['issuers'] {
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
  const secrets = new SecretsManagerClient({ region });
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
    vault: new SecretsManagerDeliveryVault(secrets, {
      enginePrincipalArns: env.ENGINE_ROLE_ARNS,
      ...(env.DELIVERY_KMS_KEY_ARN ? { kmsKeyArn: env.DELIVERY_KMS_KEY_ARN } : {}),
    }),
    rotator: new SecretsManagerRotator(secrets),
    events: new EventBridgePublisher(new EventBridgeClient({ region }), { eventBusName: env.EVENT_BUS_NAME }),
    expiry: new CompositeExpiry({
      schedule: new EventBridgeSchedulerExpiry(new SchedulerClient({ region }), {
        groupName: env.SCHEDULER_GROUP,
        expireFunctionArn: env.EXPIRE_FUNCTION_ARN,
        schedulerRoleArn: env.SCHEDULER_ROLE_ARN,
        deadLetterQueueArn: env.SCHEDULER_DLQ_ARN,
        clock,
      }),
      ttlMarker: new TtlMarkerExpiry(documents, { tableName: env.TABLE_NAME }),
    }),
  };
}

let engine: EngineDeps | undefined;

/** Built on first use, so importing a handler (tests, the local engine) has no side effect. */
export async function awsEngine(): Promise<EngineDeps> {
  engine ??= buildEngine();
  return engine;
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
