// Bench entry (`npm run bench:wait-replay -- bench/results/latency.json ...`): the SDK's wait
// strategies replayed over issuance times measured by `npm run bench:latency`, free of the
// machine's noise: for each measured issuance (in the order the tasks started), when would the
// fixed first step and the learnt first read (sdk/wait.ts) have found the credential, after how
// many reads? The waits use the SDK's own IssuanceTimes and the AWS SDK waiter's backoff formula.
// Also replayed, as candidates for the default (bench/README.md): one short step right after the
// first miss, then the waiter's backoff from its second step (one read more on a long wait) or
// from its third (the same number of reads on a long wait).
// Read round trips are taken as instant, so the figures are each strategy's own share.
export {};

const { readFile } = await import('node:fs/promises');
const { IssuanceTimes } = await import('../sdk/issuance-times');
const { DEFAULT_WAIT_STRATEGY } = await import('../sdk/wait');
const { ascending, nearestRank, round2 } = await import('./percentiles');

/** @smithy/util-waiter's delay before attempt `attempt` (≥ 1): uniform in [min, min·2^(attempt−1)], capped. */
function waiterDelay(minMs: number, maxMs: number, attempt: number, random: () => number): number {
  if (attempt > Math.log(maxMs / minMs) / Math.log(2) + 1) return maxMs;
  const capped = Math.min(minMs * 2 ** (attempt - 1), maxMs);
  return minMs + random() * (capped - minMs);
}

/** A short step after the first miss, then the waiter's backoff from its attempt `resumeAttempt` (2: its own second step). */
interface FollowUp {
  readonly stepMs: number;
  readonly resumeAttempt: number;
}

/** The reads of one wait until one finds a delivery issued `issuanceMs` after Task Started (sdk/wait.ts's schedules). */
function readsUntilFound(
  issuanceMs: number,
  typicalMs: number | undefined,
  random: () => number,
  followUp?: FollowUp,
): { foundMs: number; reads: number; lastMissMs?: number } {
  const { minDelayMs, maxDelayMs } = DEFAULT_WAIT_STRATEGY;
  let at = typicalMs ?? minDelayMs;
  let lastMissMs: number | undefined;
  let attempt = 2;
  for (let reads = 1; ; reads++) {
    if (at >= issuanceMs) return { foundMs: at, reads, ...(lastMissMs !== undefined ? { lastMissMs } : {}) };
    lastMissMs = at;
    if (typicalMs !== undefined) at += Math.min(maxDelayMs, Math.max(10, (at * (0.9 + 0.2 * random())) / 3));
    else if (followUp && reads === 1) {
      at += followUp.stepMs;
      attempt = followUp.resumeAttempt;
    } else at += waiterDelay(minDelayMs, maxDelayMs, attempt++, random);
  }
}

/** A seeded generator (mulberry32), so a replay gives the same figures twice. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * `clients`: how many SDK clients learn apart. The bench gives each runtime its own client, so a
 * learnt wait there learns only from its own runtime's tasks (dealt here in turn, as a closed loop
 * starts them); one client learns from every task.
 */
function replay(samples: readonly number[], learnt: boolean, followUp?: FollowUp, clients = 1) {
  const random = seeded(12);
  const learners = Array.from({ length: clients }, () => new IssuanceTimes());
  const ttc: number[] = [];
  let reads = 0;
  for (const [index, issuanceMs] of samples.entries()) {
    const times = learners[index % clients]!;
    const wait = readsUntilFound(issuanceMs, learnt ? times.typicalMs() : undefined, random, followUp);
    times.record({
      startedMs: 0,
      foundMs: wait.foundMs,
      deliveredAtMs: issuanceMs,
      ...(wait.lastMissMs !== undefined ? { lastMissSentMs: wait.lastMissMs } : {}),
    });
    ttc.push(wait.foundMs);
    reads += wait.reads;
  }
  const sorted = ascending(ttc);
  return {
    timeToCredentialMs: {
      p50: round2(nearestRank(sorted, 50)),
      p90: round2(nearestRank(sorted, 90)),
      p99: round2(nearestRank(sorted, 99)),
    },
    readsPerLifecycle: round2(reads / Math.max(1, samples.length)),
  };
}

for (const file of process.argv.slice(2)) {
  const run = JSON.parse(await readFile(file, 'utf8')) as {
    issuanceSamplesMs?: number[];
    runtimes?: number;
    machine?: { loadAverage1mAtStart?: number };
  };
  const samples = run.issuanceSamplesMs ?? [];
  const sorted = ascending(samples);
  console.log(
    JSON.stringify({
      file,
      loadAverage1mAtStart: run.machine?.loadAverage1mAtStart,
      lifecycles: samples.length,
      issuanceMs: { p50: round2(nearestRank(sorted, 50)), p90: round2(nearestRank(sorted, 90)), p99: round2(nearestRank(sorted, 99)) },
      fixedFirstStep: replay(samples, false),
      learntFirstRead: replay(samples, true),
      learntFirstReadPerRuntime: replay(samples, true, undefined, run.runtimes ?? 1),
      followUp50ThenSecondStep: replay(samples, false, { stepMs: 50, resumeAttempt: 2 }),
      followUp50ThenThirdStep: replay(samples, false, { stepMs: 50, resumeAttempt: 3 }),
    }),
  );
}
