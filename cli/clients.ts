// CLI: the real adapters behind the commands: the DynamoDB grant store for reads, EventBridge
// for actions, STS for "who am I", CloudTrail for what a credential did. One endpoint serves all on the local engine.
import { userInfo } from 'node:os';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDbGrantStore } from '../lambdas/adapters/aws/dynamodb-grant-store';
import { UsageError, type BusEvent, type CliDeps, type CliIo, type EventSink, type PutOutcome } from './context';
import { CLI_SOURCE } from '../lambdas/routes';
import { operatorGateway } from './operator';
import { setTimeout as wait } from 'node:timers/promises';
import type { Policy } from '../lambdas/domain/policy';
import { loadPolicyFile, policyFileFor } from './policy-source';
import { stderrProgress } from './progress';
import { cloudTrailCalls, localEngineCalls, LOOKUP_INTERVAL_MS, pacer, paceRequests } from './call-records';

/** The source of every event the CLI sends. */
export const DEFAULT_TABLE = 'taskbound-grants';
export const DEFAULT_BUS = 'taskbound';
const LOCAL_REGION = 'us-east-1';
/** The local engine checks SigV4 framing, not who signed: any fixed pair will do. */
const LOCAL_CREDENTIALS = { accessKeyId: 'AKIALOCALTASKBOUND00', secretAccessKey: 'taskbound-local-engine' };

/** The global flags, as typed. */
export interface ConnectionFlags {
  readonly endpoint?: string;
  readonly region?: string;
  readonly table?: string;
  readonly bus?: string;
  readonly policy?: string;
}

export interface Connection {
  readonly endpoint?: string;
  readonly region?: string;
  readonly table: string;
  readonly bus: string;
  /** True when talking to the local engine without credentials of one's own. */
  readonly localCredentials: boolean;
}

/** `127.0.0.1:4010` parses as a URL of scheme `127.0.0.1:`, so the scheme is checked too. */
function isHttpUrl(text: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

/** Flags first, then TASKBOUND_* variables, then defaults; the local engine implies us-east-1. */
export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv): Connection {
  const endpoint = flags.endpoint;
  if (endpoint !== undefined && !isHttpUrl(endpoint)) {
    throw new UsageError(`--endpoint: "${endpoint}" is not an http(s) URL; the local engine's is http://127.0.0.1:4010`);
  }
  const region = flags.region ?? (endpoint ? LOCAL_REGION : undefined);
  return {
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    table: flags.table ?? env.TASKBOUND_TABLE ?? DEFAULT_TABLE,
    bus: flags.bus ?? env.TASKBOUND_BUS ?? DEFAULT_BUS,
    localCredentials: endpoint !== undefined && !env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE,
  };
}

/** Puts CLI events on the bus with PutEvents; a per-entry rejection comes back as a value. */
export class EventBridgeSink implements EventSink {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async put(events: readonly BusEvent[]): Promise<PutOutcome> {
    const response = await this.client.send(
      new PutEventsCommand({
        Entries: events.map((event) => ({
          Source: CLI_SOURCE,
          DetailType: event.detailType,
          Detail: JSON.stringify(event.detail),
          EventBusName: this.busName,
        })),
      }),
    );
    const entries = response.Entries ?? [];
    const failed = entries.find((entry) => entry.ErrorCode);
    if ((response.FailedEntryCount ?? 0) > 0 || failed) {
      return {
        ok: false,
        errorCode: failed?.ErrorCode ?? 'UnknownError',
        ...(failed?.ErrorMessage ? { errorMessage: failed.ErrorMessage } : {}),
      };
    }
    return { ok: true, eventIds: entries.flatMap((entry) => (entry.EventId ? [entry.EventId] : [])) };
  }
}

function localName(env: NodeJS.ProcessEnv): string {
  try {
    return `local:${userInfo().username}`;
  } catch {
    return `local:${env.USER ?? 'unknown'}`;
  }
}

/** The caller's ARN from STS, asked once; with local dummy credentials there is no one to ask. */
function callerIdentity(connection: Connection, sts: STSClient, env: NodeJS.ProcessEnv): () => Promise<string> {
  let known: Promise<string> | undefined;
  return () => {
    if (connection.localCredentials) return Promise.resolve(localName(env));
    known ??= sts.send(new GetCallerIdentityCommand({})).then((identity) => {
      if (!identity.Arn) throw new Error('STS returned no caller ARN; pass --as');
      return identity.Arn;
    });
    return known;
  };
}

/** CloudTrail, paced to stay under LookupEvents' limit; adaptive retries back off if the engine's own reads share it. */
function cloudTrailReader(config: { readonly region?: string }, sleep: (ms: number) => Promise<void>) {
  const client = new CloudTrailClient({ ...config, maxAttempts: 6, retryMode: 'adaptive' });
  paceRequests(client, pacer(LOOKUP_INTERVAL_MS, sleep));
  return cloudTrailCalls(client);
}

/** Builds the commands' dependencies over real SDK clients. Creating clients makes no calls. */
export function connect(flags: ConnectionFlags, io: CliIo, env: NodeJS.ProcessEnv = process.env): CliDeps {
  const connection = resolveConnection(flags, env);
  const config = {
    ...(connection.endpoint ? { endpoint: connection.endpoint } : {}),
    ...(connection.region ? { region: connection.region } : {}),
    ...(connection.localCredentials ? { credentials: LOCAL_CREDENTIALS } : {}),
  };
  const sts = new STSClient(config);
  const sleep = async (ms: number) => void (await wait(ms));
  let policy: Promise<Policy> | undefined;
  return {
    ...io,
    store: new DynamoDbGrantStore({
      client: new DynamoDBClient(config),
      tableName: connection.table,
    }),
    events: new EventBridgeSink(new EventBridgeClient(config), connection.bus),
    operator: operatorGateway(env),
    identity: callerIdentity(connection, sts, env),
    clock: { now: () => new Date() },
    policy: () => (policy ??= policyFileFor(flags.policy, env, connection.endpoint).then(loadPolicyFile)),
    progress: stderrProgress,
    sleep,
    credentialCalls: connection.endpoint ? localEngineCalls(connection.endpoint) : cloudTrailReader(config, sleep),
    callRecord: connection.endpoint ? 'local-engine' : 'cloudtrail',
  };
}
