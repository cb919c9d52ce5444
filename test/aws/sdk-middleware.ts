// Test tier (AWS emulator): middleware on the engine's real SDK clients. A counter of the AWS
// API calls each client sends, and faults (throttling, 5xx, IAM's eventual consistency)
// injected in the SDK's own stack, so retries, error parsing and backoff stay the SDK's.
import type { HandlerExecutionContext } from '@aws-sdk/types';
import { probeCredentialOf } from '../../lambdas/adapters/aws/probe-client';
import { MOTO_ACCOUNT_ID } from './moto-server';

/** The part of the SDK's middleware stack used here (the SDK's own types are a transitive dependency). */
interface MiddlewareStack {
  add(middleware: never, options: object): void;
  addRelativeTo(middleware: never, options: object): void;
  identify(): string[];
}

type Middleware = never;
type InitializeStep = never;

interface SdkClient {
  readonly config: { readonly serviceId?: string };
  readonly middlewareStack: MiddlewareStack;
}

const isSdkClient = (value: unknown): value is SdkClient =>
  typeof value === 'object' && value !== null && 'middlewareStack' in value && 'send' in value && 'config' in value;

/**
 * Every SDK client reachable from `root` (the composition root's adapters hold them in
 * private fields), once each: a document client shares its base client's stack.
 */
export function sdkClientsOf(root: unknown): SdkClient[] {
  const clients: SdkClient[] = [];
  const stacks = new Set<unknown>();
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number) => {
    if (typeof value !== 'object' || value === null || seen.has(value) || depth > 6) return;
    seen.add(value);
    if (isSdkClient(value)) {
      if (!stacks.has(value.middlewareStack)) {
        stacks.add(value.middlewareStack);
        clients.push(value);
      }
      return;
    }
    for (const key of Object.keys(value)) visit((value as Record<string, unknown>)[key], depth + 1);
  };
  visit(root, 0);
  return clients;
}

/** The service of a client, as the SDK names it (`IAM`, `STS`, `DynamoDB`, ...). */
export const serviceOf = (client: SdkClient) => client.config.serviceId ?? 'unknown';

/** One AWS API call, as sent: each attempt of the SDK's retries counts, as AWS bills and throttles it. */
export interface ApiCall {
  readonly service: string;
  readonly operation: string;
  /** DynamoDB: the item's sort key (`GRANT`, `SLOT#0`, `EXPIRY`, `AGENT`), which prices the call. */
  readonly sortKey?: string;
  /** DynamoDB: the bytes of the item written, as sent. */
  readonly itemBytes?: number;
  /** DynamoDB TransactWriteItems: each of its items, which AWS bills as two writes each. */
  readonly transactItems?: readonly TransactItemDetail[];
  /** STS AssumeRole: the role assumed (which spoke role a function acts through). */
  readonly roleArn?: string;
}

export interface TransactItemDetail {
  readonly kind: string;
  readonly sortKey?: string;
  readonly itemBytes?: number;
}

type AttributeValue = string | { readonly S?: string } | undefined;
const stringOf = (value: AttributeValue) => (typeof value === 'string' ? value : value?.S);

type DynamoInput = { Item?: Record<string, AttributeValue>; Key?: Record<string, AttributeValue> };

function dynamoDetail(
  input: (DynamoInput & { TransactItems?: Record<string, DynamoInput>[] }) | undefined,
): Pick<ApiCall, 'sortKey' | 'itemBytes' | 'transactItems'> {
  if (input?.TransactItems)
    return {
      transactItems: input.TransactItems.flatMap((item) => Object.entries(item).map(([kind, part]) => ({ kind, ...dynamoDetail(part) }))),
    };
  const record = input?.Item ?? input?.Key;
  const sortKey = stringOf(record?.sk);
  return {
    ...(sortKey ? { sortKey } : {}),
    ...(input?.Item ? { itemBytes: Buffer.byteLength(JSON.stringify(input.Item)) } : {}),
  };
}

/** Counts every attempt the client sends (after the SDK's retry step, before signing). */
export function countCalls(client: SdkClient, calls: ApiCall[], inFlight: { count: number }): void {
  const service = serviceOf(client);
  client.middlewareStack.addRelativeTo(
    ((next: (args: { input?: object }) => Promise<unknown>, context: { commandName?: string }) => async (args: { input?: object }) => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      const roleArn = operation === 'AssumeRole' ? (args.input as { RoleArn?: string } | undefined)?.RoleArn : undefined;
      calls.push({
        service,
        operation,
        ...(service === 'DynamoDB' ? dynamoDetail(args.input as Parameters<typeof dynamoDetail>[0]) : {}),
        ...(roleArn ? { roleArn } : {}),
      });
      inFlight.count += 1;
      if (process.env.DEBUG_MOTO) console.log('→', service, operation);
      try {
        return await next(args);
      } catch (error) {
        if (process.env.DEBUG_MOTO)
          console.log(
            '✗',
            service,
            operation,
            (error as Error).name,
            JSON.stringify((error as { $metadata?: unknown }).$metadata),
            (error as Error).message,
          );
        throw error;
      } finally {
        inFlight.count -= 1;
        if (process.env.DEBUG_MOTO) console.log('←', service, operation);
      }
    }) as unknown as Middleware,
    { name: 'taskboundCallCounter', relation: 'after', toMiddleware: 'retryMiddleware', override: true },
  );
}

/** An error as the SDK's deserializer would raise it for an AWS error response. */
export function awsServiceError(code: string, httpStatusCode: number, message: string): Error {
  return Object.assign(new Error(message), {
    name: code,
    Code: code,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode, attempts: 1, totalRetryDelay: 0 },
  });
}

/** A fault: which call it hits, what it answers, and how many times (default: every time). */
export interface Fault {
  readonly operation: string;
  readonly error: () => Error;
  times?: number;
  /** Answer with this instead of failing (a stale read, an eventually consistent accept); gets the command's input. */
  readonly answer?: (input: Record<string, unknown>) => unknown;
  /** Applies only while this holds. */
  readonly when?: () => boolean;
}

/**
 * Answers matching calls with the fault's error instead of sending them. It sits after the
 * retry step, so the SDK's retry strategy sees each failed attempt as it would AWS's answer.
 */
let faultLayers = 0;

export function injectFaults(client: SdkClient, faults: Fault[]): void {
  client.middlewareStack.addRelativeTo(
    ((next: (args: { input?: Record<string, unknown> }) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: { input?: Record<string, unknown> }) => {
        const operation = (context.commandName ?? '').replace(/Command$/, '');
        const fault = faults.find(
          (candidate) =>
            candidate.operation === operation && (candidate.times === undefined || candidate.times > 0) && (candidate.when?.() ?? true),
        );
        if (!fault) return next(args);
        if (fault.times !== undefined) fault.times -= 1;
        if (fault.answer) return fault.answer(args.input ?? {});
        throw fault.error();
      }) as unknown as Middleware,
    {
      name: `taskboundFaults${++faultLayers}`,
      relation: 'after',
      // Behind the counter when there is one, so a faulted attempt still counts as a call sent.
      toMiddleware: client.middlewareStack.identify().some((entry) => entry.startsWith('taskboundCallCounter'))
        ? 'taskboundCallCounter'
        : 'retryMiddleware',
    },
  );
}

export const throttling = () => awsServiceError('Throttling', 400, 'Rate exceeded');
export const serviceUnavailable = () => awsServiceError('ServiceUnavailable', 503, 'Service is unavailable');

/** An event PutEvents accepted (it came back with an EventId). */
export interface AcceptedEvent {
  readonly busName: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: Record<string, unknown>;
}

interface PutEventsEntry {
  readonly EventBusName?: string;
  readonly Source?: string;
  readonly DetailType?: string;
  readonly Detail?: string;
}
interface PutEventsResult {
  readonly FailedEntryCount?: number;
  readonly Entries?: Array<{ readonly EventId?: string; readonly ErrorCode?: string; readonly ErrorMessage?: string }>;
}
type Initialize = (args: { input: { Entries?: PutEventsEntry[] } }) => Promise<{ output: PutEventsResult }>;

/** Records what the bus accepted: each entry of a PutEvents whose result carries an EventId. */
export function recordAcceptedEvents(client: SdkClient, accepted: AcceptedEvent[], sent: PutEventsEntry[][]): void {
  client.middlewareStack.add(
    ((next: Initialize, context: { commandName?: string }) => async (args: Parameters<Initialize>[0]) => {
      const result = await next(args);
      if (context.commandName !== 'PutEventsCommand') return result;
      const entries = args.input.Entries ?? [];
      sent.push(entries);
      entries.forEach((entry, index) => {
        if (!result.output.Entries?.[index]?.EventId) return;
        accepted.push({
          busName: entry.EventBusName ?? 'default',
          source: entry.Source ?? '',
          detailType: entry.DetailType ?? '',
          detail: JSON.parse(entry.Detail ?? '{}') as Record<string, unknown>,
        });
      });
      return result;
    }) as unknown as InitializeStep,
    { step: 'initialize', name: 'taskboundAcceptedEvents', priority: 'high', override: true },
  );
}

/**
 * EventBridge's partial failure: entries matching `fails` come back with `errorCode` and are
 * not sent, the rest reach moto; the result is put together as AWS shapes it (the failed
 * entries' results in place, FailedEntryCount). `times` bounds how many entries fail.
 */
export function failPutEventsEntries(
  client: SdkClient,
  fails: (entry: PutEventsEntry) => boolean,
  errorCode: string,
  times = Number.POSITIVE_INFINITY,
): void {
  let remaining = times;
  client.middlewareStack.add(
    ((next: Initialize, context: { commandName?: string }) => async (args: Parameters<Initialize>[0]) => {
      if (context.commandName !== 'PutEventsCommand') return next(args);
      const entries = args.input.Entries ?? [];
      const failing = entries.map((entry) => remaining > 0 && fails(entry) && remaining-- > 0);
      const passing = entries.filter((_, index) => !failing[index]);
      const sentResult =
        passing.length > 0
          ? await next({ ...args, input: { ...args.input, Entries: passing } })
          : { output: { FailedEntryCount: 0, Entries: [] } };
      const passed = [...(sentResult.output.Entries ?? [])];
      const results = failing.map((failed) =>
        failed ? { ErrorCode: errorCode, ErrorMessage: `${errorCode} (injected)` } : (passed.shift() ?? {}),
      );
      return {
        ...sentResult,
        output: { ...sentResult.output, Entries: results, FailedEntryCount: results.filter((entry) => entry.ErrorCode).length },
      };
    }) as unknown as InitializeStep,
    { step: 'initialize', name: 'taskboundFailedEntries', priority: 'low', override: true },
  );
}

interface RawResponse {
  statusCode?: number;
  headers: Record<string, string>;
  body?: unknown;
}
type Deserialize = (args: unknown) => Promise<{ response: RawResponse; output?: unknown }>;

/**
 * moto answers an IAM denial of a JSON-protocol call (Secrets Manager) with its XML error
 * document, which the SDK cannot parse (a SyntaxError, not AccessDeniedException). This
 * rewrites exactly that answer, a 403 whose XML code is AccessDenied, into AWS's JSON form
 * (`AccessDeniedException`, as Secrets Manager answers); every other answer passes untouched.
 */
export function jsonAccessDenied(client: SdkClient): void {
  client.middlewareStack.add(
    ((next: Deserialize) => async (args: unknown) => {
      const result = await next(args);
      const { response } = result;
      if (
        response.statusCode !== 403 ||
        !response.body ||
        typeof (response.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] !== 'function'
      )
        return result;
      const chunks: Uint8Array[] = [];
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('utf8');
      const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? 'Access denied';
      const body = /<Code>AccessDenied<\/Code>/.test(text) ? JSON.stringify({ __type: 'AccessDeniedException', message }) : text;
      response.body = new Uint8Array(Buffer.from(body));
      if (body !== text)
        response.headers = {
          ...response.headers,
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-errortype': 'AccessDeniedException',
        };
      return result;
    }) as unknown as Middleware,
    { step: 'deserialize', name: 'taskboundJsonAccessDenied', priority: 'low', override: true },
  );
}

/** The SDK's own step after retry: a middleware here sees each attempt and the deserialized answer. */
type Attempt = (args: { input?: Record<string, unknown> }) => Promise<{ output?: Record<string, unknown> } & Record<string, unknown>>;

let layers = 0;
/** A middleware on each attempt after the SDK's retry step: it may answer, fail, or pass the attempt on to moto. */
export function afterRetry(
  client: SdkClient,
  middleware: (next: Attempt, operation: string, context: HandlerExecutionContext) => Attempt,
): void {
  client.middlewareStack.addRelativeTo(
    ((next: Attempt, context: HandlerExecutionContext) =>
      middleware(next, (context.commandName ?? '').replace(/Command$/, ''), context)) as unknown as Middleware,
    {
      name: `taskboundAws${++layers}`,
      relation: 'after',
      // Behind the engine's own pacing (aws-engine.ts), as AWS answers only what the engine sent; and behind the
      // counter when there is one, so an attempt answered here still counts as a call sent.
      toMiddleware:
        ['taskboundQuotaThrottle', 'taskboundCallCounter'].find((name) =>
          client.middlewareStack.identify().some((entry) => entry.startsWith(name)),
        ) ?? 'retryMiddleware',
    },
  );
}

/** An answer as the SDK returns it from moto: output plus the raw response. */
const answered = (output: Record<string, unknown>) => ({
  output: { ...output, $metadata: { httpStatusCode: 200 } },
  response: { statusCode: 200, headers: {} },
});

/** A time source the fault reads (the test's fake clock). */
export interface Now {
  now(): Date;
}

/**
 * IAM's eventual consistency for a new user: "a change you make is not immediately visible"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
 * A user moto just created answers every call naming it with NoSuchEntity, and is left out of
 * ListUsers, until `windowMs` has passed on `clock`. `error` builds IAM's modeled NoSuchEntityException.
 */
export function newUsersInvisible(
  client: SdkClient,
  options: { readonly clock: Now; readonly windowMs: number; readonly error: (userName: string) => Error },
): void {
  const createdAt = new Map<string, number>();
  const invisible = (name: unknown) =>
    typeof name === 'string' && (createdAt.get(name) ?? -Infinity) + options.windowMs > options.clock.now().getTime();
  afterRetry(client, (next, operation) => async (args) => {
    const userName = args.input?.UserName;
    if (operation === 'CreateUser') {
      const result = await next(args);
      createdAt.set(String(userName), options.clock.now().getTime());
      return result;
    }
    if (invisible(userName)) throw options.error(String(userName));
    const result = await next(args);
    if (operation === 'ListUsers' && Array.isArray(result.output?.Users)) {
      result.output.Users = (result.output.Users as Array<{ UserName?: string }>).filter((user) => !invisible(user.UserName));
    }
    return result;
  });
}

/**
 * IAM's eventual consistency for a deleted access key: it keeps authenticating for a few
 * seconds (same page as above). moto refuses it at once, so the probe client `track` sees
 * answers GetCallerIdentity as STS would for a live key while the key's deletion, seen on the
 * engine's IAM client `iam`, is younger than `windowMs` on `clock`.
 */
export function deletedKeysStillAccepted(
  iam: SdkClient,
  options: { readonly clock: Now; readonly windowMs: number },
): { track(probeClient: unknown): void } {
  const deleted = new Map<string, { readonly at: number; readonly userName: string }>();
  afterRetry(iam, (next, operation) => async (args) => {
    const result = await next(args);
    if (operation === 'DeleteAccessKey')
      deleted.set(String(args.input?.AccessKeyId), { at: options.clock.now().getTime(), userName: String(args.input?.UserName) });
    return result;
  });
  return {
    track: (probeClient) => {
      // A probe's client signs each call with the credential it probes (probe-client.ts), so that is the key to look up.
      afterRetry(probeClient as SdkClient, (next, operation, context) => async (args) => {
        if (operation !== 'GetCallerIdentity') return next(args);
        const key = deleted.get(probeCredentialOf(context)?.accessKeyId ?? '');
        if (!key || key.at + options.windowMs <= options.clock.now().getTime()) return next(args);
        return answered({
          Account: MOTO_ACCOUNT_ID,
          Arn: `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/taskbound/${key.userName}`,
          UserId: 'AIDADELETEDKEYSTILLOK',
        });
      });
    },
  };
}

/**
 * ListUsers in pages of `pageSize`: IAM "can return fewer results, even when there are more
 * results available" (ListUsers, MaxItems: https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUsers.html);
 * moto returns every user at once. The marker is opaque, as IAM's.
 */
export function listUsersInPages(client: SdkClient, pageSize: number): void {
  afterRetry(client, (next, operation) => async (args) => {
    if (operation !== 'ListUsers') return next(args);
    const { Marker: marker, ...input } = args.input ?? {};
    const result = await next({ ...args, input });
    const start = typeof marker === 'string' ? Number(Buffer.from(marker, 'base64').toString()) : 0;
    const users = (result.output?.Users ?? []) as unknown[];
    const end = start + pageSize;
    const truncated = end < users.length;
    result.output = {
      ...result.output,
      Users: users.slice(start, end),
      IsTruncated: truncated,
      ...(truncated ? { Marker: Buffer.from(String(end)).toString('base64') } : {}),
    };
    if (!truncated) delete (result.output as { Marker?: unknown }).Marker;
    return result;
  });
}

/** Runs `before` ahead of the next `times` calls of `operation` (a racing writer, a key added meanwhile). */
export function beforeCall(
  client: SdkClient,
  operation: string,
  before: (input: Record<string, unknown>, context: HandlerExecutionContext) => Promise<void> | void,
  times = 1,
): void {
  let remaining = times;
  afterRetry(client, (next, called, context) => async (args) => {
    if (called === operation && remaining > 0) {
      remaining -= 1;
      await before(args.input ?? {}, context);
    }
    return next(args);
  });
}

/**
 * AWS's side of its request quotas: one token bucket per `service:Operation` at the quota, shared
 * by every client attached (quotas are per account and region). An attempt finding its bucket
 * empty is answered `ThrottlingException` (HTTP 400), as Secrets Manager and EventBridge answer
 * past their quotas, and the SDK retries it as throttling. Counts what was let through and refused.
 */
export class ServiceQuotas {
  readonly accepted: Record<string, number> = {};
  readonly throttled: Record<string, number> = {};
  private readonly buckets = new Map<string, { tryTake(): boolean }>();

  constructor(quotas: Readonly<Record<string, number>>, bucket: (ratePerSecond: number) => { tryTake(): boolean }) {
    for (const [operation, rate] of Object.entries(quotas)) this.buckets.set(operation, bucket(rate));
  }

  /** `service` as IAM names it in actions (`secretsmanager`, `events`, `scheduler`). */
  attach(client: SdkClient, service: string): void {
    afterRetry(client, (next, operation) => async (args) => {
      const key = `${service}:${operation}`;
      const bucket = this.buckets.get(key);
      if (bucket && !bucket.tryTake()) {
        this.throttled[key] = (this.throttled[key] ?? 0) + 1;
        throw awsServiceError('ThrottlingException', 400, 'Rate exceeded');
      }
      this.accepted[key] = (this.accepted[key] ?? 0) + 1;
      return next(args);
    });
  }
}

/**
 * moto 5.2.1 cancels a transaction by restoring a copy of each table it took when the transaction
 * began, with no lock: a write another request committed meanwhile is lost (seen: a grant opened by
 * one TransactWriteItems vanished when a racing start's transaction was cancelled), and a read may
 * see a transaction half applied. DynamoDB isolates them. So in the world a `TransactWriteItems` runs
 * alone, and other DynamoDB requests run together between transactions, in arrival order: every
 * order is one DynamoDB could have chosen. Each attempt takes its turn, not each call.
 */
export function isolateDynamoDbTransactions(clients: readonly SdkClient[]): void {
  const lock = readersWriterLock();
  for (const client of clients.filter((candidate) => serviceOf(candidate) === 'DynamoDB')) {
    afterRetry(client, (next, operation) => (args) => lock(operation === 'TransactWriteItems', () => next(args)));
  }
}

/** A first-come lock: a writer runs alone, readers run together; none overtakes one that came first. */
function readersWriterLock(): <T>(write: boolean, body: () => Promise<T>) => Promise<T> {
  let readers = 0;
  let writing = false;
  const queue: { readonly write: boolean; readonly start: () => void }[] = [];
  const pump = () => {
    for (let head = queue[0]; head && !writing; head = queue[0]) {
      if (head.write && readers > 0) return;
      queue.shift();
      if (head.write) writing = true;
      else readers += 1;
      head.start();
    }
  };
  return async (write, body) => {
    await new Promise<void>((start) => {
      queue.push({ write, start });
      pump();
    });
    try {
      return await body();
    } finally {
      if (write) writing = false;
      else readers -= 1;
      pump();
    }
  };
}
