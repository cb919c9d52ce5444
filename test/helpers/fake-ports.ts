// Test helpers: in-memory fakes of the engine's non-store ports. They keep state and
// behave like the real thing where the use cases depend on it (revoked means rejected).
import type {
  AgentRevocation,
  Clock,
  CredentialIssuer,
  CredentialMaterial,
  DoneAheadOfDelivery,
  Delivery,
  DeliveryPayload,
  DeliveryAddress,
  DeliveryVault,
  EventPublisher,
  ExpiryScheduler,
  IssueRequest,
  IssuedCredential,
  ProbePatience,
  ProbeVerdict,
  RevokeOutcome,
  RevokeTarget,
  SecretRotator,
} from '../../lambdas/ports';
import type { OutboundEvent, OutboundType } from '../../lambdas/domain/events';
import type { CredentialKind } from '../../lambdas/domain/policy';

export class FakeClock implements Clock {
  constructor(private current = new Date('2026-11-28T12:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

interface IssuedRecord {
  readonly request: IssueRequest;
  readonly credential: IssuedCredential;
  readonly issuedAt: Date;
  revokedAt?: Date;
}

/**
 * Issues credentials in memory; `stillValidFor` makes a revoked credential keep working (IAM lag).
 * Sessions can also be revoked agent-wide (the kill switch's deny of an agent's older sessions).
 */
export class FakeIssuer implements CredentialIssuer {
  readonly issued = new Map<string, IssuedRecord>();
  /** Every grant `revoke` was called for, in order. */
  readonly revokeCalls: string[] = [];
  /** The patience of every `verify` call, in order (a call is one probe here, whatever its patience). */
  readonly verifyPatience: ProbePatience[] = [];
  /** Every agent-wide revocation, in order (sessions only). */
  readonly agentRevocations: AgentRevocation[] = [];
  failNextIssue?: Error;
  failRevocations = 0;
  failAgentRevocations = 0;
  stillValidForProbes = 0;
  readonly revokeAgent?: (revocation: AgentRevocation) => Promise<void>;
  private sequence = 0;

  constructor(
    private readonly kind: CredentialKind,
    private readonly clock: Clock,
  ) {
    if (kind === 'aws-sts-session') this.revokeAgent = (revocation) => this.revokeSessionsOf(revocation);
  }

  private async revokeSessionsOf(revocation: AgentRevocation): Promise<void> {
    if (this.failAgentRevocations > 0) {
      this.failAgentRevocations--;
      throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    }
    this.agentRevocations.push(revocation);
    for (const record of this.issued.values()) {
      if (record.request.agentId === revocation.agentId && record.issuedAt < revocation.issuedBefore) record.revokedAt ??= this.clock.now();
    }
  }

  async issue(request: IssueRequest): Promise<IssuedCredential> {
    if (this.failNextIssue) {
      const error = this.failNextIssue;
      this.failNextIssue = undefined;
      throw error;
    }
    const id = String(++this.sequence).padStart(12, '0');
    const credential: IssuedCredential = {
      kind: this.kind,
      accessKeyId: `${this.kind === 'aws-sts-session' ? 'ASIA' : 'AKIA'}FAKE${id}`,
      secretAccessKey: `fake-secret-${id}-do-not-log`,
      ...(this.kind === 'aws-sts-session' ? { sessionToken: `fake-token-${id}-do-not-log` } : {}),
      principalArn: `arn:aws:sts::000000000000:assumed-role/agent/${request.grantId}`,
      expiresAt: request.expiresAt,
    };
    this.issued.set(request.grantId, { request, credential, issuedAt: this.clock.now() });
    return credential;
  }

  async revoke(target: RevokeTarget): Promise<RevokeOutcome> {
    this.revokeCalls.push(target.grantId);
    if (this.failRevocations > 0) {
      this.failRevocations--;
      throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    }
    const record = this.issued.get(target.grantId);
    if (!record || record.revokedAt) return 'already-revoked';
    record.revokedAt = this.clock.now();
    return 'revoked';
  }

  async verify(target: RevokeTarget, material: CredentialMaterial | undefined, patience?: ProbePatience): Promise<ProbeVerdict> {
    this.verifyPatience.push(patience ?? 'until-refused');
    const record = this.issued.get(target.grantId);
    if (!record) return { verdict: 'rejected', code: 'InvalidClientTokenId' };
    if (!record.revokedAt && record.credential.expiresAt > this.clock.now()) return { verdict: 'accepted' };
    if (this.stillValidForProbes > 0) {
      this.stillValidForProbes--;
      return { verdict: 'accepted' };
    }
    // With the credential at hand the refusal is seen (a probe call), as the real adapters report it.
    return {
      verdict: 'rejected',
      code: record.revokedAt ? 'InvalidClientTokenId' : 'ExpiredToken',
      ...(material ? { observed: true } : {}),
    };
  }

  isLive(grantId: string): boolean {
    const record = this.issued.get(grantId);
    return record !== undefined && !record.revokedAt;
  }
}

/**
 * A vault that prepares (created empty and locked ahead, then the value), or with `keyLocked` one
 * that stages instead (created with the value ahead, then locked), as the Secrets Manager vault is
 * under a key whose policy locks the value.
 */
export class FakeVault implements DeliveryVault {
  readonly secrets = new Map<string, Delivery>();
  /** Secrets created empty and locked by `prepare`, no value written yet (they read as absent). */
  readonly empty = new Map<string, DeliveryAddress>();
  /** Secrets `stage` created with their value, not locked yet. */
  readonly unlocked = new Set<string>();
  readonly destroyed: string[] = [];
  /**
   * Each call in order: `prepare <name>`, `stage <name>`, `deliver <name>` (created and locked
   * first), `write <name>` (value only) or `lock <name>` (a staged one).
   */
  readonly calls: string[] = [];
  prepare?: (address: DeliveryAddress) => Promise<void>;
  stage?: (delivery: Delivery) => Promise<boolean>;

  constructor(options: { readonly keyLocked?: boolean } = {}) {
    if (options.keyLocked === true) {
      this.stage = async (delivery) => {
        this.calls.push(`stage ${delivery.name}`);
        if (this.secrets.has(delivery.name)) return false;
        this.secrets.set(delivery.name, delivery);
        this.unlocked.add(delivery.name);
        return true;
      };
    } else {
      this.prepare = async (address) => {
        this.calls.push(`prepare ${address.name}`);
        if (!this.secrets.has(address.name)) this.empty.set(address.name, address);
      };
    }
  }

  async deliver(delivery: Delivery, ahead?: DoneAheadOfDelivery): Promise<void> {
    this.calls.push(`${ahead === 'staged' ? 'lock' : ahead === 'prepared' ? 'write' : 'deliver'} ${delivery.name}`);
    if ((ahead === 'staged' || ahead === 'existing') && !this.secrets.has(delivery.name))
      throw Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
    this.empty.delete(delivery.name);
    this.unlocked.delete(delivery.name);
    this.secrets.set(delivery.name, delivery);
  }
  async read(name: string): Promise<DeliveryPayload | undefined> {
    return this.secrets.get(name)?.payload;
  }
  async destroy(name: string): Promise<void> {
    this.unlocked.delete(name);
    const existed = this.secrets.delete(name) || this.empty.delete(name);
    if (existed) this.destroyed.push(name);
  }
  async *listDeliveries() {
    for (const delivery of [...this.secrets.values(), ...this.empty.values()]) yield { name: delivery.name, grantId: delivery.grantId };
  }
}

export class FakeEvents implements EventPublisher {
  readonly published: OutboundEvent[] = [];
  async publish(events: readonly OutboundEvent[]): Promise<void> {
    this.published.push(...events);
  }
  types(): OutboundType[] {
    return this.published.map((event) => event.detailType);
  }
  of(type: OutboundType): OutboundEvent[] {
    return this.published.filter((event) => event.detailType === type);
  }
}

export class FakeExpiry implements ExpiryScheduler {
  readonly scheduled = new Map<string, Date>();
  async scheduleExpiry(grantId: string, at: Date): Promise<void> {
    this.scheduled.set(grantId, at);
  }
  async cancelExpiry(grantId: string): Promise<void> {
    this.scheduled.delete(grantId);
  }
}

export class FakeRotator implements SecretRotator {
  readonly rotated: string[] = [];
  async rotate(secretArn: string): Promise<'rotated'> {
    this.rotated.push(secretArn);
    return 'rotated';
  }
}
