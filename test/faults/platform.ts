// Fault test: the ground truth of every credential the engine ever made, and the issuers over
// it. IAM's eventual consistency is modelled as AWS shows it: a deleted access key keeps working
// for `keyLagMs`; a user created less than `invisibleMs` ago cannot be seen (reads say it is
// absent, and a revocation cannot find it yet). STS sessions die when the deny lands or at expiry;
// the kill switch's deny of an agent's older sessions kills exactly those created before its time.
import type {
  AgentRevocation,
  Clock,
  CredentialIssuer,
  CredentialMaterial,
  IssueRequest,
  IssuedCredential,
  ProbeVerdict,
  RevokeOutcome,
  RevokeTarget,
} from '../../lambdas/ports';
import type { CredentialKind } from '../../lambdas/domain/policy';
import { awsError, type FaultGate } from './gate';

export interface PlatformCredential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly grantId: string;
  readonly agentId: string;
  readonly kind: CredentialKind;
  readonly createdAt: number;
  readonly expiresAt: number;
  revokedAt?: number;
}

export interface Consistency {
  /** How long IAM keeps honouring a deleted access key. */
  readonly keyLagMs: number;
  /** How long a new IAM user stays invisible to reads and deletes. */
  readonly invisibleMs: number;
}

export class Platform {
  readonly credentials: PlatformCredential[] = [];
  /** Kinds whose revocations fail while the outage lasts (an IAM outage, not one throttled call). */
  readonly outages = new Set<CredentialKind>();
  /** How long each kind's outage lasted: no revocation could land in it, so it adds to the lateness bound. */
  readonly outageMs: Partial<Record<CredentialKind, number>> = {};
  private sequence = 0;

  constructor(
    readonly clock: Clock,
    readonly consistency: Consistency,
  ) {}

  /** When the credential stopped (or will stop) working, as far as is known now. */
  deadAt(credential: PlatformCredential): number {
    const lag = credential.kind === 'aws-iam-access-key' ? this.consistency.keyLagMs : 0;
    // An access key does not expire by itself: only its deletion kills it.
    const expiry = credential.kind === 'aws-sts-session' ? credential.expiresAt : Number.POSITIVE_INFINITY;
    return Math.min(expiry, credential.revokedAt === undefined ? Number.POSITIVE_INFINITY : credential.revokedAt + lag);
  }

  works(credential: PlatformCredential, at = this.clock.now().getTime()): boolean {
    return at < this.deadAt(credential);
  }

  issue(request: IssueRequest): IssuedCredential {
    const now = this.clock.now().getTime();
    if (request.kind === 'aws-iam-access-key') {
      // The adapter tears down a user an earlier attempt left, so the new key is the only one.
      for (const earlier of this.ofGrant(request.grantId)) earlier.revokedAt ??= now;
    }
    const id = String(++this.sequence).padStart(12, '0');
    const session = request.kind === 'aws-sts-session';
    const credential: PlatformCredential = {
      accessKeyId: `${session ? 'ASIA' : 'AKIA'}MODEL${id}`,
      secretAccessKey: `model-secret-${id}-${request.grantId}`,
      ...(session ? { sessionToken: `model-token-${id}-${request.grantId}` } : {}),
      grantId: request.grantId,
      agentId: request.agentId,
      kind: request.kind,
      createdAt: now,
      expiresAt: request.expiresAt.getTime(),
    };
    this.credentials.push(credential);
    return {
      kind: request.kind,
      accessKeyId: credential.accessKeyId,
      secretAccessKey: credential.secretAccessKey,
      ...(credential.sessionToken ? { sessionToken: credential.sessionToken } : {}),
      principalArn: `arn:aws:iam::111122223333:user/taskbound/taskbound-${request.grantId}`,
      expiresAt: request.expiresAt,
    };
  }

  revoke(target: RevokeTarget): RevokeOutcome {
    if (this.outages.has(target.kind)) throw awsError('ServiceUnavailable', 503);
    const now = this.clock.now().getTime();
    const live = this.ofGrant(target.grantId).filter((credential) => credential.revokedAt === undefined);
    // The adapter waits out a young user it cannot see, then gives up with an error.
    if (target.kind === 'aws-iam-access-key' && live.some((credential) => this.invisible(credential, now)))
      throw awsError('NoSuchEntity', 404);
    for (const credential of live) credential.revokedAt = now;
    return live.length > 0 ? 'revoked' : 'already-revoked';
  }

  /** The port's promise and no more: sessions created before `issuedBefore` (a grant records its issue after that). */
  revokeAgent(revocation: AgentRevocation): void {
    if (this.outages.has('aws-sts-session')) throw awsError('ServiceUnavailable', 503);
    const now = this.clock.now().getTime();
    for (const credential of this.credentials) {
      const covered =
        credential.kind === 'aws-sts-session' &&
        credential.agentId === revocation.agentId &&
        credential.createdAt < revocation.issuedBefore.getTime();
      if (covered) credential.revokedAt ??= now;
    }
  }

  verify(target: RevokeTarget, material: CredentialMaterial | undefined): ProbeVerdict {
    const now = this.clock.now().getTime();
    const mine = this.ofGrant(target.grantId);
    if (material) {
      // GetCallerIdentity with the delivered credential: the truth, lag included.
      const credential = mine.find((candidate) => candidate.accessKeyId === material.accessKeyId);
      if (credential && this.works(credential, now)) return { verdict: 'accepted' };
      return { verdict: 'rejected', code: credential && credential.revokedAt === undefined ? 'ExpiredToken' : 'InvalidClientTokenId' };
    }
    if (target.kind === 'aws-sts-session') {
      // Without the token: the deny on the role (or the expiry) is the proof.
      return mine.some((credential) => credential.revokedAt === undefined && credential.expiresAt > now)
        ? { verdict: 'accepted' }
        : { verdict: 'rejected', code: 'SessionDenied' };
    }
    // ListAccessKeys: a user IAM cannot see yet reads as absent.
    const listed = mine.filter((credential) => credential.revokedAt === undefined && !this.invisible(credential, now));
    return listed.length > 0 ? { verdict: 'accepted' } : { verdict: 'rejected', code: 'NoSuchEntity' };
  }

  private invisible(credential: PlatformCredential, now: number): boolean {
    return now - credential.createdAt < this.consistency.invisibleMs;
  }

  private ofGrant(grantId: string): PlatformCredential[] {
    return this.credentials.filter((credential) => credential.grantId === grantId);
  }
}

/** One credential kind's issuer over the platform, every call through the gate. */
export function platformIssuer(
  platform: Platform,
  gate: FaultGate,
  kind: CredentialKind,
  onIssue: (request: IssueRequest) => Promise<void>,
): CredentialIssuer {
  return {
    issue: (request) =>
      gate.call(`${kind}.issue`, async () => {
        await onIssue(request);
        return platform.issue(request);
      }),
    revoke: (target) => gate.call(`${kind}.revoke`, async () => platform.revoke(target)),
    verify: (target, material) => gate.call(`${kind}.verify`, async () => platform.verify(target, material)),
    ...(kind === 'aws-sts-session'
      ? { revokeAgent: (revocation: AgentRevocation) => gate.call(`${kind}.revokeAgent`, async () => platform.revokeAgent(revocation)) }
      : {}),
  };
}
