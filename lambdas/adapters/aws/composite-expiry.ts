// Adapter: one ExpiryScheduler over several (the precise schedule and its TTL backstop).
// Each is tried even if another fails, so a backstop is still written; then any failure throws.
import { TaskboundError } from '../../domain/errors';
import type { ExpiryScheduler } from '../../ports';

/** Some of the named schedulers failed; their errors are in `failures` and the cause. */
export class ExpirySchedulingError extends TaskboundError {
  constructor(
    message: string,
    readonly failures: Readonly<Record<string, unknown>>,
  ) {
    super(message, { cause: new AggregateError(Object.values(failures), message) });
  }
}

export class CompositeExpiry implements ExpiryScheduler {
  private readonly entries: ReadonlyArray<readonly [string, ExpiryScheduler]>;

  /** `schedulers` by name, the names used in errors (e.g. `{ schedule, ttlMarker }`). */
  constructor(schedulers: Readonly<Record<string, ExpiryScheduler>>) {
    this.entries = Object.entries(schedulers);
    if (this.entries.length === 0) throw new RangeError('CompositeExpiry needs at least one scheduler');
  }

  async scheduleExpiry(grantId: string, at: Date): Promise<void> {
    await this.all(`scheduling the expiry of ${grantId}`, (scheduler) => scheduler.scheduleExpiry(grantId, at));
  }

  async cancelExpiry(grantId: string): Promise<void> {
    await this.all(`cancelling the expiry of ${grantId}`, (scheduler) => scheduler.cancelExpiry(grantId));
  }

  private async all(what: string, call: (scheduler: ExpiryScheduler) => Promise<void>): Promise<void> {
    const results = await Promise.allSettled(this.entries.map(([, scheduler]) => call(scheduler)));
    const failed = this.entries.flatMap(([name], index) => {
      const result = results[index];
      return result?.status === 'rejected' ? [[name, result.reason as unknown] as const] : [];
    });
    if (failed.length === 0) return;
    const described = failed.map(([name, reason]) => `${name} (${reason instanceof Error ? reason.name : 'UnknownError'})`);
    throw new ExpirySchedulingError(`${what} failed in ${described.join(', ')}`, Object.fromEntries(failed));
  }
}
