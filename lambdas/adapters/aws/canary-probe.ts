// Adapter (AWS Secrets Manager): proves whether a session still works by calling the one
// harmless thing every session may do, DescribeSecret on the stack's canary secret, with
// exactly that session. A revoked session's deny on the role makes it AccessDenied.
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CredentialMaterial, ProbeVerdict } from '../../ports';
import { TaskboundError } from '../../domain/errors';
import { realSleep } from '../sleep';
import {
  keptAliveAgents,
  probeClientConfig,
  probeEnvironmentOf,
  type ProbeEnvironment,
  repeatUntilRejected,
  verdictOf,
  type ProbeSchedule,
  type StsCredentialProbeOptions,
} from './sts-credential-probe';

/** The canary's name in the local engine, and the default on AWS (`<instance>-engine/canary`). */
export const LOCAL_CANARY_SECRET_NAME = 'taskbound-engine/canary';

/**
 * IAM's deny usually takes a few seconds to be enforced everywhere; AWS documents no bound.
 * Seven probes, doubling from 250 ms: about 16 s of waiting before the sweep takes over.
 */
export const DEFAULT_CANARY_SCHEDULE: ProbeSchedule = { attempts: 7, delayMs: 250 };

export interface CanaryProbeOptions extends Omit<StsCredentialProbeOptions, 'track'> {
  /** Sees each probe's client (the local engine counts SDK calls with it). */
  readonly track?: (client: SecretsManagerClient) => void;
  /** The canary secret's name (or ARN). It holds nothing of value and is never a delivery secret. */
  readonly canarySecretId: string;
}

/** The canary permission every session policy carries: one definition, in the domain. */

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

/** Probes a session with DescribeSecret on the canary, signed by that session alone. */
export class SecretsManagerCanaryProbe {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly agents = keptAliveAgents();
  /** Settings the SDK looks up in the environment, read once (sts-credential-probe.ts). */
  private environment?: Promise<ProbeEnvironment>;

  constructor(private readonly options: CanaryProbeOptions) {
    this.sleep = options.sleep ?? realSleep;
  }

  /**
   * `accepted` when Secrets Manager authorized the call (a missing canary is still an
   * authorized call: ResourceNotFoundException), `rejected` when it refused the credential
   * or denied the call, `unknown` when it said nothing about either.
   */
  async probe(material: CredentialMaterial): Promise<ProbeVerdict> {
    this.environment ??= probeEnvironmentOf(new SecretsManagerClient(probeClientConfig(this.options, material, this.agents)).config);
    const client = new SecretsManagerClient({ ...probeClientConfig(this.options, material, this.agents), ...(await this.environment) });
    this.options.track?.(client);
    try {
      await client.send(new DescribeSecretCommand({ SecretId: this.options.canarySecretId }));
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
