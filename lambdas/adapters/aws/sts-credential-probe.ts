// Adapter (AWS STS): proves whether an access key still works by calling GetCallerIdentity
// with exactly that credential, against AWS or the local engine's STS endpoint. Sessions are
// probed with the canary (canary-probe.ts): STS answers them even under a deny.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { PROBE_USER_AGENT } from '../../domain/use-after-revocation';
import type { CredentialMaterial, ProbeVerdict } from '../../ports';
import { realSleep } from '../sleep';
import { notYet, retry, settled } from '../retry';

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

export interface StsCredentialProbeOptions {
  readonly region: string;
  /** The local engine's URL, or a VPC endpoint; AWS's regional endpoint when absent. */
  readonly endpoint?: string;
  /** SDK attempts per probe (throttling and network errors are retried within one probe). */
  readonly maxAttempts?: number;
  /** Waits between probes; injected so tests do not wait for real. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Sees each probe's client (the local engine counts SDK calls with it). */
  readonly track?: (client: STSClient) => void;
}

export interface ProbeSchedule {
  /** Probes at most this many times. */
  readonly attempts: number;
  /** Ceiling of the (jittered) wait before the second probe; doubled before each later one. */
  readonly delayMs: number;
}

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

/** What every probe client shares: the credential alone, the probe's user agent, a kept-alive pool. */
function probeClientConfig(options: Omit<StsCredentialProbeOptions, 'sleep' | 'track'>, material: CredentialMaterial, agents: ProbeAgents) {
  return {
    region: options.region,
    requestHandler: agents,
    // CloudTrail records it: how the use-after-revocation check tells the engine's probes apart.
    customUserAgent: PROBE_USER_AGENT,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    credentials: {
      accessKeyId: material.accessKeyId,
      secretAccessKey: material.secretAccessKey,
      ...(material.sessionToken ? { sessionToken: material.sessionToken } : {}),
    },
  };
}

/**
 * What a new SDK client would otherwise look up in the environment and the shared config files
 * before its first call (FIPS, dual-stack, retry mode, app id, auth scheme preference): every
 * probe has a client of its own, and each lookup that finds nothing throws and catches an error
 * (about 0.4 ms of CPU per probe, measured in a kill switch's profile). Read once per prober
 * from a client that looked them up, so the environment and profile still decide them.
 */
export interface ProbeEnvironment {
  readonly useFipsEndpoint?: boolean;
  readonly useDualstackEndpoint?: boolean;
  readonly retryMode?: string;
  readonly userAgentAppId?: string;
  readonly authSchemePreference?: string[];
}

const PROBE_ENVIRONMENT_KEYS = ['useFipsEndpoint', 'useDualstackEndpoint', 'retryMode', 'userAgentAppId', 'authSchemePreference'] as const;

/** The looked-up settings of `config` (a client's resolved config), as literal values for the next clients. */
export async function probeEnvironmentOf(config: object): Promise<ProbeEnvironment> {
  const settings = config as Record<string, unknown>;
  const entries = await Promise.all(
    PROBE_ENVIRONMENT_KEYS.map(async (key) => {
      const value = settings[key];
      return [key, typeof value === 'function' ? await (value as () => Promise<unknown>)() : value] as const;
    }),
  );
  // Only what was found: an absent setting is left to the client's own default.
  return Object.fromEntries(entries.filter(([, value]) => value !== undefined)) as ProbeEnvironment;
}

type ProbeClientConfig = ReturnType<typeof probeClientConfig> & ProbeEnvironment;

/**
 * Each probe's client, built by `make` for its credential over one kept-alive connection pool. The
 * first is built as the SDK would build it; the settings it looked up (probeEnvironmentOf) are given
 * to every later one as values.
 */
export function probeClients<C extends { readonly config: object }>(
  make: (config: ProbeClientConfig) => C,
  options: Omit<StsCredentialProbeOptions, 'sleep' | 'track'>,
): (material: CredentialMaterial) => Promise<C> {
  const agents = keptAliveAgents();
  let environment: Promise<ProbeEnvironment> | undefined;
  return async (material) => {
    const config = probeClientConfig(options, material, agents);
    if (environment) return make({ ...config, ...(await environment) });
    const first = make(config);
    environment = probeEnvironmentOf(first.config);
    await environment;
    return first;
  };
}

interface ProbeAgents {
  readonly httpAgent: HttpAgent;
  readonly httpsAgent: HttpsAgent;
}

/** One keep-alive pool per probe: a new TCP (and TLS) connection per probe costs more than the probe. */
const keptAliveAgents = (): ProbeAgents => ({
  httpAgent: new HttpAgent({ keepAlive: true }),
  httpsAgent: new HttpsAgent({ keepAlive: true }),
});

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
  /** Each probe needs its own client (the credential is the client's), not its own connection. */
  private readonly clientFor: (material: CredentialMaterial) => Promise<STSClient>;

  constructor(private readonly options: StsCredentialProbeOptions) {
    this.sleep = options.sleep ?? realSleep;
    this.clientFor = probeClients((config) => new STSClient(config), options);
  }

  /** One probe: `accepted`, `rejected` with AWS's code, or `unknown` when STS gave no answer about it. */
  async probe(material: CredentialMaterial): Promise<ProbeVerdict> {
    const client = await this.clientFor(material);
    this.options.track?.(client);
    // The client is not destroyed: that would close the shared connection pool.
    try {
      await client.send(new GetCallerIdentityCommand({}));
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
