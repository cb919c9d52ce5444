// Bench: the kill switch at scale (issue 12 item 5). One agent holds `grants` live grants
// (half STS sessions, half IAM access keys; bench.policy.yaml allows it 1,000); `Agent
// Suspended` goes on the bus, and every credential is probed with STS until each one is
// refused. The figures: the time from PutEvents answering to the last credential refused, and
// to the engine's last `verified` write (read from its table once all is done, as the CLI does).
import { loadavg } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { STSClient } from '@aws-sdk/client-sts';
import type { Grant } from '../lambdas/domain/grant';
import { LOCAL_BUS, LOCAL_TABLE } from '../lambdas/local/engine';
import { localClientConfig } from '../lambdas/local/host/sdk-clients';
import { ACCESS_KEY_SCOPE, BENCH_AGENT, BenchDriver, SESSION_SCOPE } from './driver';
import { usageBetween, type EngineProcess } from './engine-process';
import { ascending, nearestRank } from './percentiles';
import { machineCpuMs } from './machine-cpu';

/** Runtimes opening the grants at once: enough to open 1,000 in well under a minute, few enough not to time out. */
const OPENING_CONCURRENCY = 50;
/**
 * Probes in flight at once while waiting for the refusals, and the pause between rounds: the
 * probes share the machine with the engine they wait for, so they stay gentle. One round over
 * 1,000 credentials is the figure's resolution.
 */
const PROBE_CONCURRENCY = 16;
const PROBE_ROUND_PAUSE_MS = 200;
const DEADLINE_MS = 600_000;
/** The opened grants' task ids begin with it: the agent may hold grants closed before (`bench:suspension --preload`). */
const SUSPENDED_TASK_PREFIX = 'suspend-';

export interface SuspensionRun {
  readonly grants: number;
  /** Time to open the grants (Task Started → issued, all of them). */
  readonly openMs: number;
  /** PutEvents(`Agent Suspended`) answered → the last credential refused by STS. */
  readonly allDeadMs: number;
  /** The same per credential. */
  readonly deadMs: { readonly p50: number; readonly p99: number };
  /** Rounds of probes over the credentials still accepted (the figure's resolution is one round). */
  readonly probeRounds: number;
  readonly rejectionCodes: Readonly<Record<string, number>>;
  /** PutEvents(`Agent Suspended`) answered → the engine's last `verified` write (its audit time; same machine, same clock). */
  readonly allVerifiedMs: number;
  /** The agent's grants by state once the engine has gone quiet: all `verified` is the promise. */
  readonly states: Readonly<Record<string, number>>;
  /** What the engine spent from PutEvents to quiet: CPU (serving the bench's probes included) and its own SDK calls. */
  /** The machine's 1-minute load average when `Agent Suspended` was sent (the machine is shared). */
  readonly loadAverage1mAtSuspension: number;
  readonly engine: { readonly cpuMs: number; readonly sdkCalls: number; readonly sdkCallsByOperation: Readonly<Record<string, number>> };
  /**
   * The machine's CPU time from PutEvents to quiet (Linux /proc/stat, all cores) and whose it was: the engine's,
   * this load generator's (its probes, and whatever else this process still does), and other processes' on the shared machine.
   */
  readonly cpuShares: {
    readonly machineBusyMs: number;
    readonly machineIdleMs: number;
    readonly engineMs: number;
    readonly loadGeneratorMs: number;
    readonly otherProcessesMs: number;
  };
}

/** Issue 12 item 5, read strictly: every credential refused, and every grant recorded `verified`, within 5 s of 1,000. */
export function suspensionTargetMet(run: SuspensionRun): boolean {
  return run.grants >= 1000 && run.allDeadMs < 5000 && run.allVerifiedMs < 5000 && run.states.verified === run.grants;
}

/** Called around the measured window (the CPU profile of `--prof` covers it and nothing else). */
export interface SuspensionWindow {
  /** Just before `Agent Suspended` is sent. */
  readonly opened?: () => void;
  /** Once the engine has gone quiet after it. */
  readonly closed?: () => void;
}

export async function measureSuspension(engine: EngineProcess, grants: number, window: SuspensionWindow = {}): Promise<SuspensionRun> {
  const driver = new BenchDriver(engine.url);
  const events = new EventBridgeClient(localClientConfig(engine.url));
  try {
    const openStarted = performance.now();
    const credentials: STSClient[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: OPENING_CONCURRENCY }, async () => {
        while (next < grants) {
          const index = next++;
          const taskId = `${SUSPENDED_TASK_PREFIX}${index}`;
          await driver.startTask(taskId, index % 2 === 0 ? SESSION_SCOPE : ACCESS_KEY_SCOPE);
          const { delivery } = await driver.waitForIssued(taskId, 60_000);
          const sts = driver.clientFor(delivery);
          const first = await driver.probe(sts);
          if (!first.ok) throw new Error(`credential ${index} refused before the suspension (${first.code})`);
          credentials.push(sts);
        }
      }),
    );
    const openMs = performance.now() - openStarted;
    await engine.settled();
    const before = await engine.usage();
    const loadAverage1mAtSuspension = Math.round((loadavg()[0] ?? 0) * 100) / 100;
    window.opened?.();
    const machineBefore = await machineCpuMs();
    const generatorBefore = process.cpuUsage();

    const answer = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: LOCAL_BUS,
            Source: 'bench.operator',
            DetailType: 'Agent Suspended',
            Detail: JSON.stringify({ agentId: BENCH_AGENT, by: 'bench@example.com', reason: 'bench: suspension of 1,000 live grants' }),
          },
        ],
      }),
    );
    if (!answer.Entries?.[0]?.EventId)
      throw new Error(`PutEvents refused Agent Suspended: ${answer.Entries?.[0]?.ErrorCode ?? 'no entry'}`);
    const suspendedAt = performance.now();
    const suspendedAtEpochMs = Date.now();

    const deadAfterMs: number[] = [];
    const rejectionCodes: Record<string, number> = {};
    let alive = credentials;
    let probeRounds = 0;
    while (alive.length > 0) {
      if (performance.now() - suspendedAt > DEADLINE_MS)
        throw new Error(`${alive.length} of ${grants} credentials still accepted ${DEADLINE_MS} ms after the suspension`);
      probeRounds++;
      const stillAlive: STSClient[] = [];
      let cursor = 0;
      const round = alive;
      await Promise.all(
        Array.from({ length: Math.min(PROBE_CONCURRENCY, round.length) }, async () => {
          while (cursor < round.length) {
            const sts = round[cursor++]!;
            const result = await driver.probe(sts);
            if (result.ok) stillAlive.push(sts);
            else {
              deadAfterMs.push(performance.now() - suspendedAt);
              rejectionCodes[result.code] = (rejectionCodes[result.code] ?? 0) + 1;
            }
          }
        }),
      );
      alive = stillAlive;
      if (alive.length > 0) await new Promise((done) => setTimeout(done, PROBE_ROUND_PAUSE_MS));
    }
    const sorted = ascending(deadAfterMs);
    const after = await engine.settled(500);
    const spent = usageBetween(before, after);
    const machineAfter = await machineCpuMs();
    const generator = process.cpuUsage(generatorBefore);
    const machineBusyMs = machineAfter.busyMs - machineBefore.busyMs;
    const loadGeneratorMs = Math.round((generator.user + generator.system) / 1000);
    window.closed?.();
    const grantsNow = await suspendedGrants(engine.url);
    const states: Record<string, number> = {};
    for (const grant of grantsNow) states[grant.state] = (states[grant.state] ?? 0) + 1;
    const verifiedAt = grantsNow.flatMap((grant) =>
      grant.audit.filter((entry) => entry.action === 'verified').map((entry) => Date.parse(entry.at)),
    );
    return {
      grants,
      openMs: Math.round(openMs),
      allDeadMs: Math.round(sorted.at(-1) ?? 0),
      deadMs: { p50: Math.round(nearestRank(sorted, 50)), p99: Math.round(nearestRank(sorted, 99)) },
      probeRounds,
      rejectionCodes,
      allVerifiedMs: Math.max(...verifiedAt) - suspendedAtEpochMs,
      states,
      loadAverage1mAtSuspension,
      engine: { cpuMs: Math.round(spent.cpuMs), sdkCalls: spent.sdkCalls, sdkCallsByOperation: spent.sdkCallsByOperation },
      cpuShares: {
        machineBusyMs,
        machineIdleMs: machineAfter.idleMs - machineBefore.idleMs,
        engineMs: Math.round(spent.cpuMs),
        loadGeneratorMs,
        otherProcessesMs: Math.round(machineBusyMs - spent.cpuMs - loadGeneratorMs),
      },
    };
  } finally {
    events.destroy();
    driver.close();
  }
}

/** The grants the bench agent opened to be suspended, read from the engine's table through its DynamoDB endpoint. */
async function suspendedGrants(engineUrl: string): Promise<Grant[]> {
  const dynamo = new DynamoDBClient(localClientConfig(engineUrl));
  const documents = DynamoDBDocumentClient.from(dynamo);
  const grants: Grant[] = [];
  try {
    for await (const page of paginateScan({ client: documents }, { TableName: LOCAL_TABLE })) {
      for (const item of (page.Items ?? []) as Partial<Grant>[])
        if (item.agentId === BENCH_AGENT && item.taskId?.startsWith(SUSPENDED_TASK_PREFIX) && item.grantId && item.audit)
          grants.push(item as Grant);
    }
  } finally {
    dynamo.destroy();
  }
  return grants;
}
