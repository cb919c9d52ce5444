// Adapter (AWS Secrets Manager): proves whether a session still works by calling the one
// harmless thing every session may do, DescribeSecret on the stack's canary secret, with
// exactly that session. A revoked session's deny on the role makes it AccessDenied.
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CredentialMaterial, ProbeVerdict } from '../../ports';
import { TaskboundError } from '../../domain/errors';
import { realSleep } from '../sleep';
import { keptProbeClient, withCredential } from './probe-client';
import { repeatUntilRejected, verdictOf, type ProbeSchedule, type StsCredentialProbeOptions } from './sts-credential-probe';

/** The canary's name in the local engine, and the default on AWS (`<instance>-engine/canary`). */
export const LOCAL_CANARY_SECRET_NAME = 'taskbound-engine/canary';

/**
 * IAM's deny usually takes a few seconds to be enforced everywhere; AWS documents no bound.
 * Seven probes, doubling from 250 ms: about 16 s of waiting before the sweep takes over.
 */
export const DEFAULT_CANARY_SCHEDULE: ProbeSchedule = { attempts: 7, delayMs: 250 };

export interface CanaryProbeOptions extends Omit<StsCredentialProbeOptions, 'track'> {
  /** Sees the probe's client once, before its first call (the local engine counts SDK calls with it). */
  readonly track?: (client: SecretsManagerClient) => void;
  /** The canary secret's name (or ARN). It holds nothing of value and is never a delivery secret. */
  readonly canarySecretId: string;
}

/** A fresh session refused the canary: no later refusal could then prove anything. */
export class CanaryMisconfiguredError extends TaskboundError {
  constructor(code: string) {
    super(
      `a fresh session was refused the canary (${code}): the agent role or the permissions boundary does not allow ` +
        'secretsmanager:DescribeSecret on the canary secret (docs/deploy.md); the session is revoked',
    );
    this.name = 'CanaryMisconfiguredError';
  }
}

/**
 * How long one fresh session's answered canary call speaks for its role's later sessions. Every
 * session policy carries the same canary statement (domain/canary.ts), so a later session of the
 * role can be refused the canary only if the role, its permissions boundary or an SCP changed
 * meanwhile: the proof is taken again after this long, and after any refusal.
 */
export const CANARY_PROOF_TTL_MS = 5 * 60_000;

/**
 * Per role (or agent, locally), when a fresh session of it last answered the canary. The issuers
 * prove each role once per CANARY_PROOF_TTL_MS instead of every session: one SDK call and one round
 * trip off most issues. Bounded by the roles the policy names.
 */
export class CanaryProofs {
  private readonly provenAtMs = new Map<string, number>();

  constructor(
    private readonly nowMs: () => number = Date.now,
    private readonly ttlMs: number = CANARY_PROOF_TTL_MS,
  ) {}

  /**
   * Probes `material` unless a session of `role` answered within the TTL. A refusal throws
   * CanaryMisconfiguredError (no later refusal could prove anything) and forgets the role; no
   * answer at all (throttling, network) proves nothing and does not stop the issue.
   */
  async assertAnswers(role: string, material: CredentialMaterial, canary: Pick<SecretsManagerCanaryProbe, 'probe'>): Promise<void> {
    const provenAt = this.provenAtMs.get(role);
    if (provenAt !== undefined && this.nowMs() - provenAt < this.ttlMs) return;
    const verdict = await canary.probe(material);
    if (verdict.verdict === 'rejected') {
      this.provenAtMs.delete(role);
      throw new CanaryMisconfiguredError(verdict.code);
    }
    if (verdict.verdict === 'accepted') this.provenAtMs.set(role, this.nowMs());
  }
}

/** Probes a session with DescribeSecret on the canary, signed by that session alone. */
export class SecretsManagerCanaryProbe {
  private readonly sleep: (ms: number) => Promise<void>;
  /** One client for every probe: each command carries its own credential (probe-client.ts). */
  private readonly client: SecretsManagerClient;
  private tracked = false;

  constructor(private readonly options: CanaryProbeOptions) {
    this.sleep = options.sleep ?? realSleep;
    this.client = keptProbeClient((config) => new SecretsManagerClient(config), options);
  }

  /**
   * `accepted` when Secrets Manager authorized the call (a missing canary is still an
   * authorized call: ResourceNotFoundException), `rejected` when it refused the credential
   * or denied the call, `unknown` when it said nothing about either.
   */
  async probe(material: CredentialMaterial): Promise<ProbeVerdict> {
    if (!this.tracked) {
      this.tracked = true;
      this.options.track?.(this.client);
    }
    try {
      await this.client.send(withCredential(new DescribeSecretCommand({ SecretId: this.options.canarySecretId }), material));
      return { verdict: 'accepted' };
    } catch (error) {
      if ((error as { name?: unknown }).name === 'ResourceNotFoundException') return { verdict: 'accepted' };
      return verdictOf(error, 'Secrets Manager');
    }
  }

  /** Probes until AccessDenied (or another rejection) or the schedule runs out; returns the last verdict. */
  probeUntilRejected(material: CredentialMaterial, schedule: ProbeSchedule = DEFAULT_CANARY_SCHEDULE): Promise<ProbeVerdict> {
    return repeatUntilRejected(() => this.probe(material), schedule, this.sleep);
  }
}
