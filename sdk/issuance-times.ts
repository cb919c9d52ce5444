// SDK: what a Taskbound client learns of how long its deployment takes to issue, so that a wait
// reads the delivery when the credential is likely there instead of on a fixed first step.
// Learnt from the client's own waits only: no extra call, the same calls against AWS and locally.

/** One wait that found the credential, as the runtime saw it (epoch ms). */
export interface IssuanceObservation {
  /** PutEvents(`Task Started`) answered. */
  readonly startedMs: number;
  /** The last read that found nothing was sent: the credential was not there yet. */
  readonly lastMissSentMs?: number;
  /** The read that found the credential answered: it was there by then. */
  readonly foundMs: number;
  /** The delivery's own date (Secrets Manager's version `CreatedDate`), by the service's clock. */
  readonly deliveredAtMs?: number;
}

/** Waits remembered; older ones are forgotten, so the estimate follows the deployment's load. */
const REMEMBERED = 16;
/** Waits seen before the estimate is trusted over the strategy's fixed first step. */
const MIN_OBSERVATIONS = 3;

/**
 * How long issuance took in each observation: the delivery's date when it lies between what the
 * runtime itself saw (after the last miss, before the find), else the nearer of those bounds. So
 * a clock that disagrees with the service's by `s` ms costs at most `s` ms of waiting (or reads
 * that come early), never a wrong answer.
 */
export function issuanceMsOf(observation: IssuanceObservation): number {
  const lower = (observation.lastMissSentMs ?? observation.startedMs) - observation.startedMs;
  const upper = observation.foundMs - observation.startedMs;
  const told = (observation.deliveredAtMs ?? observation.foundMs) - observation.startedMs;
  return Math.min(upper, Math.max(lower, told));
}

/** The issuance times of a client's recent waits. */
export class IssuanceTimes {
  private readonly samples: number[] = [];

  record(observation: IssuanceObservation): void {
    const ms = issuanceMsOf(observation);
    if (!Number.isFinite(ms) || ms < 0) return;
    this.samples.push(ms);
    if (this.samples.length > REMEMBERED) this.samples.shift();
  }

  /** The median issuance time of the remembered waits, ms after `Task Started`; undefined while too few are known. */
  typicalMs(): number | undefined {
    if (this.samples.length < MIN_OBSERVATIONS) return undefined;
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.floor((sorted.length - 1) / 2)];
  }
}
