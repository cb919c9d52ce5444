// Local engine: the composition root for `npm start`. The same handlers, use cases and AWS
// adapters as in AWS, wired to an embedded store and to this process's own AWS-protocol
// endpoints; only what has no local AWS (credential authority, timers) is local-only.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as z from 'zod';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateSecretCommand, ResourceExistsException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parsePolicy } from '../domain/policy-file';
import { assertPolicyLints } from '../policy-lint/scope-lint';
import type { Policy } from '../domain/policy';
import type { Grant } from '../domain/grant';
import { DEFAULT_DUE_TIMING, type DueTiming } from '../domain/due';
import { DEFAULT_RESERVED_CONCURRENCY, reservedConcurrencyPerFunction, ROUTES, type ConcurrencyShares } from '../routes';
import type { EngineDeps, EngineLogger } from '../use-cases/engine-deps';
import type { Clock, ExpiryScheduler } from '../ports';
import { sweepDueGrants, type SweepReport } from '../use-cases/sweep';
import { reconcileOrphans } from '../use-cases/reconcile-orphans';
import { revokeUnentitledGrants } from '../use-cases/revoke-unentitled';
import { recoverInterruptedIssuance } from '../use-cases/recover-interrupted-issuance';
import { DynamoDbGrantStore } from '../adapters/aws/dynamodb-grant-store';
import { RememberingGrantStore } from '../adapters/local/remembering-grant-store';
import { RememberingDeliveryVault } from '../adapters/local/remembering-delivery-vault';
import { CoalescingEventPublisher } from '../adapters/local/coalescing-event-publisher';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDbKmsDeliveryVault } from '../adapters/aws/dynamodb-kms-delivery-vault';
import { ensureDeliveryTable } from '../adapters/aws/delivery-table-definition';
import { DELIVERY_MODES, type DeliveryMode } from '../domain/delivery-item';
import { createKmsService, localKmsKeyArn } from './emulated-aws/kms-service';
import { ensureGrantTable } from '../adapters/aws/grant-table-definition';
import { SecretsManagerDeliveryVault } from '../adapters/aws/secrets-manager-delivery-vault';
import { EventBridgePublisher } from '../adapters/aws/eventbridge-publisher';
import { StsCredentialProbe, type ProbeSchedule } from '../adapters/aws/sts-credential-probe';
import { LOCAL_CANARY_SECRET_NAME, SecretsManagerCanaryProbe } from '../adapters/aws/canary-probe';
import { createDeliveryLock } from './emulated-aws/delivery-lock';
import { issuedCredentialGate } from './emulated-aws/issued-credential-gate';
import { LocalCredentialIssuer } from '../adapters/local/local-credential-issuer';
import { TimerExpiryScheduler } from '../adapters/local/timer-expiry';
import { signatureClockOf, steadyClock, type SteadyClock } from '../adapters/local/steady-clock';
import { LocalCredentialAuthority } from './emulated-aws/credential-authority';
import { startEmbeddedStore } from './emulated-aws/embedded-store';
import { openStateTables } from './emulated-aws/state-tables';
import { openEventBus, type EventBus } from './emulated-aws/event-bus';
import { createEventBridgeService } from './emulated-aws/eventbridge-service';
import { requestCaller } from './emulated-aws/request-caller';
import { createSecretsManagerService } from './emulated-aws/secrets-manager-service';
import { createStsService } from './emulated-aws/sts-service';
import { createDynamoDbProxyService } from './emulated-aws/dynamodb-proxy-service';
import { startAwsProtocolServer } from './emulated-aws/aws-protocol-server';
import { CredentialCallLog } from './emulated-aws/credential-calls';
import { CALL_FILE, CredentialCallFile } from './emulated-aws/credential-call-file';
import { localClientConfig, LOCAL_CREDENTIALS, LOCAL_REGION, SdkCallCounter } from './host/sdk-clients';
import { reuseSigner } from '../composition/reused-signer';
import { buildLocalHandlers } from './host/local-handlers';
import { localInvoker, type InLane } from './host/function-invoker';
import { ReservedConcurrency, type FunctionLoad } from './host/reserved-concurrency';
import { revokedByBacklog } from './host/backlog-revocations';
import { LocalBrokeredSecretRotator } from '../adapters/local/local-brokered-secret-rotator';
import { loadOperatorKeyring, recordEndpoint } from './host/operator-credentials';
import { createOperatorService } from './host/operator-service';
import { inspectStateDirectory, markStateFormat, type StateDirectory } from './host/state-directory';
import { OPERATOR_PATH, type OperatorCredentials } from '../domain/operator-api';
import { DEFAULT_ROUTING } from '../domain/alert-routing';
import type { AlertDeps } from '../use-cases/send-alert';
import { inMemoryApprovalMessages } from '../adapters/slack/in-memory-approval-messages';
import { localNotifier } from '../adapters/slack/slack-config';
import { SlackNotifier } from '../adapters/slack/slack-notifier';
import { LOCAL_ACCOUNT_ID } from '../constants';
import { inRevocationLane, laneAwareRetryStrategy, QuotaThrottle, type QuotaTable } from '../adapters/aws/quota-throttle';
import { throttledService, type ThrottleCounts } from './emulated-aws/throttled-service';

export const LOCAL_TABLE = 'taskbound-grants';
export const LOCAL_BUS = 'taskbound';
/** The `dynamodb-kms` mode's delivery table: what a runtime names in TASKBOUND_DELIVERY_TABLE. */
export const LOCAL_DELIVERY_TABLE = 'taskbound-deliveries';
/** The engine's own identity in delivery secrets' resource policies (stored, not enforced, locally). */
const LOCAL_ENGINE_ROLE = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/taskbound-local-engine`;

export interface LocalEngineOptions {
  /** State directory; in memory when absent (tests, benchmarks). */
  readonly dataDir?: string;
  /** Where the embedded store runs: a worker thread of its own (default) or the engine's thread (`shared`). */
  readonly storeThread?: 'own' | 'shared';
  readonly policyFile: string;
  readonly host?: string;
  readonly port?: number;
  /** How often the sweep runs; 30 s by default. 0 turns the timer off (tests drive it). */
  readonly sweepIntervalMs?: number;
  /** Emulates IAM's eventual consistency: a deleted access key keeps working this long. */
  readonly accessKeyRevocationLagMs?: number;
  /** Emulates IAM's deny propagation: a revoked session keeps working this long. */
  readonly sessionDenyLagMs?: number;
  /** How long a revocation keeps probing a credential that still works before leaving it to the sweep. */
  readonly probeSchedule?: ProbeSchedule;
  readonly dueTiming?: Partial<DueTiming>;
  readonly slackWebhookUrl?: string;
  readonly logger?: EngineLogger;
  /** The engine's clock; tests move it to reach expiries without waiting. */
  readonly clock?: Clock;
  /** Where readable alerts go when no Slack webhook is set. */
  readonly print?: (line: string) => void;
  /**
   * Throttle the emulated Secrets Manager and EventBridge at these quotas (as AWS does), and pace
   * the engine's own clients to them with revocations first (the quota simulation, bench/quota.ts).
   */
  readonly quotas?: QuotaTable;
  /**
   * How deliveries are written: Secrets Manager secrets (the default) or KMS-encrypted items in
   * the delivery table (`dynamodb-kms`, docs/scale.md §8), with the local KMS on the same port.
   */
  readonly delivery?: DeliveryMode;
  /**
   * How grants expire: a timer per grant (the default, as Scheduler's one schedule per grant on
   * AWS), or `due-index`: no per-grant timer; every `dueIndexIntervalMs` one reader per shard of
   * the due index expires what is due (AWS: a rule every minute, docs/scale.md §8).
   */
  readonly expiry?: 'timer' | 'due-index';
  /** The due-index readers' period; 60 s (the rule's rate on AWS) by default. */
  readonly dueIndexIntervalMs?: number;
  /**
   * Invocations at once per issuing and per revoking function, the rest queued per function as in
   * Lambda's async queue: the stack's default reservation unless set; `false`: no limit but the
   * sweep's 1 (as `reservedConcurrency: false` on AWS leaves them to the unreserved pool).
   */
  readonly reservedConcurrency?: ConcurrencyShares | false;
}

export { retiredAgentWarnings } from './host/retired-agent-grants';
export { steadyClock } from '../adapters/local/steady-clock';

export interface LocalEngine {
  readonly url: string;
  readonly port: number;
  readonly policy: Policy;
  readonly deps: EngineDeps;
  readonly bus: EventBus;
  readonly sdkCalls: SdkCallCounter;
  readonly delivery: DeliveryMode;
  /** Set in the `dynamodb-kms` mode: runtimes read their delivery here (TASKBOUND_DELIVERY_TABLE). */
  readonly deliveryTable?: string;
  /** Accepted and throttled requests per operation, when `quotas` is set. */
  throttleCounts(): ThrottleCounts | undefined;
  /** Each limited function's invocations in flight and queued, now and at their peak. */
  functionLoad(): Readonly<Record<string, FunctionLoad>>;
  /** The operator endpoint (`POST <url>/operator`, SigV4 for service `lambda`). */
  readonly operatorUrl: string;
  /** The key pair the engine holds for each person of the policy, to sign operator requests with. */
  readonly operatorCredentials: OperatorCredentials;
  /** Where those are kept (mode 0600); undefined for an in-memory engine. */
  readonly operatorCredentialsFile?: string;
  /** What the data directory held at start (new, or written by which engine); undefined for an in-memory engine. */
  readonly stateDirectory?: StateDirectory;
  sweep(): Promise<SweepReport>;
  stop(): Promise<void>;
}

/** Local defaults: retry a revocation or a probe after 2 s rather than AWS's minute. */
const LOCAL_DUE_TIMING: DueTiming = { ...DEFAULT_DUE_TIMING, retryAfterMs: 2_000 };

/** The settings a typo could break, checked before anything starts (fail fast, naming the setting). */
const localSettingsSchema = z.object({
  policyFile: z.string().min(1),
  storeThread: z.enum(['own', 'shared']).optional(),
  port: z.number().int().min(0).max(65_535).optional(),
  sweepIntervalMs: z.number().int().min(0).optional(),
  accessKeyRevocationLagMs: z.number().int().min(0).optional(),
  probeSchedule: z.object({ attempts: z.number().int().min(1), delayMs: z.number().min(0) }).optional(),
  slackWebhookUrl: z.string().min(1).optional(),
  delivery: z.enum(DELIVERY_MODES).optional(),
  expiry: z.enum(['timer', 'due-index']).optional(),
  dueIndexIntervalMs: z.number().int().min(100).optional(),
  reservedConcurrency: z
    .union([z.strictObject({ issuing: z.number().int().min(1), revoking: z.number().int().min(1) }), z.literal(false)])
    .optional(),
});

export async function startLocalEngine(options: LocalEngineOptions): Promise<LocalEngine> {
  const settings = localSettingsSchema.safeParse(options);
  if (!settings.success) {
    throw new Error(
      `invalid local engine settings: ${settings.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  }
  const policy = parsePolicy(await readFile(options.policyFile, 'utf8'), options.policyFile);
  // A machine's clock may be stepped back (by hand, by NTP): the engine's never is (steady-clock.ts).
  const clock = options.clock ?? steadyClock();
  const signatureClock = signatureClockOf(clock);
  const logger = options.logger ?? consoleLogger();
  // The scope lint (Service Authorization Reference) runs here, at synth and in `policy check`; Lambdas get a linted policy.
  for (const warning of await assertPolicyLints(policy))
    logger.warn('policy lint', { path: warning.path.join('.'), rule: warning.rule, message: warning.message });
  const counter = new SdkCallCounter();
  const dueTiming = { ...LOCAL_DUE_TIMING, ...options.dueTiming };

  // Refused before anything starts: a directory the engine cannot write, or one a newer engine wrote.
  const stateDirectory = options.dataDir ? await inspectStateDirectory(options.dataDir) : undefined;
  for (const warning of stateDirectory?.warnings ?? []) logger.warn('data directory', { warning });
  // The store gets a thread of its own (its share of every store call then runs on another core); a failure of it stops the engine.
  const store = await startEmbeddedStore({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ownThread: options.storeThread !== 'shared',
  });
  if (options.dataDir) await markStateFormat(options.dataDir);
  // Under quotas: paced to them (revocations first), and the SDK's adaptive retry (issuance only) for what pacing misses.
  // Calls in flight stay under the SDK's 50 sockets, so waiting happens in the queue that serves revocations first.
  const quotas = options.quotas;
  const pacing = quotas ? new QuotaThrottle({ quotas, maxConcurrency: { secretsmanager: 16, events: 16, dynamodb: 8 } }) : undefined;
  const paced = <C>(client: C, service: string): C => (pacing ? pacing.attach(client, service) : client);
  const retries = quotas ? { retryStrategy: laneAwareRetryStrategy(10) } : {};
  // Only pacing reads the lane; unpaced, no async context is tracked (tracking it hooks every promise: SDK calls cost ~20% more CPU).
  const inLane: InLane = pacing ? inRevocationLane : (work) => work();
  const engineDynamo = (cacheMiddleware: boolean) =>
    paced(
      counter.track(reuseSigner(new DynamoDBClient({ ...localClientConfig(store.endpoint), ...retries, cacheMiddleware }))),
      'dynamodb',
    );
  // The grant store and the credential authority convert items themselves, so their client resolves each command's
  // middleware chain once; the document client refuses that cache, so the KMS delivery's has a client of its own.
  const dynamo = engineDynamo(true);
  const documentsBase = engineDynamo(false);
  const documents = DynamoDBDocumentClient.from(documentsBase, { marshallOptions: { removeUndefinedValues: true } });
  await ensureGrantTable(dynamo, LOCAL_TABLE);
  // The emulated services keep their state in the same store, in tables of their own, through a client of their own.
  const state = await openStateTables(store.endpoint);
  const delivery = options.delivery ?? 'secrets-manager';
  if (delivery === 'dynamodb-kms') await ensureDeliveryTable(dynamo, LOCAL_DELIVERY_TABLE);
  // The authority stands in for IAM and STS calls the engine makes on AWS, so its writes count as the engine's SDK calls.
  const authority = new LocalCredentialAuthority({
    client: dynamo,
    tableName: state.table('credentials').tableName,
    clock,
    accessKeyRevocationLagMs: options.accessKeyRevocationLagMs ?? 0,
    sessionDenyLagMs: options.sessionDenyLagMs ?? 0,
    // Its reads of credentials long dead (they leave its memory) are the emulated IAM's own, not the engine's calls.
    coldReads: state.table('credentials').client,
  });
  await authority.start();
  // The engine is its own key, correctly signed; anyone else is named as AWS names them in a refusal.
  const callerOf = requestCaller({
    engineKey: LOCAL_CREDENTIALS,
    signatureClock,
    principalOf: async (accessKeyId: string, sessionToken: string | undefined) => {
      const standing = await authority.standing(accessKeyId, sessionToken);
      return standing.status === 'valid' ? standing.credential.principalArn : undefined;
    },
  });
  const secrets = await createSecretsManagerService({
    table: state.table('secrets'),
    region: LOCAL_REGION,
    onRotate: () => `rotated-${crypto.randomUUID()}`,
    gate: issuedCredentialGate(authority, signatureClock),
    // As on AWS for a runtime relying on the delivery's resource policy: nobody but the engine reads it before it is locked.
    deliveryLock: createDeliveryLock(callerOf),
  });
  const bus = await openEventBus({
    name: LOCAL_BUS,
    region: LOCAL_REGION,
    tables: { events: state.table('events'), deadLetters: state.table('deadLetters') },
    onDeadLetter: (letter) => logger.error('event dead-lettered', { rule: letter.rule, eventId: letter.envelope.id, error: letter.error }),
  });

  let ready = false;
  const throttledSecrets = quotas ? throttledService(secrets, 'secretsmanager', quotas) : undefined;
  // As the stack's bus policy: only the engine speaks as the engine; a forgery is refused whole and logged.
  const eventBridge = createEventBridgeService(bus, {
    callerOf,
    onRefused: (refusal) => logger.warn('PutEvents refused: only the engine may send these sources', { ...refusal }),
  });
  const events = quotas ? throttledService(eventBridge, 'events', quotas) : eventBridge;
  let operatorDeps: EngineDeps | undefined;
  const keyring = await loadOperatorKeyring({
    people: policy.people,
    region: LOCAL_REGION,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  });
  const operator = createOperatorService({ keyring, signatureClock, deps: () => (ready ? operatorDeps : undefined) });
  const callFile = options.dataDir
    ? new CredentialCallFile({
        path: join(options.dataDir, CALL_FILE),
        onWriteError: (error) => logger.error('credential calls not written yet', { error: String(error) }),
      })
    : undefined;
  const calls = new CredentialCallLog(
    (accessKeyId) => authority.issued(accessKeyId),
    () => clock.now(),
    undefined,
    callFile,
    (error) => logger.error('could not tell whether a credential was issued; its call is recorded', { error: String(error) }),
  );
  // What the engine spends, for the benchmark that runs it as its own process: CPU and SDK calls.
  const usage = () => {
    const cpu = process.cpuUsage();
    return {
      cpuMs: (cpu.user + cpu.system) / 1000,
      sdkCalls: counter.calls,
      sdkCallsByOperation: Object.fromEntries(counter.byOperation),
      pendingEvents: bus.pendingEvents,
    };
  };
  const server = await startAwsProtocolServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 4010,
    services: [
      operator,
      createStsService({ authority, clock, signatureClock }),
      throttledSecrets ?? secrets,
      events,
      createDynamoDbProxyService(store.endpoint),
      ...(delivery === 'dynamodb-kms'
        ? [await createKmsService({ region: LOCAL_REGION, ...(options.dataDir ? { dataDir: options.dataDir } : {}) })]
        : []),
    ],
    onCall: (request, response) => calls.record(request, response),
    localRead: (path) => calls.answer(path),
    health: () =>
      ready
        ? {
            ready: true,
            policyVersion: policy.policyVersion,
            // The CLI's inventory reads the same file (cli/policy-source.ts), not the example one.
            policyFile: resolve(options.policyFile),
            agents: Object.keys(policy.agents).length,
            bus: LOCAL_BUS,
            table: LOCAL_TABLE,
            delivery,
            ...(delivery === 'dynamodb-kms' ? { deliveryTable: LOCAL_DELIVERY_TABLE } : {}),
            ...usage(),
          }
        : undefined,
  });

  // Their middleware is all added before the first call, so each command's chain is built once, not per call (the
  // SDK's documented `cacheMiddleware`; DynamoDB's document client refuses it, so the store's client builds it each time).
  const engineClients = { ...localClientConfig(server.url), ...retries, cacheMiddleware: true };
  const secretsClient = paced(counter.track(reuseSigner(new SecretsManagerClient(engineClients))), 'secretsmanager');
  const rotator = new LocalBrokeredSecretRotator(secretsClient, policy);
  await rotator.ensureSecrets();
  await ensureCanarySecret(secretsClient);
  const probe = new StsCredentialProbe({ region: LOCAL_REGION, endpoint: server.url, track: (client) => void counter.track(client) });
  const canary = new SecretsManagerCanaryProbe({
    region: LOCAL_REGION,
    endpoint: server.url,
    canarySecretId: LOCAL_CANARY_SECRET_NAME,
    track: (client) => void counter.track(client),
  });
  const grantStore = new DynamoDbGrantStore({ client: dynamo, tableName: LOCAL_TABLE, dueTiming });
  const probeSchedule = options.probeSchedule ?? { attempts: 3, delayMs: 200 };
  const timers = new TimerExpiryScheduler(clock, (grantId, error) =>
    logger.error('expiry failed; the sweep retries', { grantId, error: String(error) }),
  );
  const dueIndexExpiry = options.expiry === 'due-index';
  // In the due-index mode nothing is armed per grant: the readers below find each expiry in the index.
  const expiry: ExpiryScheduler = dueIndexExpiry ? { scheduleExpiry: async () => undefined, cancelExpiry: async () => undefined } : timers;
  const deps: EngineDeps = {
    policy,
    clock,
    logger,
    dueTiming,
    // As on AWS: a kill probes once, and a death the emulated IAM has not enforced yet (--deny-lag,
    // --iam-lag) is proven by prove-revocation while the revoking function's slot takes the next kill.
    handOffProofs: true,
    // One process runs every function here: what it wrote is not read back (remembering-*.ts).
    store: new RememberingGrantStore(grantStore),
    issuers: {
      'aws-sts-session': new LocalCredentialIssuer({
        kind: 'aws-sts-session',
        authority,
        probe,
        probeSchedule,
        canary,
        canaryArnPattern: `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:secret:${LOCAL_CANARY_SECRET_NAME}-??????`,
        nowMs: () => clock.now().getTime(),
      }),
      'aws-iam-access-key': new LocalCredentialIssuer({ kind: 'aws-iam-access-key', authority, probe, probeSchedule }),
    },
    vault: new RememberingDeliveryVault(
      delivery === 'dynamodb-kms'
        ? new DynamoDbKmsDeliveryVault(documents, counter.track(reuseSigner(new KMSClient(engineClients))), {
            tableName: LOCAL_DELIVERY_TABLE,
            keyId: localKmsKeyArn(LOCAL_REGION),
            clock,
          })
        : // The deployed engine's calls: created with the value, then locked, as under the stack's
          // delivery key. Locally the delivery lock refuses everyone but the engine until it is locked; once locked, any
          // key reads it (README: resource policies are stored, not enforced).
          new SecretsManagerDeliveryVault(secretsClient, {
            enginePrincipalArns: [LOCAL_ENGINE_ROLE],
            kmsKeyArn: localKmsKeyArn(LOCAL_REGION),
            keyPolicyLocksValue: true,
          }),
    ),
    events: new CoalescingEventPublisher(
      new EventBridgePublisher(paced(counter.track(reuseSigner(new EventBridgeClient(engineClients))), 'events'), {
        eventBusName: LOCAL_BUS,
      }),
    ),
    rotator,
    expiry,
  };

  // Alerts go to the Slack webhook when one is set, else to the console, readably.
  const alerts: AlertDeps = {
    notifier: new SlackNotifier(localNotifier({ SLACK_WEBHOOK_URL: options.slackWebhookUrl }, options.print ?? console.log)),
    routing: DEFAULT_ROUTING,
    approvals: inMemoryApprovalMessages(),
  };
  // Each function runs at most its reservation at once, the rest queued, as on Lambda (docs/scale.md §5).
  const concurrency = new ReservedConcurrency(
    reservedConcurrencyPerFunction(options.reservedConcurrency ?? DEFAULT_RESERVED_CONCURRENCY, false),
  );
  const invoke = localInvoker(buildLocalHandlers(deps, alerts), concurrency, inLane);
  for (const route of ROUTES) bus.addRule(route.name, route.pattern, (envelope) => invoke(route.handler, envelope));
  timers.connect((grantId) => invoke('expire-grant', { grantId }));
  // Re-arm before the bus replays anything, so a replayed event's own schedule wins.
  // In due-index mode there are no timers to re-arm: the readers find what is due.
  const outstanding = await rearmExpiries(deps, dueIndexExpiry ? undefined : timers);
  // Nothing issues before the bus starts: what the last process was issuing when it died is settled now, not minutes later
  // (a revocation it was in the middle of is left to the event that asked for it, delivered again below).
  const recovered = await recoverInterruptedIssuance(deps, outstanding, revokedByBacklog(bus.backlog()));
  if (recovered.closed + recovered.revoked + recovered.leftToBacklog > 0)
    logger.warn('settled issuance a restart interrupted', { ...recovered });
  bus.start();
  // The sweep function's one slot: a periodic sweep never overlaps a requested one, as on AWS.
  const sweep = () => concurrency.run('sweep', () => inLane(() => sweepDueGrants(deps)));
  await sweep();
  // The policy may have changed since the last process stopped: what it no longer allows is revoked at
  // start, as a new container's first sweep does on AWS.
  const reconcile = async () => {
    await reconcileOrphans(deps);
    const unentitled = await revokeUnentitledGrants(deps);
    if (unentitled.revoked > 0) logger.warn('revoked live grants the policy no longer allows', { ...unentitled });
  };
  await reconcile();
  const sweepEvery = options.sweepIntervalMs ?? 30_000;
  let sweeps = 0;
  const periodicSweep = async () => {
    await sweep();
    // Reconciliation lists every delivery, credential and live grant, so it runs every tenth sweep.
    if (++sweeps % 10 === 0) await reconcile();
  };
  const sweepTimer =
    sweepEvery > 0
      ? setInterval(() => void periodicSweep().catch((error) => logger.error('sweep failed', { error: String(error) })), sweepEvery)
      : undefined;
  sweepTimer?.unref();
  // The fan-out, as the per-minute rule invokes it on AWS: one reader per shard, all at once, each through the handler.
  const readDueShards = async () => {
    const shards = Array.from({ length: grantStore.dueShards }, (_, shard) => shard);
    await Promise.all(
      shards.map((dueShard) =>
        invoke('expire-grant', { dueShard }).catch((error) => logger.error('due shard reader failed', { dueShard, error: String(error) })),
      ),
    );
  };
  let reading: Promise<void> | undefined;
  const dueTimer = dueIndexExpiry
    ? setInterval(() => {
        // One read of the shards at a time; an overrunning read delays the next rather than overlapping it.
        reading ??= readDueShards().finally(() => (reading = undefined));
      }, options.dueIndexIntervalMs ?? 60_000)
    : undefined;
  dueTimer?.unref();
  operatorDeps = deps;
  ready = true;
  // Written again with the address the engine really got (port 0 picks one), for the CLI's default.
  const operatorCredentials = await recordEndpoint(keyring, server.url);

  return {
    url: server.url,
    port: server.port,
    policy,
    deps,
    bus,
    sdkCalls: counter,
    delivery,
    ...(delivery === 'dynamodb-kms' ? { deliveryTable: LOCAL_DELIVERY_TABLE } : {}),
    throttleCounts: () => throttledSecrets?.counts(),
    functionLoad: () => concurrency.load(),
    operatorUrl: `${server.url}${OPERATOR_PATH}`,
    operatorCredentials,
    ...(keyring.file ? { operatorCredentialsFile: keyring.file } : {}),
    ...(stateDirectory ? { stateDirectory } : {}),
    sweep,
    async stop() {
      ready = false;
      if (sweepTimer) clearInterval(sweepTimer);
      if (dueTimer) clearInterval(dueTimer);
      await reading;
      timers.stop();
      // Handlers in flight still call the engine's own endpoints: let them finish first.
      await bus.idle();
      await server.close();
      await calls.close();
      await bus.close();
      await secrets.close();
      state.close();
      await store.close();
      dynamo.destroy();
      documentsBase.destroy();
    },
  };
}

/** The canary every session may describe (as the stack creates it on AWS); it holds nothing. */
async function ensureCanarySecret(client: SecretsManagerClient): Promise<void> {
  try {
    const description = 'Taskbound canary: sessions describe it to prove they still work';
    await client.send(new CreateSecretCommand({ Name: LOCAL_CANARY_SECRET_NAME, Description: description, SecretString: 'canary' }));
  } catch (error) {
    if (!(error instanceof ResourceExistsException)) throw error;
  }
}

/** Timers die with the process: re-arm every active grant's expiry from the store. Returns the grants read. */
async function rearmExpiries(deps: EngineDeps, expiry: TimerExpiryScheduler | undefined): Promise<readonly Grant[]> {
  const horizon = new Date(deps.clock.now().getTime() + 24 * 3600_000);
  const due = await deps.store.dueGrants(horizon, 100_000);
  catchUpWithLastRun(deps, due.grants);
  if (expiry) for (const grant of due.grants) await rearm(expiry, grant);
  return due.grants;
}

/**
 * The machine's clock may have been stepped back while the engine was stopped: then grants were
 * written later than now, and every expiry re-armed from now would come late by the step, in real
 * time. The clock moves on to the last write it finds instead (an engine's own steady clock only).
 */
function catchUpWithLastRun(deps: EngineDeps, grants: readonly Grant[]): void {
  if (!('catchUp' in deps.clock) || grants.length === 0) return;
  const lastWriteMs = Math.max(...grants.map((grant) => Date.parse(grant.updatedAt)).filter(Number.isFinite));
  const movedMs = (deps.clock as SteadyClock).catchUp(lastWriteMs);
  if (movedMs > 0)
    deps.logger?.warn("this machine's clock is behind the engine's last write: the engine's clock runs on from that write", {
      behindMs: movedMs,
      lastWrite: new Date(lastWriteMs).toISOString(),
    });
}

async function rearm(expiry: TimerExpiryScheduler, grant: Grant): Promise<void> {
  if (grant.state === 'active' && grant.expiresAt) await expiry.scheduleExpiry(grant.grantId, new Date(grant.expiresAt));
  // Issuance that died after delivering: the credential may exist, so it dies when its TTL would end.
  if (grant.state === 'issuing' && grant.ttlSeconds !== undefined) {
    await expiry.scheduleExpiry(grant.grantId, new Date(Date.parse(grant.updatedAt) + grant.ttlSeconds * 1000));
  }
}

function consoleLogger(): EngineLogger {
  const line = (level: string) => (message: string, extra?: Record<string, unknown>) =>
    console.error(`[taskbound ${level}] ${message}${extra ? ` ${JSON.stringify(extra)}` : ''}`);
  return { info: () => undefined, warn: line('warn'), error: line('error') };
}
