// Adapter (local engine): the CredentialIssuer of one credential kind, backed by the local
// credential authority; verification probes the local STS endpoint like AWS's.
import { TaskboundError } from '../../domain/errors';
import type { CredentialKind } from '../../domain/policy';
import type { LocalCredentialAuthority } from '../../local/emulated-aws/credential-authority';
import type {
  AgentRevocation,
  CredentialIssuer,
  CredentialMaterial,
  IssueRequest,
  IssuedCredential,
  ProbeVerdict,
  RevokeOutcome,
  RevokeTarget,
  ProbePatience,
} from '../../ports';
import { scheduleFor, type ProbeSchedule, type StsCredentialProbe } from '../aws/sts-credential-probe';
import { CanaryProofs, type SecretsManagerCanaryProbe } from '../aws/canary-probe';
import { compileIssuedPolicy } from '../aws/session-policy';

export interface LocalCredentialIssuerOptions {
  readonly kind: CredentialKind;
  readonly authority: LocalCredentialAuthority;
  /** Points at the local engine's STS endpoint. */
  readonly probe: StsCredentialProbe;
  /** How long to keep probing a revoked credential that still works (the emulated IAM lag). Default: once. */
  readonly probeSchedule?: ProbeSchedule;
  /** Sessions are probed as on AWS: DescribeSecret on the canary until AccessDenied. */
  readonly canary?: Pick<SecretsManagerCanaryProbe, 'probe' | 'probeUntilRejected'>;
  /**
   * The canary's ARN pattern: every session policy allows describing it, as on AWS (sts-session-issuer.ts).
   * Give it with `canary`: the emulated Secrets Manager judges each call by the credential's policy.
   */
  readonly canaryArnPattern?: string;
  /** The engine's clock, for how long a role's canary proof holds. Default: the system's. */
  readonly nowMs?: () => number;
}

/** Issues, revokes and verifies local credentials of one kind. */
export class LocalCredentialIssuer implements CredentialIssuer {
  private readonly schedule: ProbeSchedule;
  /** Sessions only, as on AWS (a deny on the agent's role); an access key is its own IAM user there and dies alone, so here too. */
  readonly revokeAgent?: (revocation: AgentRevocation) => Promise<void>;
  /** As on AWS: the canary is proven per agent (its role) every few minutes, not per session. */
  private readonly canaryProofs: CanaryProofs;

  constructor(private readonly options: LocalCredentialIssuerOptions) {
    this.schedule = options.probeSchedule ?? { attempts: 1, delayMs: 0 };
    this.canaryProofs = new CanaryProofs(options.nowMs);
    const authority = options.authority;
    if (options.kind === 'aws-sts-session')
      this.revokeAgent = (revocation) => authority.revokeSessionsOf(revocation.agentId, revocation.issuedBefore);
  }

  async issue(request: IssueRequest): Promise<IssuedCredential> {
    if (request.kind !== this.options.kind) {
      throw new TaskboundError(`the ${this.options.kind} issuer was asked for a ${request.kind} credential`);
    }
    // The policy AWS would attach (a session policy with the canary's permission, or the user's inline policy),
    // compiled by the same code and refused at the same limits; the emulated Secrets Manager judges calls by it.
    const pattern = request.kind === 'aws-sts-session' ? this.options.canaryArnPattern : undefined;
    const policy = compileIssuedPolicy(request, request.kind, pattern);
    const issued = await this.options.authority.issue(request, policy.document);
    const canary = this.sessionCanary();
    // As on AWS (sts-session-issuer.ts): a refusal throws, and the issue use case revokes what it left.
    if (canary) await this.canaryProofs.assertAnswers(request.agentId, issued, canary);
    return issued;
  }

  revoke(target: RevokeTarget): Promise<RevokeOutcome> {
    return this.options.authority.revokeGrant(target.grantId);
  }

  /**
   * With the credential at hand, proves it over the wire (a session with the canary, a key
   * with STS); without it, asks the authority about the whole grant.
   */
  async verify(target: RevokeTarget, material: CredentialMaterial | undefined, patience?: ProbePatience): Promise<ProbeVerdict> {
    if (!material) return this.options.authority.grantStatus(target.grantId);
    const canary = this.sessionCanary();
    const schedule = scheduleFor(patience, this.schedule);
    return canary ? canary.probeUntilRejected(material, schedule) : this.options.probe.probeUntilRejected(material, schedule);
  }

  private sessionCanary() {
    return this.options.kind === 'aws-sts-session' ? this.options.canary : undefined;
  }

  async *listIssued(): AsyncIterable<{ readonly grantId: string; readonly credentialId: string }> {
    yield* this.options.authority.usable(this.options.kind);
  }
}
