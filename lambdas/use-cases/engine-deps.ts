// Use cases: everything a use case may touch, passed in as one argument so tests hand
// over fakes and the handlers and the local engine hand over real adapters.
import type { Policy } from '../domain/policy';
import type { DueTiming } from '../domain/due';
import type { UseCheckTiming } from '../domain/use-after-revocation';
import type { Clock, CredentialUseLog, DeliveryVault, EventPublisher, ExpiryScheduler, GrantStore, Issuers, SecretRotator } from '../ports';

export interface EngineLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface EngineDeps {
  readonly policy: Policy;
  readonly store: GrantStore;
  readonly issuers: Issuers;
  readonly vault: DeliveryVault;
  readonly events: EventPublisher;
  readonly expiry: ExpiryScheduler;
  readonly clock: Clock;
  readonly rotator?: SecretRotator;
  readonly logger?: EngineLogger;
  readonly dueTiming?: DueTiming;
  /**
   * When to read a revoked credential's recorded calls (CloudTrail's lag, the longest session).
   * Absent where the platform keeps no such record (the local engine): no read is scheduled.
   */
  readonly useCheckTiming?: UseCheckTiming;
  /** The record itself; only the sweep reads it, so only the sweep's composition builds it. */
  readonly useLog?: CredentialUseLog;
  /** Waits (a resume waiting out its kill switch's margin, a leak's second look); tests pass one that does not. Default: a timer (`pause`). */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * A revocation that kills a credential probes it once; if the platform still honours it (IAM takes
   * seconds), its `Grant Revoked` says `proof: pending` and the prove-revocation function proves the
   * death, so the revoking function's slot is not held while IAM propagates. Absent: it probes until
   * refused in place (docs/scale.md §3, "Revocations per second on AWS").
   */
  readonly handOffProofs?: boolean;
}

/** What refusing an event needs (record it, answer it): the grant-decision function is configured with no more. */
export type RefusalDeps = Pick<EngineDeps, 'store' | 'events' | 'clock'>;

/** Waits `ms` with the deps' sleep, or a timer. */
export const pause = (deps: Pick<EngineDeps, 'sleep'>, ms: number): Promise<void> =>
  (deps.sleep ?? ((wait: number) => new Promise<void>((resolve) => setTimeout(resolve, wait))))(ms);

export const silentLogger: EngineLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Error name only: SDK messages can quote request fields, so they never leave the engine. */
export function errorCode(error: unknown): string {
  if (error instanceof Error) return error.name === 'Error' ? 'Error' : error.name;
  return 'UnknownError';
}
