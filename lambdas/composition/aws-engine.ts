// Composition (AWS): the composition root for every Lambda function. The engine functions come in
// three kinds, each configured with exactly what it uses (aws-config.ts): issuing (task-started,
// operator-api, slack-interactions), expiring (expire-grant, ttl-expiry-stream: they revoke and re-arm
// an expiry that fired early) and revoking (every other REVOKING entry point: revoke and cancel only).
// Then the refusals', the alerts' and Slack's interactions. Each configuration is validated whole on
// the first invocation (fail fast, naming the variable), and adapters are built once per container.
// The policy text is bundled at build time (esbuild `define`).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import type { EngineDeps, RefusalDeps } from '../use-cases/engine-deps';
import { DynamoDbGrantStore } from '../adapters/aws/dynamodb-grant-store';
import { createIamClient, createStsClient } from '../adapters/aws/aws-clients';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { StsSessionIssuer, type SessionCanary } from '../adapters/aws/sts-session-issuer';
import { RoleInlinePolicyBudget } from '../adapters/aws/role-inline-policy-budget';
import { REVOKED_SESSIONS_POLICY_NAME } from '../adapters/aws/revoked-sessions-policy';
import { IamAccessKeyIssuer } from '../adapters/aws/iam-access-key-issuer';
import { StsCredentialProbe } from '../adapters/aws/sts-credential-probe';
import { spokeCredentials } from '../adapters/aws/spoke-credentials';
import { accountsNamed, spokeBoundaryArn, spokeRoleArn, type SpokeRole } from '../domain/accounts';
import { accountIssuers } from './account-issuers';
import { SecretsManagerCanaryProbe } from '../adapters/aws/canary-probe';
import { SecretsManagerDeliveryVault } from '../adapters/aws/secrets-manager-delivery-vault';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDbKmsDeliveryVault } from '../adapters/aws/dynamodb-kms-delivery-vault';
import type { Clock, DeliveryVault, ExpiryScheduler } from '../ports';
import { SecretsManagerRotator } from '../adapters/aws/secrets-manager-rotator';
import { EventBridgePublisher } from '../adapters/aws/eventbridge-publisher';
import { EventBridgeScheduleCanceller, EventBridgeSchedulerExpiry } from '../adapters/aws/scheduler-expiry';
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
import { RoleDenyLock } from '../adapters/aws/role-deny-lock';
import { laneAwareRetryStrategy, QuotaThrottle } from '../adapters/aws/quota-throttle';
import { scaledQuotas } from '../adapters/aws/documented-quotas';
import { CONTROL_PLANE_MAX_ATTEMPTS } from '../adapters/aws/aws-clients';
import { reuseSigner } from './reused-signer';
import {
  bundledPolicy,
  configuration,
  engineConfiguration,
  type EngineConfiguration,
  type EngineEnvironment,
  type EngineRole,
} from './aws-config';

/** What the alerts function needs beyond the Slack settings: the grant table keeps approval threads. */
const alertsEnvironmentSchema = z.object({ AWS_REGION: z.string().min(1), TABLE_NAME: z.string().min(3) });

/** The digest reads the grant table and posts as the alerts do; DIGEST_HOURS is set by the stack. */
const digestEnvironmentSchema = z.object({
  AWS_REGION: z.string().min(1),
  TABLE_NAME: z.string().min(3),
  DIGEST_HOURS: z.coerce.number().int().min(1).max(168),
});

/** One account's clients: IAM, STS (the hub's own, or through the spoke's engine role), the deny budgets, the canary. */
interface AccountClients {
  readonly iam: IAMClient;
  readonly sts: STSClient;
  /** Each account's roles have their own inline-policy budget for the revoked-sessions deny. */
  readonly roleBudgets: RoleInlinePolicyBudget;
  /** The session canary of the account: every spoke stack creates its own (lib/stacks/spoke-stack.ts). */
  readonly canary: SessionCanary;
}

/**
 * The container's SDK clients, probes and per-account clients. On AWS a container runs one function
 * and so builds one engine; where several engines share a process (the emulator tier) they share
 * these as containers would share nothing but the account: one connection pool and one pacing.
 */
interface ContainerClients {
  /** The grant store's: it converts items itself, so its middleware chains are cached (the document client refuses that). */
  readonly grants: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  readonly secrets: SecretsManagerClient;
  readonly events: EventBridgeClient;
  readonly scheduler: () => SchedulerClient;
  /** A probe signs with the credential it probes, whatever its account: one (and one connection pool) serves them all. */
  readonly probe: StsCredentialProbe;
  /** One revoker at a time on an agent role's deny, whatever the account; one per container, so its revocations queue in memory first. */
  readonly denyLock: RoleDenyLock;
  readonly inAccount: (account: string, spokeRole: SpokeRole) => AccountClients;
}

let hubStsClient: STSClient | undefined;
/** The function's own STS client: it assumes the agent roles in the hub and the engine role of every spoke. */
const hubSts = (region: string) => (hubStsClient ??= createStsClient({ region }));
const spokeSessions = new Map<string, AwsCredentialIdentityProvider>();

/**
 * The hub engine's credentials in a spoke (its engine role, or the read-only prover role for
 * prove-revocation; one cached session per account and role per container), shared by the issuers
 * and the sweep's CloudTrail reader so both cost one AssumeRole.
 */
export function spokeCredentialsFor(
  env: Pick<EngineEnvironment, 'AWS_REGION' | 'INSTANCE_NAME'>,
  account: string,
  spokeRole: SpokeRole = 'engine',
): AwsCredentialIdentityProvider {
  const key = `${spokeRole}:${account}`;
  let provider = spokeSessions.get(key);
  if (!provider) {
    provider = spokeCredentials({
      sts: hubSts(env.AWS_REGION),
      roleArn: spokeRoleArn(account, env.INSTANCE_NAME, spokeRole),
      clock: systemClock,
    });
    spokeSessions.set(key, provider);
  }
  return provider;
}

let container: ContainerClients | undefined;

function containerClients(env: EngineEnvironment): ContainerClients {
  container ??= (() => {
    const region = env.AWS_REGION;
    const paced = pacedClients(env);
    let scheduler: SchedulerClient | undefined;
    const accounts = new Map<string, AccountClients>();
    const grants = reuseSigner(new DynamoDBClient({ region, cacheMiddleware: true }));
    return {
      grants,
      documents: DynamoDBDocumentClient.from(reuseSigner(new DynamoDBClient({ region })), {
        marshallOptions: { removeUndefinedValues: true },
      }),
      // Each command's middleware chain is built once, not per call (the SDK's `cacheMiddleware`: all middleware, pacing
      // included, is added before the first call; DynamoDB's document client refuses it), and one signer serves each client.
      secrets: paced(reuseSigner(new SecretsManagerClient({ region, cacheMiddleware: true, ...paced.retries })), 'secretsmanager'),
      events: paced(reuseSigner(new EventBridgeClient({ region, cacheMiddleware: true, ...paced.retries })), 'events'),
      scheduler: () =>
        (scheduler ??= paced(reuseSigner(new SchedulerClient({ region, cacheMiddleware: true, ...paced.retries })), 'scheduler')),
      probe: new StsCredentialProbe({ region }),
      denyLock: new RoleDenyLock({ client: grants, tableName: env.TABLE_NAME, clock: systemClock, logger: engineLogger }),
      inAccount: (account, spokeRole) => {
        // The engine's own account has one set whatever the role: only in a spoke does the role assumed differ.
        const key = account === env.ACCOUNT_ID ? account : `${spokeRole}:${account}`;
        let clients = accounts.get(key);
        if (!clients) {
          clients = accountClients(env, account, spokeRole);
          accounts.set(key, clients);
        }
        return clients;
      },
    };
  })();
  return container;
}

/** IAM and STS in the engine's own account, or in a spoke through its engine or prover role (cached session). */
function accountClients(env: EngineEnvironment, account: string, spokeRole: SpokeRole): AccountClients {
  const region = env.AWS_REGION;
  const hub = account === env.ACCOUNT_ID;
  const credentials = hub ? {} : { credentials: spokeCredentialsFor(env, account, spokeRole) };
  const iam = createIamClient({ region, ...credentials });
  // The canary secret is CANARY_SECRET_NAME in each account, named by its partial ARN so the probe
  // reads that account's canary whatever the session's account.
  const canaryArn = `arn:aws:secretsmanager:${region}:${account}:secret:${env.CANARY_SECRET_NAME}`;
  return {
    iam,
    sts: hub ? hubSts(region) : createStsClient({ region, ...credentials }),
    roleBudgets: new RoleInlinePolicyBudget(iam, systemClock, REVOKED_SESSIONS_POLICY_NAME),
    canary: { secretArnPattern: `${canaryArn}-??????`, probe: new SecretsManagerCanaryProbe({ region, canarySecretId: canaryArn }) },
  };
}

/**
 * The issuers acting in one account. Only an issuing function gets a permissions boundary for the
 * users it creates: the others' access-key issuer revokes, verifies and lists, and refuses to issue.
 */
function issuersIn(config: EngineConfiguration, account: string, clients: ContainerClients, spokeRole: SpokeRole): EngineDeps['issuers'] {
  const { env } = config;
  const { iam, sts, roleBudgets, canary } = clients.inAccount(account, spokeRole);
  const boundary = account === env.ACCOUNT_ID ? config.permissionsBoundaryArn : spokeBoundaryArn(account, env.INSTANCE_NAME);
  return {
    'aws-sts-session': new StsSessionIssuer({
      sts,
      iam,
      clock: systemClock,
      accountId: account,
      rolePrefix: env.AGENT_ROLE_PREFIX,
      roleMaxSessionSeconds: env.AGENT_ROLE_MAX_SESSION_SECONDS,
      canary,
      denyLock: clients.denyLock,
      revocationPolicyMaxChars: env.AGENT_ROLE_DENY_BUDGET_CHARS ?? ((roleName) => roleBudgets.of(roleName)),
    }),
    'aws-iam-access-key': new IamAccessKeyIssuer({
      iam,
      clock: systemClock,
      ...(config.role === 'issuing' && boundary ? { permissionsBoundaryArn: boundary } : {}),
      probe: clients.probe,
    }),
  };
}

function buildEngine(config: EngineConfiguration, spokeRole: SpokeRole): EngineDeps {
  const { env } = config;
  const policy = bundledPolicy();
  const clients = containerClients(env);
  return {
    policy,
    clock: systemClock,
    logger: engineLogger,
    useCheckTiming: {
      deliveryLagMs: env.USE_CHECK_DELIVERY_LAG_MINUTES * 60_000,
      intervalMs: env.USE_CHECK_INTERVAL_MINUTES * 60_000,
      longestSessionMs: env.AGENT_ROLE_MAX_SESSION_SECONDS * 1000,
    },
    store: new DynamoDbGrantStore({ client: clients.grants, tableName: env.TABLE_NAME }),
    // Each account's sessions carry (and are proven dead by) that account's own canary secret.
    issuers: accountIssuers({
      hubAccount: env.ACCOUNT_ID,
      spokeAccounts: accountsNamed(policy),
      issuersIn: (account) => issuersIn(config, account, clients, spokeRole),
      reach: (account) => spokeCredentialsFor(env, account, spokeRole)(),
    }),
    vault: deliveryVault(env, clients),
    rotator: new SecretsManagerRotator(clients.secrets),
    events: new EventBridgePublisher(clients.events, { eventBusName: env.EVENT_BUS_NAME }),
    expiry: expiryOf(config, clients),
    // A kill probes once; a death IAM has not enforced yet is proven by prove-revocation, not while this slot waits.
    handOffProofs: true,
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

/**
 * The TTL marker is the backstop in either mode (in `due-index` mode the per-minute shard readers are
 * the precise path). In the `schedule` mode, a schedule per grant: armed where the function arms one
 * (issuing, expiring), only cancelled elsewhere (the configuration then has no target or role to pass).
 */
function expiryOf(config: EngineConfiguration, clients: ContainerClients): ExpiryScheduler {
  const { env } = config;
  const ttlMarker = new TtlMarkerExpiry(clients.documents, { tableName: env.TABLE_NAME });
  if (env.EXPIRY_MODE !== 'schedule') return new CompositeExpiry({ ttlMarker });
  // The configuration's refinement guarantees the group in the schedule mode.
  const group = { groupName: env.SCHEDULER_GROUP! };
  const schedule = config.arming
    ? new EventBridgeSchedulerExpiry(clients.scheduler(), { ...group, ...config.arming, clock: systemClock })
    : new EventBridgeScheduleCanceller(clients.scheduler(), group);
  return new CompositeExpiry({ schedule, ttlMarker });
}

/** The deployment's delivery mode: Secrets Manager secrets, or KMS-encrypted items of the delivery table. */
function deliveryVault(env: EngineEnvironment, clients: ContainerClients): DeliveryVault {
  if (env.DELIVERY_MODE === 'dynamodb-kms') {
    return new DynamoDbKmsDeliveryVault(clients.documents, reuseSigner(new KMSClient({ region: env.AWS_REGION, cacheMiddleware: true })), {
      tableName: env.DELIVERY_TABLE_NAME!,
      keyId: env.DELIVERY_KMS_KEY_ARN!,
      clock: systemClock,
    });
  }
  // The stack's delivery key lets only the engine and each agent's runtime decrypt
  // (lib/constructs/delivery-key.ts): a delivery can take its value before its resource policy.
  return new SecretsManagerDeliveryVault(clients.secrets, {
    enginePrincipalArns: env.ENGINE_ROLE_ARNS,
    ...(env.DELIVERY_KMS_KEY_ARN ? { kmsKeyArn: env.DELIVERY_KMS_KEY_ARN, keyPolicyLocksValue: true } : {}),
  });
}

const engines = new Map<string, EngineDeps>();

/** Built on first use, so importing a handler (tests, the local engine) has no side effect. */
async function engineFor(role: EngineRole, spokeRole: SpokeRole = 'engine'): Promise<EngineDeps> {
  let engine = engines.get(`${role}:${spokeRole}`);
  if (!engine) {
    engine = buildEngine(engineConfiguration(role), spokeRole);
    engines.set(`${role}:${spokeRole}`, engine);
  }
  return engine;
}

/** The issuing functions' engine (task-started, operator-api, slack-interactions): issue, deliver, arm expiry, and revoke. */
export const awsIssuingEngine = (): Promise<EngineDeps> => engineFor('issuing');
/** The expiring functions' engine (expire-grant, ttl-expiry-stream): revoke, and arm again an expiry that fired early. */
export const awsExpiringEngine = (): Promise<EngineDeps> => engineFor('expiring');
/** The revoking functions' engine (task-ended, credential-leaked, agent-status, revoke-requested, sweep): revoke and cancel, never issue or arm. */
export const awsRevokingEngine = (): Promise<EngineDeps> => engineFor('revoking');
/** prove-revocation's engine: the revoking configuration, acting in spokes through their read-only prover roles. */
export const awsProvingEngine = (): Promise<EngineDeps> => engineFor('revoking', 'prover');

let refusals: RefusalDeps | undefined;

/** The grant-decision function's dependencies: the grant table, the bus and the clock, nothing that issues or revokes. */
export async function awsRefusals(): Promise<RefusalDeps> {
  refusals ??= (() => {
    // What refusing needs: the grant it names and the bus it answers on. Declared here, not at the
    // top, so the other functions' bundles (which never refuse) leave it out.
    const env = configuration(
      z.object({ AWS_REGION: z.string().min(1), TABLE_NAME: z.string().min(3), EVENT_BUS_NAME: z.string().min(1) }),
    );
    return {
      store: new DynamoDbGrantStore({
        client: new DynamoDBClient({ region: env.AWS_REGION, cacheMiddleware: true }),
        tableName: env.TABLE_NAME,
      }),
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
  return async () =>
    (deps ??= { notifier: new SlackNotifier(notifierFor(await secret(), settings.routing)), routing: settings.routing, approvals });
}

/**
 * SLACK_SECRET_ARN and SLACK_TEAM_ID, plus the engine's whole configuration: a click is decided
 * here, as the person the policy maps the Slack user to, and may issue the credential.
 */
function buildSlackInteractions(): SlackInteractionsDeps {
  const { env } = engineConfiguration('issuing');
  const settings = loadSlackSettings(process.env);
  const secret = cachedSlackSecret(new SecretsManagerClient({ region: env.AWS_REGION }), settings.secretArn);
  return {
    engine: awsIssuingEngine,
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
    const store = new DynamoDbGrantStore({ client: new DynamoDBClient({ region: env.AWS_REGION }), tableName: env.TABLE_NAME });
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
