// Test tier (AWS emulator): the engine's AWS composition root (composition/aws-engine.ts) over
// moto_server. Each world resets moto, creates what the stacks create from the definitions
// the CDK code uses (the table's create input, the bus and schedule group names of
// lib/config.ts, the boundary of lib/constructs/issued-credential-boundary.ts, agent roles as
// docs/deploy.md describes them), then closes moto's unauthenticated window: from then on
// every call is signed and checked against moto's IAM, so a deleted key is refused.
// Time is fake: each wait the engine makes passes in fake time while no AWS call is in flight.
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  AttachRolePolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateScheduleGroupCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import type { Context } from 'aws-lambda';
import { inject, vi } from 'vitest';
import { grantTableCreateInput } from '../../lambdas/adapters/aws/grant-table-definition';
import type { EngineDeps } from '../../lambdas/use-cases/engine-deps';
import type { AccountIssuersOptions } from '../../lambdas/composition/account-issuers';
import type { Issuers } from '../../lambdas/ports';
import { compiledPolicy } from '../../lib/bundling';
import { loadConfig } from '../../lib/config';
import { canaryStatement } from '../../lambdas/domain/canary';
import { PROBE_USER_AGENT } from '../../lambdas/domain/use-after-revocation';
import { boundaryStatements } from '../../lib/constructs/issued-credential-boundary';
import { MANAGED_ROLE_TAG } from '../../lib/constructs/engine-permissions';
import { canarySecretName, schedulerGroupName } from '../../lib/naming';
import { parsePolicy } from '../../lambdas/domain/policy-file';
import { accountOf } from '../../lambdas/domain/accounts';
import { TEST_POLICY_YAML } from '../helpers/test-policy';
import { MOTO_ACCOUNT_ID } from './moto-server';
import {
  countCalls,
  failPutEventsEntries,
  injectFaults,
  jsonAccessDenied,
  isolateDynamoDbTransactions,
  recordAcceptedEvents,
  sdkClientsOf,
  serviceOf,
  type AcceptedEvent,
  type ApiCall,
  type Fault,
} from './sdk-middleware';

export const ACCOUNT_ID = MOTO_ACCOUNT_ID;
export const REGION = 'us-east-1';
const CONFIG = loadConfig({});
export const BUS = CONFIG.busName;
export const SCHEDULER_GROUP = schedulerGroupName(CONFIG);
export const ROLE_PREFIX = CONFIG.agentRolePrefix;
export const ENGINE_ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/${CONFIG.instanceName}-engine/${CONFIG.instanceName}-task-started-${REGION}`;
export const EXPIRE_FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${CONFIG.instanceName}-expire-grant`;
export const SCHEDULER_ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/${CONFIG.instanceName}-scheduler-${REGION}`;
export const SCHEDULER_DLQ_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${CONFIG.instanceName}-expiry-dlq`;
export const TABLE_NAME = 'taskbound-grants';
/** The session canary the stateful stack creates (lib/naming.ts): every session may describe it. */
export const CANARY_SECRET = canarySecretName(CONFIG);
const CANARY_ARN_PATTERN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:${CANARY_SECRET}-??????`;
/** On AWS the engine is a set of Lambda roles; here one IAM user signs its calls. */
const ENGINE_USER = `${CONFIG.instanceName}-engine`;
/**
 * Where a world's clock starts: the real time, on the minute. Not a fixed date: the SDK
 * corrects for a server clock more than 5 minutes off by retrying a failed call once, which
 * would add calls that AWS would not see. The fake clock moves only when a test says so.
 */
const startOfThisMinute = () => new Date(Math.floor(Date.now() / 60_000) * 60_000);

/** The Lambda timeouts of lib/stacks/engine-stack.ts. */
const TIMEOUT_SECONDS = {
  'task-started': 30,
  'task-ended': 30,
  'grant-decision': 30,
  'operator-api': 30,
  'credential-leaked': 30,
  'agent-status': 120,
  'expire-grant': 30,
  'ttl-expiry-stream': 120,
  'prove-revocation': 30,
  sweep: 240,
} as const;
export type HandlerName = keyof typeof TIMEOUT_SECONDS;
type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface HandlerResult {
  readonly outcome?: string;
  readonly reason?: string;
  readonly grant?: { readonly grantId: string; readonly state: string };
  readonly [key: string]: unknown;
}

/** Clients signed by the test's own operator user, for arranging and asserting. */
export interface OperatorClients {
  readonly iam: IAMClient;
  readonly sts: STSClient;
  readonly secrets: SecretsManagerClient;
  readonly events: EventBridgeClient;
  readonly scheduler: SchedulerClient;
  readonly dynamodb: DynamoDBClient;
}

export interface MotoWorld {
  readonly endpoint: string;
  readonly aws: OperatorClients;
  /** Clients signed by an operator user of a spoke account (`WorldOptions.spokes`). */
  awsIn(account: string): OperatorClients;
  /** The composition root the handlers use (for `decideGrant` in process). */
  readonly engine: EngineDeps;
  /** The sweep's composition root: the engine's plus the CloudTrail use log of every account. */
  readonly sweepEngine: EngineDeps;
  readonly deliveryKeyArn: string;
  readonly boundaryArn: string;
  readonly brokeredSecretArn: string;
  /** The world's clock at its start plus `ms`, as an ISO string. */
  at(ms: number): string;
  /** Every AWS API call the engine's clients sent, in order (each SDK attempt counts). */
  readonly calls: ApiCall[];
  /** What the bus accepted from the engine, in order. */
  readonly accepted: AcceptedEvent[];
  /** The entries of each PutEvents the engine sent, by detail-type. */
  readonly putEventsBatches: () => string[][];
  /** Detail-types the bus accepted for a grant, in order. */
  eventsOf(grantId: string): string[];
  /** EventBridge answering matching entries with a per-entry error (partial failure). */
  failEventEntries(detailType: string, errorCode: string, times?: number): void;
  /**
   * IAM's eventual consistency for deleted keys: while on, the engine's STS probes are
   * answered as accepted (a deleted key keeps working for a while on AWS; moto refuses at once).
   */
  readonly deletedKeysStillWork: { on: boolean };
  /**
   * IAM's eventual consistency for a new deny: while on, the engine's canary probes are answered
   * as accepted (a denied session keeps working for a few seconds on AWS; moto refuses at once).
   */
  readonly deniedSessionsStillWork: { on: boolean };
  invoke(handler: HandlerName, event: unknown): Promise<HandlerResult>;
  /**
   * prove-revocation as deployed (its handler and composition root) in a container of its own, whose
   * clients sign with `credentials` (its role's key) instead of the engine key. Its calls are counted
   * in `calls` and run in fake time as the engine's are; the rest of the world keeps the engine key.
   */
  proverSignedBy(credentials: AccessKey): Promise<(event: unknown) => Promise<HandlerResult>>;
  /** Runs engine work (a use case called in process) in fake time. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Faults answered by one service's client instead of moto (SDK middleware). */
  fault(service: 'IAM' | 'STS' | 'Secrets Manager' | 'EventBridge' | 'Scheduler' | 'DynamoDB' | 'CloudTrail', ...faults: Fault[]): void;
  advance(ms: number): void;
  /** The engine's own SDK clients of one service (probe clients, made per probe, are not among them). */
  engineClients(service: string): ReturnType<typeof sdkClientsOf>;
}

const endpoint = () => inject('motoEndpoint');

async function motoApi(path: string, body?: string): Promise<void> {
  const response = await fetch(`${endpoint()}/moto-api/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    ...(body !== undefined ? { body } : {}),
  });
  if (!response.ok) throw new Error(`moto-api/${path} answered ${response.status}`);
}

const ENGINE_SERVICES = ['dynamodb', 'iam', 'sts', 'secretsmanager', 'events', 'scheduler', 'kms', 'cloudtrail'];

/** The header moto reads a request's account from when its access key is not one moto knows (the setup window's). */
const MOTO_ACCOUNT_HEADER = 'x-moto-account-id';

type BuildStack = {
  add(middleware: (next: (args: { request: unknown }) => unknown) => (args: { request: unknown }) => unknown, options: object): void;
};

/** Clients signed by `credentials`, or (without them) setup clients acting in `account` during the unauthenticated window. */
function operatorClients(credentials: { accessKeyId: string; secretAccessKey: string } | undefined, account = ACCOUNT_ID): OperatorClients {
  // One attempt: outside an invocation the fake clock stands still, so an SDK backoff would never end.
  const config = {
    region: REGION,
    endpoint: endpoint(),
    maxAttempts: 1,
    credentials: credentials ?? { accessKeyId: 'AKIASETUP0000000000', secretAccessKey: 'setup' },
  };
  const clients: OperatorClients = {
    iam: new IAMClient(config),
    sts: new STSClient(config),
    secrets: new SecretsManagerClient(config),
    events: new EventBridgeClient(config),
    scheduler: new SchedulerClient(config),
    dynamodb: new DynamoDBClient(config),
  };
  if (credentials) return clients;
  for (const client of Object.values(clients)) {
    (client.middlewareStack as unknown as BuildStack).add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers[MOTO_ACCOUNT_HEADER] = account;
        return next(args);
      },
      { step: 'build', name: 'motoAccount' },
    );
  }
  return clients;
}

export interface AccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** An IAM user with `document` as its one inline policy, and an access key of it. */
export async function userWithKey(iam: IAMClient, userName: string, document: object): Promise<AccessKey> {
  await iam.send(new CreateUserCommand({ UserName: userName }));
  await iam.send(new PutUserPolicyCommand({ UserName: userName, PolicyName: 'access', PolicyDocument: JSON.stringify(document) }));
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  if (!AccessKey?.AccessKeyId || !AccessKey.SecretAccessKey) throw new Error(`moto created no key for ${userName}`);
  return { accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey };
}

interface PolicyStatement {
  readonly Effect: string;
  readonly Action?: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: unknown;
}

/**
 * moto checks an identity policy's actions against the resource `*` and cannot evaluate most
 * conditions (every ARN-scoped statement would read as not matching), so a policy is created
 * there as its actions on `*`: moto still refuses any action the policy did not grant. Its
 * resources and conditions are proven by the IAM-evaluator tier (test/policy).
 */
export function asMotoEvaluates(document: { readonly Statement: readonly PolicyStatement[] }): object {
  const asList = (value: string | string[] | undefined) => (value === undefined ? [] : [value].flat());
  const allowed = [
    ...new Set(document.Statement.filter((statement) => statement.Effect === 'Allow').flatMap((statement) => asList(statement.Action))),
  ];
  const denies = document.Statement.filter((statement) => statement.Effect === 'Deny').map(({ Condition: _condition, ...statement }) => ({
    ...statement,
    Resource: '*',
  }));
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: allowed, Resource: '*' }, ...denies] };
}

/** The delivery key (KMS's JSON protocol by hand: the engine never calls KMS, so the SDK has no KMS client here). */
async function createDeliveryKey(): Promise<string> {
  const response = await fetch(endpoint(), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'TrentService.CreateKey',
      authorization: `AWS4-HMAC-SHA256 Credential=AKIASETUP0000000000/20261128/${REGION}/kms/aws4_request, SignedHeaders=host, Signature=0`,
      [MOTO_ACCOUNT_HEADER]: ACCOUNT_ID,
    },
    body: JSON.stringify({ Description: 'Taskbound delivery key' }),
  });
  const { KeyMetadata } = (await response.json()) as { KeyMetadata?: { Arn?: string } };
  if (!KeyMetadata?.Arn) throw new Error(`moto created no KMS key (${response.status})`);
  return KeyMetadata.Arn;
}

/** What the stateful stack and the deployer create, in moto's unauthenticated window. */
/** The test policy's brokered secret; moto names its ARN itself, so the policy gets moto's. */
const BROKERED_SECRET_ARN_IN_POLICY = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:stripe-key-AbCdEf';

/** A member account's setup, run in moto's unauthenticated window with clients acting in that account. */
export type SpokeSetup = (setup: OperatorClients) => Promise<void>;

export interface WorldOptions {
  /** The policy the engine runs (default: the test policy); its brokered secret ARN becomes moto's. */
  readonly policyYaml?: string;
  /** Member accounts by id: each is set up, and gets an operator user of its own (`awsIn`). */
  readonly spokes?: Readonly<Record<string, SpokeSetup>>;
  /**
   * Real time instead of fake: the engine's waits (retry backoff, pacing) pass as they would on
   * AWS. For the quota flood, whose token buckets read the monotonic clock, which fake time leaves still.
   */
  readonly realTime?: boolean;
  /**
   * QUOTA_SHARE: how many containers the engine assumes share each quota, so it paces its Secrets
   * Manager, EventBridge and Scheduler clients to quota ÷ this (default 1: this process alone).
   */
  readonly quotaShare?: number;
}

async function provision(options: WorldOptions) {
  const setup = operatorClients(undefined);
  const brokered = await setup.secrets.send(new CreateSecretCommand({ Name: 'stripe-key', SecretString: 'sk_live_before' }));
  const brokeredSecretArn = brokered.ARN ?? '';
  const policyYaml = (options.policyYaml ?? TEST_POLICY_YAML).replaceAll(BROKERED_SECRET_ARN_IN_POLICY, brokeredSecretArn);
  const policy = parsePolicy(policyYaml, 'test.policy.yaml');
  await setup.dynamodb.send(new CreateTableCommand(grantTableCreateInput(TABLE_NAME)));
  await setup.events.send(new CreateEventBusCommand({ Name: BUS }));
  await setup.scheduler.send(new CreateScheduleGroupCommand({ Name: SCHEDULER_GROUP }));
  const deliveryKeyArn = await createDeliveryKey();
  await setup.secrets.send(new CreateSecretCommand({ Name: CANARY_SECRET, SecretString: 'canary' }));
  const canary = [canaryStatement(CANARY_ARN_PATTERN)];
  const boundary = await setup.iam.send(
    new CreatePolicyCommand({
      PolicyName: `${CONFIG.instanceName}-issued-credentials`,
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: boundaryStatements(policy, `arn:aws:iam::${ACCOUNT_ID}:role/${ROLE_PREFIX}*`, canary),
      }),
    }),
  );
  const boundaryArn = boundary.Policy?.Arn ?? '';
  // docs/deploy.md: each agent role allows describing the canary in one of its managed policies.
  // moto checks every call against the resource `*`, and its matcher leaves `?` a regular
  // expression quantifier (the canary's `-??????` fails inside moto with HTTP 500), so the
  // role's copy names `*`; the boundary (which moto does not evaluate) and the session
  // policies (which it ignores) keep the exact pattern, proven by the IAM-evaluator tier.
  const motoCanary = [canaryStatement('*')];
  const canaryPolicy = await setup.iam.send(
    new CreatePolicyCommand({
      PolicyName: `${CONFIG.instanceName}-session-canary`,
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: motoCanary }),
    }),
  );
  // docs/deploy.md trusts the account root with a condition naming the issuing roles' ARNs; moto
  // matches principals literally (the root does not stand for the account), so it names the engine.
  const trust = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:user/${ENGINE_USER}` },
        Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'],
      },
    ],
  };
  for (const [agentId, agent] of Object.entries(policy.agents)) {
    const roleName = `${ROLE_PREFIX}${agentId}`;
    // The hub holds the roles of the scopes without an account; a spoke's are its own (WorldOptions.spokes).
    const hubScopes = agent.scopes.filter((scope) => accountOf(policy, scope, agentId) === undefined);
    await createRuntimeRole(setup.iam, agent.runtimePrincipal, trust, boundaryArn);
    if (hubScopes.length === 0) continue;
    await setup.iam.send(
      new CreateRoleCommand({
        RoleName: roleName,
        AssumeRolePolicyDocument: JSON.stringify(trust),
        PermissionsBoundary: boundaryArn,
        MaxSessionDuration: Math.max(3600, agent.maxTtlSeconds),
        Tags: [{ Key: MANAGED_ROLE_TAG.key, Value: MANAGED_ROLE_TAG.value }],
      }),
    );
    await setup.iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: canaryPolicy.Policy?.Arn ?? '' }));
    const statements = hubScopes.flatMap((scope) => policy.scopes[scope]?.statements ?? []);
    if (statements.length > 0) {
      await setup.iam.send(
        new PutRolePolicyCommand({
          RoleName: roleName,
          PolicyName: 'scopes',
          PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }),
        }),
      );
    }
  }
  // moto matches actions but sees every resource as "*" and skips conditions: the engine's
  // least privilege is proven by the IAM-evaluator tier (test/policy), not here.
  const engine = await userWithKey(setup.iam, ENGINE_USER, {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ENGINE_SERVICES.map((service) => `${service}:*`), Resource: '*' }],
  });
  const allowAll = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
  const operator = await userWithKey(setup.iam, 'operator', allowAll);
  for (const client of Object.values(setup)) client.destroy();
  const spokeOperators: Record<string, { accessKeyId: string; secretAccessKey: string }> = {};
  for (const [account, setUp] of Object.entries(options.spokes ?? {})) {
    const spoke = operatorClients(undefined, account);
    await setUp(spoke);
    spokeOperators[account] = await userWithKey(spoke.iam, 'operator', allowAll);
    for (const client of Object.values(spoke)) client.destroy();
  }
  return { engine, operator, spokeOperators, boundaryArn, deliveryKeyArn, brokeredSecretArn, policyYaml };
}

/** The agent runtime's role (the runtime principal of a policy agent), once per role name. */
async function createRuntimeRole(iam: IAMClient, runtimePrincipal: string, trust: object, boundaryArn: string): Promise<void> {
  const runtimeRole = runtimePrincipal.split('/').at(-1) ?? '';
  const created = await iam
    .send(new CreateRoleCommand({ RoleName: runtimeRole, AssumeRolePolicyDocument: JSON.stringify(trust) }))
    .then(() => true)
    .catch((error: Error) => {
      if (error.name !== 'EntityAlreadyExistsException' && error.name !== 'EntityAlreadyExists') throw error;
      return false;
    });
  if (created) await iam.send(new AttachRolePolicyCommand({ RoleName: runtimeRole, PolicyArn: boundaryArn }));
}

function lambdaContext(name: HandlerName): Context {
  const deadline = Date.now() + TIMEOUT_SECONDS[name] * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `taskbound-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:taskbound-${name}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/taskbound-${name}`,
    logStreamName: 'moto',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** An EventBridge event as a rule delivers it to the handler. */
export function eventBridgeEvent(detailType: string, detail: unknown, source = 'agent.runtime') {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source,
    account: ACCOUNT_ID,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: [],
    detail,
  };
}

const realSetImmediate = globalThis.setImmediate;
const nextTurn = () => new Promise<void>((resolve) => realSetImmediate(resolve));

/** Runs `work`, firing the engine's timers in fake time whenever it waits on one and no AWS call is in flight. */
async function inFakeTime<T>(work: Promise<T>, inFlight: { count: number }): Promise<T> {
  let done = false;
  work.then(
    () => (done = true),
    () => (done = true),
  );
  for (let idleTurns = 0; !done;) {
    await nextTurn();
    if (done || inFlight.count > 0) continue;
    if (vi.getTimerCount() > 0) {
      idleTurns = 0;
      await vi.advanceTimersToNextTimerAsync();
    } else if (++idleTurns > 50_000) {
      throw new Error('the invocation waits on neither AWS nor a timer');
    }
  }
  return work;
}

export interface FreshMoto {
  /** Signed by an operator user allowed everything. */
  readonly aws: OperatorClients;
  /** Each spoke's operator user's clients, by account. */
  readonly spokeAws: Readonly<Record<string, OperatorClients>>;
  /** The engine's own key: an IAM user with the engine's services allowed. */
  readonly engineKey: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly boundaryArn: string;
  readonly deliveryKeyArn: string;
  /** The brokered secret `stripe-key` (scope `refund`), as moto named it. */
  readonly brokeredSecretArn: string;
  /** The test policy, naming moto's ARN for the brokered secret. */
  readonly policyYaml: string;
  /** SDK client settings that reach moto as the engine. */
  readonly engineConfig: {
    readonly region: string;
    readonly endpoint: string;
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  };
}

/**
 * Resets moto and creates what the stacks create, in moto's unauthenticated window
 * (`/moto-api/reset-auth`, the run-time form of INITIAL_NO_AUTH_ACTION_COUNT), then closes
 * it: every later call must be signed by a key moto's IAM knows and allowed by its policy.
 */
export async function freshMoto(options: WorldOptions = {}): Promise<FreshMoto> {
  await motoApi('reset');
  await motoApi('reset-auth', '1000000000');
  const {
    engine: engineKey,
    operator,
    spokeOperators,
    boundaryArn,
    deliveryKeyArn,
    brokeredSecretArn,
    policyYaml,
  } = await provision(options);
  await motoApi('reset-auth', '0');
  const spokeAws = Object.fromEntries(Object.entries(spokeOperators).map(([account, key]) => [account, operatorClients(key)]));
  return {
    aws: operatorClients(operator),
    spokeAws,
    engineKey,
    boundaryArn,
    deliveryKeyArn,
    brokeredSecretArn,
    policyYaml,
    engineConfig: { region: REGION, endpoint: endpoint(), credentials: engineKey },
  };
}

let current: { readonly restore: () => void } | undefined;

/** A fresh world: moto reset and provisioned, a freshly imported composition root, the clock at the start of this minute. */
export async function openWorld(options: WorldOptions = {}): Promise<MotoWorld> {
  closeWorld();
  const { aws, spokeAws, engineKey, boundaryArn, deliveryKeyArn, brokeredSecretArn, policyYaml } = await freshMoto(options);

  const environment: Record<string, string | undefined> = {
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL: endpoint(),
    AWS_ACCESS_KEY_ID: engineKey.accessKeyId,
    AWS_SECRET_ACCESS_KEY: engineKey.secretAccessKey,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: undefined,
    AWS_CONFIG_FILE: '/nonexistent/aws/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws/credentials',
    TABLE_NAME,
    INSTANCE_NAME: CONFIG.instanceName,
    EVENT_BUS_NAME: BUS,
    ACCOUNT_ID,
    AGENT_ROLE_PREFIX: ROLE_PREFIX,
    AGENT_ROLE_MAX_SESSION_SECONDS: '3600',
    DELIVERY_MODE: 'secrets-manager',
    EXPIRY_MODE: 'schedule',
    PERMISSIONS_BOUNDARY_ARN: boundaryArn,
    DELIVERY_KMS_KEY_ARN: deliveryKeyArn,
    ENGINE_ROLE_ARNS: ENGINE_ROLE_ARN,
    SCHEDULER_GROUP,
    SCHEDULER_ROLE_ARN,
    EXPIRE_FUNCTION_ARN,
    SCHEDULER_DLQ_ARN,
    CANARY_SECRET_NAME: CANARY_SECRET,
    QUOTA_SHARE: String(options.quotaShare ?? 1),
    TASKBOUND_POLICY: compiledPolicy(policyYaml, 'test.policy.yaml'),
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };
  for (const [name, value] of Object.entries(environment)) vi.stubEnv(name, value);

  vi.resetModules();
  // The engine routes each kind to the issuers of the grant's account (composition/account-issuers.ts),
  // held in a closure: this records each account's issuers as they are built, unchanged, so the
  // world can count and fault their SDK clients. The hub's are built with the engine, a spoke's
  // on its first grant: each is instrumented as it is built.
  const issuersByAccount = new Map<string, Issuers>();
  let instrument: ((issuers: Issuers) => void) | undefined;
  vi.doMock('../../lambdas/composition/account-issuers', async (importOriginal) => {
    const actual = await importOriginal<typeof import('../../lambdas/composition/account-issuers')>();
    return {
      ...actual,
      accountIssuers: (options: AccountIssuersOptions) =>
        actual.accountIssuers({
          ...options,
          issuersIn: (account) => {
            const issuers = options.issuersIn(account);
            issuersByAccount.set(account, issuers);
            instrument?.(issuers);
            return issuers;
          },
        }),
    };
  });
  const handlers: Record<HandlerName, Handler> = {
    'task-started': (await import('../../lambdas/handlers/task-started')).handler,
    'task-ended': (await import('../../lambdas/handlers/task-ended')).handler,
    'grant-decision': (await import('../../lambdas/handlers/grant-decision')).handler,
    'operator-api': (await import('../../lambdas/handlers/operator-api')).handler,
    'credential-leaked': (await import('../../lambdas/handlers/credential-leaked')).handler,
    'agent-status': (await import('../../lambdas/handlers/agent-status')).handler,
    'expire-grant': (await import('../../lambdas/handlers/expire-grant')).handler,
    'ttl-expiry-stream': (await import('../../lambdas/handlers/ttl-expiry-stream')).handler,
    'prove-revocation': (await import('../../lambdas/handlers/prove-revocation')).handler,
    sweep: (await import('../../lambdas/handlers/sweep')).handler,
  } as Record<HandlerName, Handler>;
  // The issuing functions' engine; the revoking and expiring handlers build theirs on their first
  // event, over the same container clients (composition/aws-engine.ts), so they are counted and faulted too.
  const engine = await (await import('../../lambdas/composition/aws-engine')).awsIssuingEngine();
  // The sweep's own composition adds the CloudTrail use log (the same module instance its handler imports).
  const sweepEngine = await (await import('../../lambdas/composition/aws-sweep')).awsSweepEngine();

  const calls: ApiCall[] = [];
  const inFlight = { count: 0 };
  const hubIssuers = issuersByAccount.get(ACCOUNT_ID);
  if (!hubIssuers) throw new Error('the engine built no issuers for its own account');
  const clients = [...sdkClientsOf(engine), ...sdkClientsOf(hubIssuers), ...sdkClientsOf(sweepEngine.useLog)].filter(
    (client, index, all) => all.findIndex((other) => other.middlewareStack === client.middlewareStack) === index,
  );
  /**
   * The engine's clock is fake, moto's is real. The SDK takes a server clock 4 minutes or more
   * away as skew and marks every failed call "clock skew corrected", which its retry strategy
   * retries (5 attempts for a plain NoSuchEntity); AWS would not see those calls. moto does
   * not check the signing time, so the correction is switched off on every engine client.
   */
  const withoutSkewCorrection = (client: unknown) => {
    (client as { config: { disableClockSkewCorrection?: () => Promise<boolean> } }).config.disableClockSkewCorrection = async () => true;
  };
  for (const client of clients) withoutSkewCorrection(client);
  for (const client of clients) countCalls(client, calls, inFlight);
  isolateDynamoDbTransactions(clients);
  const accepted: AcceptedEvent[] = [];
  const batches: Array<Array<{ DetailType?: string }>> = [];
  const eventBridge = clients.filter((client) => serviceOf(client) === 'EventBridge');
  for (const client of eventBridge) recordAcceptedEvents(client, accepted, batches);
  const deletedKeysStillWork = { on: false };
  const deniedSessionsStillWork = { on: false };
  const canaryAnswers: Fault = {
    operation: 'DescribeSecret',
    error: () => new Error('unused'),
    answer: (input) => ({
      output: { ARN: String(input.SecretId), Name: CANARY_SECRET, $metadata: { httpStatusCode: 200 } },
      response: { statusCode: 200, headers: {} },
    }),
    when: () => deniedSessionsStillWork.on,
  };
  const staleAccept: Fault = {
    operation: 'GetCallerIdentity',
    error: () => new Error('unused'),
    answer: () => ({
      output: {
        Account: ACCOUNT_ID,
        Arn: `arn:aws:iam::${ACCOUNT_ID}:user/deleted`,
        UserId: 'AIDADELETED',
        $metadata: { httpStatusCode: 200 },
      },
      response: { statusCode: 200, headers: {} },
    }),
    when: () => deletedKeysStillWork.on,
  };
  // The probes build a client per probed credential (STS for keys, the session canary for
  // sessions); each reports its client here.
  type Tracked = { options?: { track?: unknown } };
  const trackProbes = (issuers: Issuers) => {
    for (const issuer of Object.values(issuers) as unknown as Array<{ options?: { probe?: Tracked; canary?: { probe?: Tracked } } }>) {
      const keyProbe = issuer.options?.probe?.options;
      if (keyProbe) {
        keyProbe.track = (client: Parameters<typeof countCalls>[0]) => {
          withoutSkewCorrection(client);
          countCalls(client, calls, inFlight);
          injectFaults(client, [staleAccept]);
        };
      }
      const canaryProbe = issuer.options?.canary?.probe?.options;
      if (canaryProbe) {
        canaryProbe.track = (client: Parameters<typeof countCalls>[0]) => {
          withoutSkewCorrection(client);
          countCalls(client, calls, inFlight);
          jsonAccessDenied(client);
          injectFaults(client, [canaryAnswers]);
        };
      }
    }
  };
  trackProbes(hubIssuers);
  /** The clients reachable from `root` that are not the world's yet join it (counted, faultable); returns them. */
  const join = (root: unknown) => {
    const stacks = new Set(clients.map((client) => client.middlewareStack));
    const joining = sdkClientsOf(root).filter((candidate) => !stacks.has(candidate.middlewareStack));
    for (const client of joining) {
      withoutSkewCorrection(client);
      countCalls(client, calls, inFlight);
      clients.push(client);
      if (serviceOf(client) !== 'EventBridge') continue;
      recordAcceptedEvents(client, accepted, batches);
      eventBridge.push(client);
    }
    isolateDynamoDbTransactions(joining);
    return joining;
  };
  // A spoke's issuers, built on its first grant: their own clients (signed by the spoke engine role) join the world's.
  instrument = (issuers) => {
    join(issuers);
    trackProbes(issuers);
  };

  /** A container of its own: the composition modules imported afresh while the environment names `credentials`. */
  const proverSignedBy = async (credentials: AccessKey) => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', credentials.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey);
    try {
      vi.resetModules();
      const { handler } = await import('../../lambdas/handlers/prove-revocation');
      // The handler builds this engine on its first event; built here (the same module instance) so its clients join first.
      const engineIssuers = issuersByAccount.get(ACCOUNT_ID);
      const proving = await (await import('../../lambdas/composition/aws-engine')).awsProvingEngine();
      const ownIssuers = issuersByAccount.get(ACCOUNT_ID);
      if (ownIssuers === engineIssuers) throw new Error('the proving engine built no issuers of its own');
      const own = [...join(proving), ...sdkClientsOf(ownIssuers)];
      // An SDK client reads the environment's key once, on its first call, and keeps it: read now, while it names this key.
      // (A probe's client has no key: it signs each call with the credential it probes.)
      for (const client of own) {
        const config = client.config as { credentials?: () => Promise<unknown>; customUserAgent?: unknown };
        if (!JSON.stringify(config.customUserAgent ?? '').includes(PROBE_USER_AGENT)) await config.credentials?.();
      }
      return (event: unknown) => inTime(handler(event as never, lambdaContext('prove-revocation')) as Promise<HandlerResult>);
    } finally {
      vi.stubEnv('AWS_ACCESS_KEY_ID', engineKey.accessKeyId);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', engineKey.secretAccessKey);
    }
  };

  const start = startOfThisMinute();
  if (!options.realTime) vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: start });
  const inTime = <T>(work: Promise<T>) => (options.realTime ? work : inFakeTime(work, inFlight));
  const world: MotoWorld = {
    endpoint: endpoint(),
    aws,
    awsIn: (account) => {
      const clients = spokeAws[account];
      if (!clients) throw new Error(`account ${account} is not a spoke of this world`);
      return clients;
    },
    engine,
    sweepEngine,
    boundaryArn,
    deliveryKeyArn,
    brokeredSecretArn,
    at: (ms) => new Date(start.getTime() + ms).toISOString(),
    calls,
    accepted,
    putEventsBatches: () => batches.map((entries) => entries.map((entry) => entry.DetailType ?? '')),
    eventsOf: (grantId) => accepted.filter((event) => event.detail.grantId === grantId).map((event) => event.detailType),
    failEventEntries: (detailType, errorCode, times) => {
      for (const client of eventBridge) failPutEventsEntries(client, (entry) => entry.DetailType === detailType, errorCode, times);
    },
    deletedKeysStillWork,
    deniedSessionsStillWork,
    invoke: (name, event) => inTime(handlers[name](event, lambdaContext(name)) as Promise<HandlerResult>),
    proverSignedBy,
    run: (work) => inTime(work()),
    fault: (service, ...faults) => {
      const matching = clients.filter((client) => serviceOf(client) === service);
      if (matching.length === 0) throw new Error(`the engine has no ${service} client`);
      for (const client of matching) injectFaults(client, faults);
    },
    advance: (ms) => {
      if (options.realTime) throw new Error('a real-time world cannot advance its clock');
      vi.setSystemTime(Date.now() + ms);
    },
    engineClients: (service) => clients.filter((client) => serviceOf(client) === service),
  };
  current = {
    restore: () => {
      for (const client of [aws, ...Object.values(spokeAws)].flatMap((each) => Object.values(each))) client.destroy();
      vi.useRealTimers();
      vi.unstubAllEnvs();
      vi.doUnmock('../../lambdas/composition/account-issuers');
    },
  };
  return world;
}

export function closeWorld(): void {
  current?.restore();
  current = undefined;
}
