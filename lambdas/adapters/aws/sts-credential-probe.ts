// Adapter (AWS STS): proves whether an access key still works by calling GetCallerIdentity
// with exactly that credential, against AWS or the local engine's STS endpoint. Sessions are
// probed with the canary (canary-probe.ts): STS answers them even under a deny.
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { CredentialMaterial, ProbePatience, ProbeVerdict } from '../../ports';
import { realSleep } from '../sleep';
import { notYet, retry, settled } from '../retry';
import { keptProbeClient, withCredential, type ProbeClientOptions } from './probe-client';

/** Error codes by which AWS says the credential itself is no good (or, for a session, denied). */
export const REJECTION_CODES = new Set([
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
  'AuthFailure',
]);

/** A SignatureDoesNotMatch about the clock says nothing about the credential. */
const CLOCK_SKEW = /Signature (expired|not yet current)/;

export interface StsCredentialProbeOptions extends ProbeClientOptions {
  /** Waits between probes; injected so tests do not wait for real. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Sees the probe's client once, before its first call (the local engine counts SDK calls with it). */
  readonly track?: (client: STSClient) => void;
}

export interface ProbeSchedule {
  /** Probes at most this many times. */
  readonly attempts: number;
  /** Ceiling of the (jittered) wait before the second probe; doubled before each later one. */
  readonly delayMs: number;
}

/** One probe, no wait: a verification with `one-probe` patience (ports.ts ProbePatience). */
const ONE_PROBE: ProbeSchedule = { attempts: 1, delayMs: 0 };

/** The schedule a verification probes on: the issuer's own, or a single probe when the proof is handed on. */
export const scheduleFor = (patience: ProbePatience | undefined, patient: ProbeSchedule): ProbeSchedule =>
  patience === 'one-probe' ? ONE_PROBE : patient;

interface SdkErrorShape {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/**
 * Maps a probe call's failure to a verdict; names only the code, never the message body.
 * A rejection is `observed`: AWS refused a call made with the credential.
 */
export function verdictOf(error: unknown, service = 'STS'): ProbeVerdict {
  const { name, message, $metadata } = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const code = typeof name === 'string' ? name : 'UnknownError';
  const status = $metadata?.httpStatusCode;
  if (status === undefined) return { verdict: 'unknown', why: `no response from ${service} (${code})` };
  if (typeof message === 'string' && CLOCK_SKEW.test(message))
    return { verdict: 'unknown', why: `${service} refused the request time (clock skew)` };
  if (REJECTION_CODES.has(code)) return { verdict: 'rejected', code, observed: true };
  return { verdict: 'unknown', why: `${service} answered ${status} ${code}` };
}

/**
 * Probes until the credential is rejected or the attempts run out, backing off between
 * probes (doubling from `delayMs`). Returns the last verdict.
 */
export async function repeatUntilRejected(
  probe: () => Promise<ProbeVerdict>,
  schedule: ProbeSchedule,
  sleep: (ms: number) => Promise<void>,
): Promise<ProbeVerdict> {
  // retry() refuses a schedule without a positive whole number of attempts.
  const answer = await retry(
    { attempts: schedule.attempts, baseDelayMs: schedule.delayMs },
    async () => {
      const verdict = await probe();
      return verdict.verdict === 'rejected' ? settled(verdict) : notYet(verdict);
    },
    { sleep },
  );
  return answer.settled ? answer.value : answer.last;
}

/** Probes a credential with STS GetCallerIdentity, signed by that credential alone. */
export class StsCredentialProbe {
  private readonly sleep: (ms: number) => Promise<void>;
  /** One client for every probe: each command carries its own credential (probe-client.ts). */
  private readonly client: STSClient;
  private tracked = false;

  constructor(private readonly options: StsCredentialProbeOptions) {
    this.sleep = options.sleep ?? realSleep;
    this.client = keptProbeClient((config) => new STSClient(config), options);
  }

  /** One probe: `accepted`, `rejected` with AWS's code, or `unknown` when STS gave no answer about it. */
  async probe(material: CredentialMaterial): Promise<ProbeVerdict> {
    if (!this.tracked) {
      this.tracked = true;
      this.options.track?.(this.client);
    }
    try {
      await this.client.send(withCredential(new GetCallerIdentityCommand({}), material));
      return { verdict: 'accepted' };
    } catch (error) {
      return verdictOf(error);
    }
  }

  /**
   * Probes until the credential is rejected or the attempts run out, backing off between
   * probes: IAM keeps a deleted access key usable for a few seconds. Returns the last verdict.
   */
  probeUntilRejected(material: CredentialMaterial, schedule: ProbeSchedule): Promise<ProbeVerdict> {
    return repeatUntilRejected(() => this.probe(material), schedule, this.sleep);
  }
}
