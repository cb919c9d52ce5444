// Bench (soak) and test (crash under load): busy agent runtimes. Each loops start a task, read
// its delivery, use the credential, sometimes report it leaked, end the task; a kill switch
// suspends one agent now and then and a person resumes it. Every call is retried while the
// engine is down (a crash test kills it), and everything the runtimes were told is kept, for
// the checks once the engine has settled (soak-checks.ts).
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Agent } from 'node:http';
import { localClientConfig, LOCAL_REGION } from '../lambdas/local/host/sdk-clients';
import { LOCAL_BUS } from '../lambdas/local/engine';
import { realSleep as sleep } from '../lambdas/adapters/sleep';
import { Taskbound } from '../sdk';
import { LOCAL_RUNTIME_CREDENTIALS } from '../sdk/taskbound';

/** The agents and scopes of `bench/soak.policy.yaml`. */
export const SOAK_POLICY = {
  busyAgent: 'busy-bot',
  /** The agent the kill switch suspends and resumes: its starts are refused while it is suspended. */
  switchedAgent: 'switch-bot',
  scopes: ['soak-read', 'soak-upload-key'],
  person: 'lead@example.com',
} as const;

/** A delivered credential; its secret parts stay in memory, only to prove them dead later. */
export interface HeldCredential {
  readonly agentId: string;
  readonly taskId: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface BusyRuntimesOptions {
  /** The engine's URL; a restarted engine listens on the same port. */
  readonly endpoint: string;
  readonly runtimes: number;
  /** Seeded, so a failing run can be replayed (the caller prints the seed). */
  readonly random: () => number;
  /** Task ids start with this (unique per run). */
  readonly taskPrefix: string;
  /** Share of issued credentials reported leaked before their task ends. */
  readonly leakShare?: number;
  /** Share of tasks started for the agent the kill switch suspends. */
  readonly switchedShare?: number;
  /** How long a runtime keeps a credential before ending its task, at most. */
  readonly holdMs?: number;
  /** How long a runtime waits for its delivery before ending the task anyway. */
  readonly deliveryTimeoutMs?: number;
  /** Resumes the suspended agent as a person (through the operator endpoint); the kill switch is off without it. */
  readonly resume?: (agentId: string) => Promise<void>;
  /** Seconds between a suspension and its resume, and between a resume and the next suspension. */
  readonly suspensionEveryMs?: number;
}

/** What the runtimes did and were told: the checks read it. */
export interface RuntimeLedger {
  /** `agentId/taskId` of every Task Started PutEvents answered with an event id. */
  readonly accepted: Set<string>;
  /** Every credential a runtime read from its delivery. */
  readonly credentials: HeldCredential[];
  /** `agentId/taskId` of tasks whose delivery said neither issued nor denied in time. */
  readonly undelivered: string[];
  readonly counts: {
    started: number;
    issued: number;
    denied: number;
    undelivered: number;
    leaked: number;
    ended: number;
    suspensions: number;
    retries: number;
  };
}

const RETRY_MS = 200;
/** While the engine is killed again and again it is down most of the time: keep trying this long. */
const ACCEPT_TIMEOUT_MS = 300_000;

export class BusyRuntimes {
  readonly ledger: RuntimeLedger = {
    accepted: new Set(),
    credentials: [],
    undelivered: [],
    counts: { started: 0, issued: 0, denied: 0, undelivered: 0, leaked: 0, ended: 0, suspensions: 0, retries: 0 },
  };
  private running = false;
  private aborted = false;
  private failure: unknown;
  private loops: Promise<void>[] = [];
  private readonly connections = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly events: EventBridgeClient;
  private readonly secrets: SecretsManagerClient;
  private readonly taskbound: Taskbound;

  constructor(private readonly options: BusyRuntimesOptions) {
    // Signed as runtimes, not as the engine: a delivery not locked yet is refused to them, as on AWS.
    const config = {
      ...localClientConfig(options.endpoint),
      credentials: LOCAL_RUNTIME_CREDENTIALS,
      requestHandler: { httpAgent: this.connections },
    };
    this.events = new EventBridgeClient(config);
    this.secrets = new SecretsManagerClient(config);
    this.taskbound = new Taskbound({ eventBridge: this.events, secretsManager: this.secrets, busName: LOCAL_BUS });
  }

  start(): void {
    this.running = true;
    const loops = Array.from({ length: this.options.runtimes }, (_, runtime) => this.runtimeLoop(runtime));
    if (this.options.resume) loops.push(this.killSwitchLoop(this.options.resume));
    // A loop that gives up stops the others; `stop` reports why (never an unhandled rejection).
    this.loops = loops.map((loop) =>
      loop.catch((error: unknown) => {
        this.failure ??= error;
        this.running = false;
      }),
    );
  }

  /** Gives up at once (a failed test): calls in progress stop retrying and the loops end without ending their tasks. */
  abort(): void {
    this.running = false;
    this.aborted = true;
    void Promise.all(this.loops).then(() => this.connections.destroy());
  }

  /** Stops starting tasks; resolves once every runtime has ended the task it held (and the agent is resumed). */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.events.destroy();
    this.secrets.destroy();
    this.connections.destroy();
    if (this.failure !== undefined) throw this.failure;
  }

  /** Retries `call` until it succeeds: the engine may be down, restarting or throttling. */
  private async untilDone<T>(what: string, call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + ACCEPT_TIMEOUT_MS;
    for (;;) {
      try {
        return await call();
      } catch (error) {
        if (this.aborted || Date.now() > deadline)
          throw new Error(`${what}: still failing after ${ACCEPT_TIMEOUT_MS} ms (${error instanceof Error ? error.name : String(error)})`, {
            cause: error,
          });
        this.ledger.counts.retries++;
        await sleep(RETRY_MS);
      }
    }
  }

  private async runtimeLoop(runtime: number): Promise<void> {
    const random = this.options.random;
    for (let task = 0; this.running; task++) {
      const agentId = random() < (this.options.switchedShare ?? 0.2) ? SOAK_POLICY.switchedAgent : SOAK_POLICY.busyAgent;
      const taskId = `${this.options.taskPrefix}-${runtime}-${task}`;
      const scope = SOAK_POLICY.scopes[random() < 0.5 ? 0 : 1] ?? SOAK_POLICY.scopes[0];
      const leak = random() < (this.options.leakShare ?? 0.05);
      const holdMs = Math.floor(random() * (this.options.holdMs ?? 300));
      await this.untilDone('Task Started', () =>
        this.taskbound.startTask({ agentId, taskId, purpose: 'soak and crash load', requestedBy: 'soak@example.com', scopes: [scope] }),
      );
      this.ledger.accepted.add(`${agentId}/${taskId}`);
      this.ledger.counts.started++;
      const credential = await this.awaitDelivery(agentId, taskId);
      if (credential) {
        await this.use(credential);
        if (leak) {
          await this.untilDone('Credential Leaked', () =>
            put(this.events, 'Credential Leaked', {
              credentialId: credential.accessKeyId,
              reportedBy: 'soak@example.com',
              evidence: 'soak test',
            }),
          );
          this.ledger.counts.leaked++;
        }
      }
      await sleep(holdMs);
      await this.untilDone('Task Ended', () => this.taskbound.endTask({ agentId, taskId, outcome: 'succeeded' }));
      this.ledger.counts.ended++;
    }
  }

  /** Reads the delivery until it says issued or denied; undefined when refused or never delivered in time. */
  private async awaitDelivery(agentId: string, taskId: string): Promise<HeldCredential | undefined> {
    const deadline = Date.now() + (this.options.deliveryTimeoutMs ?? 20_000);
    while (Date.now() < deadline && !this.aborted) {
      try {
        const reading = await this.taskbound.readDelivery({ agentId, taskId });
        if (reading.status === 'denied') {
          this.ledger.counts.denied++;
          return undefined;
        }
        if (reading.status === 'issued' && reading.accessKeyId && reading.secretAccessKey) {
          const credential = {
            agentId,
            taskId,
            accessKeyId: reading.accessKeyId,
            secretAccessKey: reading.secretAccessKey,
            ...(reading.sessionToken ? { sessionToken: reading.sessionToken } : {}),
          };
          this.ledger.credentials.push(credential);
          this.ledger.counts.issued++;
          return credential;
        }
      } catch {
        // The engine is down or restarting: read again.
      }
      await sleep(100);
    }
    this.ledger.counts.undelivered++;
    this.ledger.undelivered.push(`${agentId}/${taskId}`);
    return undefined;
  }

  /** One call with the credential, as an agent would; its outcome is not the runtime's concern here. */
  private async use(credential: HeldCredential): Promise<void> {
    await probeCredential(this.options.endpoint, credential, this.connections);
  }

  private async killSwitchLoop(resume: (agentId: string) => Promise<void>): Promise<void> {
    const every = this.options.suspensionEveryMs ?? 4_000;
    const pause = async () => {
      const until = Date.now() + every * (0.5 + this.options.random());
      while (this.running && Date.now() < until) await sleep(100);
    };
    await pause();
    while (this.running) {
      await this.untilDone('Agent Suspended', () =>
        put(this.events, 'Agent Suspended', {
          agentId: SOAK_POLICY.switchedAgent,
          by: 'soak@example.com',
          reason: 'soak: kill switch drill',
        }),
      );
      this.ledger.counts.suspensions++;
      await pause();
      await this.untilDone('resume', () => resume(SOAK_POLICY.switchedAgent));
      await pause();
    }
  }
}

/** GetCallerIdentity signed with the credential: `ok`, or the error STS answered. */
export async function probeCredential(
  endpoint: string,
  credential: Pick<HeldCredential, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>,
  httpAgent?: Agent,
): Promise<{ ok: true } | { ok: false; code: string }> {
  const sts = new STSClient({
    endpoint,
    region: LOCAL_REGION,
    maxAttempts: 1,
    ...(httpAgent ? { requestHandler: { httpAgent } } : {}),
    credentials: {
      accessKeyId: credential.accessKeyId,
      secretAccessKey: credential.secretAccessKey,
      ...(credential.sessionToken ? { sessionToken: credential.sessionToken } : {}),
    },
  });
  try {
    await sts.send(new GetCallerIdentityCommand({}));
    return { ok: true };
  } catch (error) {
    return { ok: false, code: error instanceof Error ? error.name : 'UnknownError' };
  } finally {
    if (!httpAgent) sts.destroy();
  }
}

async function put(events: EventBridgeClient, detailType: string, detail: Record<string, unknown>): Promise<void> {
  const answer = await events.send(
    new PutEventsCommand({
      Entries: [{ EventBusName: LOCAL_BUS, Source: 'soak.agent-runtime', DetailType: detailType, Detail: JSON.stringify(detail) }],
    }),
  );
  const entry = answer.Entries?.[0];
  if (!entry?.EventId) throw new Error(`PutEvents refused ${detailType}: ${entry?.ErrorCode ?? 'no entry'}`);
}

/** A small seeded generator (mulberry32): the same seed replays the same choices. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
