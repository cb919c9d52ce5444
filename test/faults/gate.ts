// Fault test: the gate every external call of the engine passes through. It numbers the calls,
// and at the numbers a schedule names it crashes the process (before or after the call took
// effect) or answers as AWS does when it throttles or fails.
export const FAULT_KINDS = ['crash-before', 'crash-after', 'throttle', 'server-error'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  /** The index of the external call it hits, counted from the start of the schedule. */
  readonly at: number;
  readonly kind: FaultKind;
}

/**
 * The process died: nothing that was running in it goes on (every invocation in flight fails
 * from here), and nothing catches it for real. It comes back for the next deliveries.
 */
export class Crash extends Error {
  constructor(readonly call: string) {
    super(`crashed at ${call}`);
    this.name = 'Crash';
  }
}

/** An error shaped as the AWS SDK throws it once its own retries are spent. */
export function awsError(name: string, httpStatusCode: number): Error {
  return Object.assign(new Error(name === 'ThrottlingException' ? 'Rate exceeded' : 'We encountered an internal error'), {
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode, attempts: 3 },
  });
}

export class FaultGate {
  private readonly faults = new Map<number, FaultKind>();
  /** Set by a crash until every invocation that was in flight has ended. */
  private dead = false;
  private inFlight = 0;
  calls = 0;
  /** Off while the world settles: faults then only come from persistent outages. */
  enabled = true;
  readonly injected: { readonly at: number; readonly kind: FaultKind; readonly call: string }[] = [];

  constructor(faults: readonly Fault[]) {
    for (const fault of faults) if (!this.faults.has(fault.at)) this.faults.set(fault.at, fault.kind);
  }

  /** Runs one invocation (a Lambda run, a sweep); resolves to how it ended. */
  async run(body: () => Promise<unknown>): Promise<{ readonly status: 'ok' | 'crashed' | 'threw'; readonly error?: unknown }> {
    this.inFlight++;
    try {
      await body();
      return { status: this.dead ? 'crashed' : 'ok' };
    } catch (error) {
      return { status: this.dead ? 'crashed' : 'threw', error };
    } finally {
      if (--this.inFlight === 0) this.dead = false;
    }
  }

  async call<T>(name: string, effect: () => Promise<T>): Promise<T> {
    if (this.dead) throw new Crash(name);
    const index = this.calls++;
    const kind = this.enabled ? this.faults.get(index) : undefined;
    if (kind) this.injected.push({ at: index, kind, call: name });
    if (kind === 'throttle') throw awsError('ThrottlingException', 400);
    if (kind === 'server-error') throw awsError('InternalFailure', 500);
    if (kind === 'crash-before') return this.crash(name);
    const result = await effect();
    if (this.dead || kind === 'crash-after') return this.crash(name);
    return result;
  }

  private crash(name: string): never {
    this.dead = true;
    throw new Crash(name);
  }
}
