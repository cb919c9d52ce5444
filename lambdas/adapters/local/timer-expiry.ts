// Adapter (local engine): expiry as in-process timers, the local stand-in for EventBridge
// Scheduler's one-time schedules. Timers are lost with the process, so the engine re-arms
// them from the store's due index at start: a restart still expires grants on time.
import type { Clock, ExpiryScheduler } from '../../ports';

export type ExpiryTarget = (grantId: string) => Promise<void>;

export class TimerExpiryScheduler implements ExpiryScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private target: ExpiryTarget | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly onError: (grantId: string, error: unknown) => void,
  ) {}

  /** Where expiries go: set once the engine's handlers exist. */
  connect(target: ExpiryTarget): void {
    this.target = target;
  }

  async scheduleExpiry(grantId: string, at: Date): Promise<void> {
    this.clear(grantId);
    const delay = Math.max(0, at.getTime() - this.clock.now().getTime());
    const timer = setTimeout(() => {
      this.timers.delete(grantId);
      this.fire(grantId);
    }, delay);
    timer.unref();
    this.timers.set(grantId, timer);
  }

  async cancelExpiry(grantId: string): Promise<void> {
    this.clear(grantId);
  }

  get armed(): number {
    return this.timers.size;
  }

  stop(): void {
    for (const timer of this.timers.values()) cancel(timer);
    this.timers.clear();
  }

  private fire(grantId: string): void {
    const target = this.target;
    if (!target) return this.onError(grantId, new Error('expiry fired before the engine was connected'));
    // A failed expiry stays due in the store; the sweep retries it.
    target(grantId).catch((error: unknown) => this.onError(grantId, error));
  }

  private clear(grantId: string): void {
    const timer = this.timers.get(grantId);
    if (timer) cancel(timer);
    this.timers.delete(grantId);
  }
}

/**
 * Node keeps the list of timers of one duration after its last unref'd timer is cleared, until that
 * duration has passed (it expects http to reuse it); every grant's delay is its own, so a task ended
 * early would leave one behind for its whole time to live. A ref'd timer's empty list goes at once.
 */
function cancel(timer: NodeJS.Timeout): void {
  timer.ref();
  clearTimeout(timer);
}
