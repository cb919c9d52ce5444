// Test helpers (integration): the engine's AWS composition root (composition/aws-engine.ts) over
// a world without an account. DynamoDB is an in-process dynalite reached through
// AWS_ENDPOINT_URL_DYNAMODB; IAM, STS, Secrets Manager, EventBridge and Scheduler are the
// stateful fakes, mocking every client of their class. Time is fake: each wait the engine
// makes (backoffs, probe retries, rotation checks) passes in fake time, never in real time.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { vi } from 'vitest';
import { CloudTrailClient, LookupEventsCommand, type Event as CloudTrailEvent } from '@aws-sdk/client-cloudtrail';
import { SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { ensureGrantTable } from '../../lambdas/adapters/aws/grant-table-definition';
import { startEmbeddedStore, type EmbeddedStore } from '../../lambdas/local/embedded-store';
import { compiledPolicy } from '../../lib/bundling';
import { FakeEventBridge } from '../helpers/fake-eventbridge';
import { FakeIam, type FakeIamOptions } from '../helpers/fake-iam';
import { FakeScheduler } from '../helpers/fake-scheduler';
import { FakeSecretsManager } from '../helpers/fake-secrets-manager';
import { FakeSts, type FakeStsOptions } from '../helpers/fake-sts';
import { TEST_POLICY_YAML } from '../helpers/test-policy';

export const ACCOUNT_ID = '111122223333';
export const BUS = 'taskbound';
export const SCHEDULER_GROUP = 'taskbound-expiry';
export const ROLE_PREFIX = 'taskbound-agent-';
export const BOUNDARY_ARN = `arn:aws:iam::${ACCOUNT_ID}:policy/taskbound-boundary`;
export const KMS_KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const ENGINE_ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/taskbound-engine/taskbound-task-started-us-east-1`;
export const EXPIRE_FUNCTION_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT_ID}:function:taskbound-expire-grant`;
export const SCHEDULER_ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/taskbound/engine/scheduler`;
export const SCHEDULER_DLQ_ARN = `arn:aws:sqs:us-east-1:${ACCOUNT_ID}:taskbound-expiry-dlq`;
/** Where the fake world's clock starts in every test. */
export const START = new Date('2026-11-28T12:00:00.000Z');

/** The Lambda timeouts of lib/stacks/engine-stack.ts: a handler that waits longer times out, as on AWS. */
const TIMEOUT_SECONDS = {
  'task-started': 30,
  'task-ended': 30,
  'grant-decision': 30,
  'credential-leaked': 30,
  'agent-status': 120,
  'expire-grant': 30,
  'ttl-expiry-stream': 120,
  sweep: 240,
} as const;
export type HandlerName = keyof typeof TIMEOUT_SECONDS;

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface WorldOptions {
  readonly iam?: Omit<FakeIamOptions, 'clock' | 'accountId'>;
  readonly sts?: Omit<FakeStsOptions, 'clock' | 'iam'>;
}

export interface World {
  readonly iam: FakeIam;
  readonly sts: FakeSts;
  readonly secrets: FakeSecretsManager;
  readonly bus: FakeEventBridge;
  readonly scheduler: FakeScheduler;
  /** CloudTrail event history: what LookupEvents answers, filtered by access key id and time. */
  readonly trail: CloudTrailEvent[];
  /** The table the engine writes, for what only DynamoDB itself does (TTL deletes). */
  readonly tableName: string;
  readonly dynamodb: DynamoDBClient;
  invoke(handler: HandlerName, event: unknown): Promise<HandlerResult>;
  /** Moves the world's clock on, as time passing between two invocations. */
  advance(ms: number): void;
  /** Detail-types the bus accepted for a grant, in order. */
  eventsOf(grantId: string): string[];
}

export interface HandlerResult {
  readonly outcome?: string;
  readonly reason?: string;
  readonly grant?: { readonly grantId: string; readonly state: string };
  readonly [key: string]: unknown;
}

const realSetImmediate = globalThis.setImmediate;
const nextTurn = () => new Promise<void>((resolve) => realSetImmediate(resolve));

/**
 * DynamoDB calls in flight. While one is, the engine waits on real I/O and the fake clock
 * must stand still; when none is and the invocation is unfinished, it waits on a timer.
 */
let dynamoCallsInFlight = 0;
const ownSend = Object.getOwnPropertyDescriptor(DynamoDBDocumentClient.prototype, 'send');

/** Every DynamoDB call the engine makes goes through its document client's `send`. */
function countDynamoCalls(): void {
  const send = DynamoDBDocumentClient.prototype.send as (...args: unknown[]) => Promise<unknown>;
  const counted = function (this: DynamoDBDocumentClient, ...args: unknown[]) {
    dynamoCallsInFlight += 1;
    return send.apply(this, args).finally(() => {
      dynamoCallsInFlight -= 1;
    });
  };
  Object.defineProperty(DynamoDBDocumentClient.prototype, 'send', { value: counted, configurable: true, writable: true });
}

function stopCountingDynamoCalls(): void {
  if (ownSend) Object.defineProperty(DynamoDBDocumentClient.prototype, 'send', ownSend);
  else Reflect.deleteProperty(DynamoDBDocumentClient.prototype, 'send');
}

/**
 * Runs `work` to completion, firing the engine's timers in fake time whenever it is parked
 * on one: each backoff takes no real time, yet the clock the fakes and the engine read moves
 * exactly as far as the engine waited.
 */
async function inFakeTime<T>(work: Promise<T>): Promise<T> {
  let done = false;
  work.then(
    () => (done = true),
    () => (done = true),
  );
  for (let idleTurns = 0; !done; ) {
    await nextTurn();
    if (done || dynamoCallsInFlight > 0) continue;
    if (vi.getTimerCount() > 0) {
      idleTurns = 0;
      await vi.advanceTimersToNextTimerAsync();
    } else if (++idleTurns > 10_000) {
      throw new Error('the invocation waits on neither DynamoDB nor a timer');
    }
  }
  return work;
}

function lambdaContext(name: HandlerName): Context {
  const deadline = Date.now() + TIMEOUT_SECONDS[name] * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `taskbound-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:${ACCOUNT_ID}:function:taskbound-${name}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/taskbound-${name}`,
    logStreamName: 'integration',
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
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

let store: EmbeddedStore | undefined;
let tables = 0;
let current: { readonly world: World; readonly restore: () => void } | undefined;

/** Once per file: the embedded DynamoDB, the environment the composition root reads. */
export async function openWorlds(): Promise<void> {
  store = await startEmbeddedStore();
  const environment: Record<string, string | undefined> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_ENDPOINT_URL: undefined,
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: undefined,
    AWS_CONFIG_FILE: '/nonexistent/aws/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws/credentials',
    AWS_ENDPOINT_URL_DYNAMODB: store.endpoint,
    EVENT_BUS_NAME: BUS,
    ACCOUNT_ID,
    INSTANCE_NAME: 'taskbound',
    AGENT_ROLE_PREFIX: ROLE_PREFIX,
    PERMISSIONS_BOUNDARY_ARN: BOUNDARY_ARN,
    DELIVERY_KMS_KEY_ARN: KMS_KEY_ARN,
    ENGINE_ROLE_ARNS: ENGINE_ROLE_ARN,
    SCHEDULER_GROUP,
    SCHEDULER_ROLE_ARN,
    EXPIRE_FUNCTION_ARN,
    SCHEDULER_DLQ_ARN,
    TASKBOUND_POLICY: compiledPolicy(TEST_POLICY_YAML, 'test.policy.yaml'),
    // The faults staged here log errors on purpose; the assertions are on AWS state and events.
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };
  for (const [name, value] of Object.entries(environment)) vi.stubEnv(name, value);
  countDynamoCalls();
}

export async function closeWorlds(): Promise<void> {
  vi.unstubAllEnvs();
  stopCountingDynamoCalls();
  await store?.close();
}

/**
 * A fresh world: its own grant table, a freshly imported composition root (its adapters are
 * built once per module instance, on first use), new fakes, and the clock at START.
 */
export async function openWorld(options: WorldOptions = {}): Promise<World> {
  closeWorld();
  const tableName = `grants-${++tables}`;
  vi.stubEnv('TABLE_NAME', tableName);
  const dynamodb = new DynamoDBClient({ region: 'us-east-1' });
  await ensureGrantTable(dynamodb, tableName);
  vi.resetModules();
  const handlers: Record<HandlerName, Handler> = {
    'task-started': (await import('../../lambdas/handlers/task-started')).handler,
    'task-ended': (await import('../../lambdas/handlers/task-ended')).handler,
    'grant-decision': (await import('../../lambdas/handlers/grant-decision')).handler,
    'credential-leaked': (await import('../../lambdas/handlers/credential-leaked')).handler,
    'agent-status': (await import('../../lambdas/handlers/agent-status')).handler,
    'expire-grant': (await import('../../lambdas/handlers/expire-grant')).handler,
    'ttl-expiry-stream': (await import('../../lambdas/handlers/ttl-expiry-stream')).handler,
    sweep: (await import('../../lambdas/handlers/sweep')).handler,
  } as Record<HandlerName, Handler>;

  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: START });
  const clock = { now: () => new Date() };
  const iam = new FakeIam({ clock, accountId: ACCOUNT_ID, ...options.iam });
  iam.addRole(`${ROLE_PREFIX}release-bot`);
  iam.addRole(`${ROLE_PREFIX}deploy-bot`);
  const sts = new FakeSts({ clock, iam, ...options.sts });
  const secrets = new FakeSecretsManager({ everyClient: true });
  const bus = new FakeEventBridge([BUS], { everyClient: true });
  const scheduler = new FakeScheduler([SCHEDULER_GROUP], { everyClient: true });
  // The session canary the stateful stack creates; a session's call is judged as IAM would (its deny).
  secrets.seed('taskbound-engine/canary', 'canary');
  secrets.gate = (credentials, action) => {
    if (!sts.sessions.has(credentials.accessKeyId)) return undefined;
    const decision = sts.authorize(credentials, action);
    if (decision === 'Allowed') return undefined;
    const code = decision === 'ExplicitDeny' || decision === 'ImplicitDeny' ? 'AccessDeniedException' : decision;
    return new SecretsManagerServiceException({ name: code, $fault: 'client', $metadata: { httpStatusCode: 400 }, message: `not authorized to perform ${action} (${decision})` });
  };
  const trail: CloudTrailEvent[] = [];
  const cloudTrail = mockClient(CloudTrailClient);
  cloudTrail.on(LookupEventsCommand).callsFake(async (input: { LookupAttributes?: { AttributeValue?: string }[]; StartTime?: Date; EndTime?: Date }) => ({
    Events: trail.filter(
      (event) =>
        event.AccessKeyId === input.LookupAttributes?.[0]?.AttributeValue &&
        event.EventTime! >= (input.StartTime ?? new Date(0)) &&
        event.EventTime! <= (input.EndTime ?? new Date()),
    ),
  }));

  const world: World = {
    iam,
    sts,
    secrets,
    bus,
    scheduler,
    trail,
    tableName,
    dynamodb,
    invoke: (name, event) => inFakeTime(handlers[name](event, lambdaContext(name)) as Promise<HandlerResult>),
    advance: (ms) => vi.setSystemTime(Date.now() + ms),
    eventsOf: (grantId) => bus.accepted.filter((event) => event.detail.grantId === grantId).map((event) => event.detailType),
  };
  current = {
    world,
    restore: () => {
      for (const fake of [scheduler, bus, secrets, sts, iam]) fake.restore();
      cloudTrail.restore();
      dynamodb.destroy();
      vi.useRealTimers();
    },
  };
  return world;
}

export function closeWorld(): void {
  current?.restore();
  current = undefined;
}
