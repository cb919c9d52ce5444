// Adapter (AWS STS + IAM): issues a task's credential as an STS session of its agent's role,
// narrowed by a session policy; revokes one session by naming it in a deny on the role, or all
// of an agent's older sessions (the kill switch) by a deny on their issue time.
import { GetRolePolicyCommand, NoSuchEntityException, PutRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, MalformedPolicyDocumentException, PackedPolicyTooLargeException, type STSClient } from '@aws-sdk/client-sts';
import { TaskboundError, UnissuableRequestError } from '../../domain/errors';
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
  ProbePatience,
} from '../../ports';
import { CanaryProofs, DEFAULT_CANARY_SCHEDULE, type SecretsManagerCanaryProbe } from './canary-probe';
import { scheduleFor, type ProbeSchedule } from './sts-credential-probe';
import {
  CLOCK_SKEW_MARGIN_SECONDS,
  REVOKED_SESSIONS_POLICY_NAME,
  isRevoked,
  parseRevokedSessions,
  renderRevokedSessions,
  withRevoked,
  withoutExpired,
  type RevokedSessions,
} from './revoked-sessions-policy';
import {
  coversIssuedAt,
  denyTimeFor,
  sessionsPassFrom,
  parseRevokedBefore,
  renderRevokedBefore,
  REVOKED_BEFORE_POLICY_NAME,
  REVOKED_BEFORE_RESERVED_CHARS,
} from './revoked-before-policy';
import { compileIssuedPolicy } from './session-policy';
import { realSleep } from '../sleep';
import type { RoleDenyLock } from './role-deny-lock';
import { notYet, retry, settled } from '../retry';

/** STS's floor for AssumeRole `DurationSeconds`. */
export const STS_MIN_SESSION_SECONDS = 900;
/** IAM's limit on the aggregate size of a role's inline policies. */
export const ROLE_INLINE_POLICY_MAX_CHARS = 10_240;

const WRITE_RETRY = { attempts: 5, baseDelayMs: 150 };

export interface StsSessionIssuerOptions {
  readonly sts: STSClient;
  readonly iam: IAMClient;
  readonly clock: Clock;
  /** The account holding the agent roles. */
  readonly accountId: string;
  /** Agent `a` assumes `arn:<partition>:iam::<accountId>:role/<rolePrefix>a`. */
  readonly rolePrefix: string;
  /** The agent roles' MaxSessionDuration (IAM's default is 3,600 s). */
  readonly roleMaxSessionSeconds: number;
  readonly partition?: string;
  /**
   * Characters the revocation denies may use: IAM's 10,240 per role, less any other inline
   * policy the role carries (give agent roles managed policies and this stays whole). A
   * number from configuration, or a function measuring the role (role-inline-policy-budget.ts).
   * The kill switch's deny takes a fixed REVOKED_BEFORE_RESERVED_CHARS of it.
   */
  readonly revocationPolicyMaxChars?: number | ((roleName: string) => Promise<number>);
  /**
   * The canary: every session may DescribeSecret on it, so a refused call proves the deny took.
   * Without it a session counts as dead once its grant is in the deny (inferred, not observed).
   */
  readonly canary?: SessionCanary;
  /**
   * One revoker at a time on a role's revoked-sessions deny, across containers. Without it two
   * revocations racing on one role can drop each other's entry (IAM has no conditional write): the
   * read-back catches most, `verify` and the sweep the rest, minutes later.
   */
  readonly denyLock?: Pick<RoleDenyLock, 'hold'>;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface SessionCanary {
  /** The canary secret's ARN, with `-??????` for the suffix Secrets Manager adds. */
  readonly secretArnPattern: string;
  readonly probe: Pick<SecretsManagerCanaryProbe, 'probe' | 'probeUntilRejected'>;
  /** How long to wait for IAM to enforce the deny before leaving it to the sweep. */
  readonly schedule?: ProbeSchedule;
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));
/** A grant's outcome from addAllToDeny, its error thrown. */
const outcomeOf = (outcome: RevokeOutcome | Error): RevokeOutcome => {
  if (outcome instanceof Error) throw outcome;
  return outcome;
};

interface WaitingRevocation {
  readonly target: RevokeTarget;
  readonly resolve: (outcome: RevokeOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/** Grants remembered between a revoke and its verify; past this the memory starts over (a verify then reads). */
const SEEN_IN_DENY_MAX = 1000;

/** Issues, revokes and checks `aws-sts-session` credentials. */
export class StsSessionIssuer implements CredentialIssuer {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly policyBudget: (roleName: string) => Promise<number>;
  /**
   * Grants this instance just saw in the role's deny (its own write, read back), so the
   * `verify` that follows does not read the policy again. Taken by that verify; bounded.
   */
  private readonly seenInDeny = new Set<string>();
  /** Per role, the time of the kill switch's deny this instance wrote or read there (never removed, only moved later). */
  private readonly seenDeniedBefore = new Map<string, Date>();
  /** Per role, when a fresh session of it answered the canary (canary-probe.ts: once per role every few minutes). */
  private readonly canaryProofs: CanaryProofs;
  /** Per agent, the revocations waiting for its role's deny lease (group commit, below). */
  private readonly waitingForDeny = new Map<string, WaitingRevocation[]>();

  constructor(private readonly options: StsSessionIssuerOptions) {
    if (options.roleMaxSessionSeconds < STS_MIN_SESSION_SECONDS || options.roleMaxSessionSeconds > 43_200) {
      throw new RangeError('roleMaxSessionSeconds must be within 900..43200, as IAM allows for MaxSessionDuration');
    }
    this.sleep = options.sleep ?? realSleep;
    const budget = options.revocationPolicyMaxChars ?? ROLE_INLINE_POLICY_MAX_CHARS;
    this.policyBudget = typeof budget === 'number' ? async () => budget : budget;
    this.canaryProofs = new CanaryProofs(() => options.clock.now().getTime());
  }

  roleArnOf(agentId: string): string {
    return `arn:${this.options.partition ?? 'aws'}:iam::${this.options.accountId}:role/${this.roleNameOf(agentId)}`;
  }

  /**
   * AssumeRole with the task's session policy, tagged with the grant and with the grant id
   * as SourceIdentity and session name. A TTL under STS's 900 s floor still gets a 900 s
   * session; the credential reports the task's expiry, and the engine revokes it then.
   */
  async issue(request: IssueRequest): Promise<IssuedCredential> {
    if (request.kind !== 'aws-sts-session')
      throw new TaskboundError(`the aws-sts-session issuer was asked for a ${request.kind} credential`);
    const policy = compileIssuedPolicy(request, 'aws-sts-session', this.options.canary?.secretArnPattern);
    const durationSeconds = Math.min(Math.max(request.ttlSeconds, STS_MIN_SESSION_SECONDS), this.options.roleMaxSessionSeconds);
    let response;
    try {
      response = await this.options.sts.send(
        new AssumeRoleCommand({
          RoleArn: this.roleArnOf(request.agentId),
          RoleSessionName: request.grantId,
          SourceIdentity: request.grantId,
          Policy: policy.document,
          DurationSeconds: durationSeconds,
          Tags: [
            { Key: 'taskbound:grant-id', Value: request.grantId },
            { Key: 'taskbound:task-id', Value: request.taskId },
            { Key: 'taskbound:agent-id', Value: request.agentId },
          ],
        }),
      );
    } catch (error) {
      if (error instanceof PackedPolicyTooLargeException) {
        throw new UnissuableRequestError(
          `STS refused the session: its policy and tags exceed the packed size limit (${error.message}); nothing was cut: request fewer scopes`,
        );
      }
      if (error instanceof MalformedPolicyDocumentException) {
        throw new UnissuableRequestError(`STS refused the compiled session policy as malformed (${error.message})`);
      }
      throw error;
    }
    const credentials = response.Credentials;
    const principalArn = response.AssumedRoleUser?.Arn;
    if (
      !credentials?.AccessKeyId ||
      !credentials.SecretAccessKey ||
      !credentials.SessionToken ||
      !credentials.Expiration ||
      !principalArn
    ) {
      throw new TaskboundError('STS AssumeRole answered without credentials');
    }
    const issued: IssuedCredential = {
      kind: 'aws-sts-session',
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      sessionToken: credentials.SessionToken,
      principalArn,
      expiresAt: new Date(Math.min(request.expiresAt.getTime(), credentials.Expiration.getTime())),
    };
    // The canary must answer the role's sessions, or a refusal after revocation would prove nothing
    // (the role or boundary would be missing it): proven with this session when not proven lately.
    if (this.options.canary) await this.canaryProofs.assertAnswers(this.roleArnOf(request.agentId), issued, this.options.canary.probe);
    return issued;
  }

  /**
   * Names the grant in the role's deny, leaving the agent's other sessions alone. Read,
   * modify, write, then read again, holding the role's deny lock when there is one (the
   * engine's composition gives it): no other revoker writes meanwhile. Without it (or past a
   * lease that ran out), a concurrent revocation that wrote from a stale read drops our id, so
   * we write again until we see it; a writer that drops it after our last read is caught by
   * `verify`, which then reports the session still accepted, and the sweep revokes it again.
   */
  async revoke(target: RevokeTarget): Promise<RevokeOutcome> {
    if (this.sessionEndsBy(target).getTime() < this.options.clock.now().getTime()) return 'already-revoked';
    const lock = this.options.denyLock;
    if (!lock) return outcomeOf((await this.addAllToDeny([target]))[0]!);
    return new Promise<RevokeOutcome>((resolve, reject) => {
      const waiting = this.waitingForDeny.get(target.agentId);
      if (waiting) return void waiting.push({ target, resolve, reject });
      this.waitingForDeny.set(target.agentId, [{ target, resolve, reject }]);
      void this.commitWaiting(target.agentId, lock);
    });
  }

  /**
   * Group commit: the role's revocations that queued while its lease was taken or held are written
   * by the next holder in one read-modify-write, so a burst of one agent's revocations costs a few
   * IAM writes, not one lease in turn each. Runs until none is left waiting.
   */
  private async commitWaiting(agentId: string, lock: Pick<RoleDenyLock, 'hold'>): Promise<void> {
    for (;;) {
      let batch: WaitingRevocation[] = [];
      try {
        await lock.hold(agentId, this.options.accountId, async () => {
          batch = this.waitingForDeny.get(agentId) ?? [];
          this.waitingForDeny.set(agentId, []);
          const outcomes = await this.addAllToDeny(batch.map((waiting) => waiting.target));
          batch.forEach((waiting, index) => {
            const outcome = outcomes[index]!;
            if (outcome instanceof Error) waiting.reject(outcome);
            else waiting.resolve(outcome);
          });
        });
      } catch (error) {
        // No lease (waited too long), or the deny could not be read or written: this round's revocations fail with it.
        const failed = batch.length > 0 ? batch : (this.waitingForDeny.get(agentId) ?? []);
        if (batch.length === 0) this.waitingForDeny.set(agentId, []);
        for (const waiting of failed) waiting.reject(error);
      }
      if ((this.waitingForDeny.get(agentId)?.length ?? 0) === 0) return void this.waitingForDeny.delete(agentId);
    }
  }

  /**
   * Names the grants in the role's deny in one read-modify-write, read back until each is seen (a
   * stale writer can drop one); each grant's outcome, or the error that is its own, in the order
   * given. Several that do not fit together, or that keep being dropped, are written one by one;
   * for one alone a full deny is no failure when the kill switch's deny covers its session.
   */
  private async addAllToDeny(targets: readonly RevokeTarget[]): Promise<(RevokeOutcome | Error)[]> {
    const now = this.options.clock.now();
    const roleName = this.roleNameOf(targets[0]!.agentId);
    let sessions = await this.readRevoked(roleName);
    const outcomes = new Map<string, RevokeOutcome | Error>();
    for (const target of targets)
      if (isRevoked(sessions, target.grantId)) outcomes.set(target.grantId, this.sawInDeny(target.grantId, 'already-revoked'));
    let todo = targets.filter((target) => !outcomes.has(target.grantId));
    let overBudget: string | undefined;
    await retry(
      WRITE_RETRY,
      async () => {
        if (todo.length === 0) return settled(undefined);
        const named = todo.reduce(
          (next, target) => withRevoked(next, target.grantId, this.sessionEndsBy(target)),
          withoutExpired(sessions, now),
        );
        const fits = await this.writeRevoked(roleName, named);
        if (!fits.written) {
          overBudget = fits.why;
          return settled(undefined);
        }
        sessions = await this.readRevoked(roleName);
        for (const target of todo)
          if (isRevoked(sessions, target.grantId)) outcomes.set(target.grantId, this.sawInDeny(target.grantId, 'revoked'));
        todo = todo.filter((target) => !outcomes.has(target.grantId));
        return todo.length === 0 ? settled(undefined) : notYet(undefined);
      },
      { sleep: this.sleep },
    );
    if (todo.length > 1) {
      for (const target of todo) outcomes.set(target.grantId, (await this.addAllToDeny([target]).catch((error) => [asError(error)]))[0]!);
    } else if (todo.length === 1) {
      const target = todo[0]!;
      const covered = overBudget !== undefined && coversIssuedAt(await this.readRevokedBefore(roleName), target.issuedAt);
      const failure = overBudget ?? `concurrent revocations on role ${roleName} kept overwriting the deny for ${target.grantId}`;
      outcomes.set(target.grantId, covered ? 'already-revoked' : new TaskboundError(failure));
    }
    return targets.map((target) => outcomes.get(target.grantId) as RevokeOutcome | Error);
  }

  /** A resume waits for this: until then, a new session of the agent could still fall under its kill switch's deny. */
  admitsIssuesFrom(issuedBefore: Date): Date {
    return sessionsPassFrom(issuedBefore);
  }

  /**
   * The kill switch: one deny on the agent's role of every session issued before the notice
   * (plus TOKEN_ISSUE_MARGIN_SECONDS), as AWS's "revoke active sessions" does, in place of one
   * entry per grant (of which the role's 10,240 characters hold about 300). A later time already
   * there is kept (it covers more). Written, then read back until IAM shows at least this time:
   * a concurrent suspension's earlier time may land after ours.
   */
  async revokeAgent(revocation: AgentRevocation): Promise<void> {
    const roleName = this.roleNameOf(revocation.agentId);
    const wanted = denyTimeFor(revocation.issuedBefore);
    const reaches = (at: Date | undefined): at is Date => at !== undefined && at.getTime() >= wanted.getTime();
    const current = await this.readRevokedBefore(roleName);
    if (reaches(current)) return void this.sawDeniedBefore(roleName, current);
    const written = await retry(
      WRITE_RETRY,
      async () => {
        const document = renderRevokedBefore(wanted);
        await this.options.iam.send(
          new PutRolePolicyCommand({ RoleName: roleName, PolicyName: REVOKED_BEFORE_POLICY_NAME, PolicyDocument: document }),
        );
        const seen = await this.readRevokedBefore(roleName);
        return reaches(seen) ? settled(seen) : notYet(undefined);
      },
      { sleep: this.sleep },
    );
    if (!written.settled) throw new TaskboundError(`concurrent suspensions on role ${roleName} kept overwriting its revoked-before deny`);
    this.sawDeniedBefore(roleName, written.value);
  }

  /**
   * A session is dead once it has expired, or once its grant is in the role's deny and a call
   * with it is refused: the canary is called until AccessDenied (IAM enforces a new deny
   * only after some seconds). STS GetCallerIdentity cannot be the probe: it answers even
   * under an explicit deny of everything. Without the session at hand (or without a canary)
   * the deny being in place is all there is to go on: a rejection, but not an observed one.
   */
  async verify(target: RevokeTarget, material?: CredentialMaterial, patience?: ProbePatience): Promise<ProbeVerdict> {
    if (this.sessionEndsBy(target).getTime() < this.options.clock.now().getTime()) return { verdict: 'rejected', code: 'ExpiredToken' };
    const canary = this.options.canary;
    const probing = canary !== undefined && material?.sessionToken !== undefined;
    // Just read back by `revoke` in this instance, and the canary is about to be called: the
    // policy is not read again (one IAM call fewer). A writer that dropped the grant from the
    // deny since leaves the canary accepted, which says so as the read would have.
    const roleName = this.roleNameOf(target.agentId);
    const justSeen =
      (this.seenInDeny.delete(target.grantId) || coversIssuedAt(this.seenDeniedBefore.get(roleName), target.issuedAt)) && probing;
    if (!justSeen && !(await this.inEitherDeny(roleName, target))) return { verdict: 'accepted' };
    if (!canary || !material?.sessionToken) return { verdict: 'rejected', code: 'ExplicitDeny' };
    return canary.probe.probeUntilRejected(material, scheduleFor(patience, canary.schedule ?? DEFAULT_CANARY_SCHEDULE));
  }

  /** The grant's own entry first (one read on the common path); the kill switch's deny only when that is missing. */
  private async inEitherDeny(roleName: string, target: RevokeTarget): Promise<boolean> {
    if (isRevoked(await this.readRevoked(roleName), target.grantId)) return true;
    const deniedBefore = await this.readRevokedBefore(roleName);
    if (deniedBefore) this.sawDeniedBefore(roleName, deniedBefore);
    return coversIssuedAt(deniedBefore, target.issuedAt);
  }

  private sawDeniedBefore(roleName: string, at: Date): void {
    if (this.seenDeniedBefore.size >= SEEN_IN_DENY_MAX) this.seenDeniedBefore.clear();
    this.seenDeniedBefore.set(roleName, at);
  }

  private sawInDeny<T>(grantId: string, outcome: T): T {
    if (this.seenInDeny.size >= SEEN_IN_DENY_MAX) this.seenInDeny.clear();
    this.seenInDeny.add(grantId);
    return outcome;
  }

  private roleNameOf(agentId: string): string {
    return `${this.options.rolePrefix}${agentId}`;
  }

  /**
   * The latest the grant's session can end. A TTL under 900 s still got a 900 s session,
   * so the grant's expiry understates it by up to 900 s; without an expiry (issuance
   * crashed before recording one) a session begun by now lasts at most the role's maximum.
   */
  private sessionEndsBy(target: RevokeTarget): Date {
    const margin = CLOCK_SKEW_MARGIN_SECONDS * 1000;
    if (target.expiresAt) return new Date(target.expiresAt.getTime() + STS_MIN_SESSION_SECONDS * 1000 + margin);
    return new Date(this.options.clock.now().getTime() + this.options.roleMaxSessionSeconds * 1000 + margin);
  }

  private async readRevoked(roleName: string): Promise<RevokedSessions> {
    return parseRevokedSessions(await this.readPolicy(roleName, REVOKED_SESSIONS_POLICY_NAME));
  }

  private async readRevokedBefore(roleName: string): Promise<Date | undefined> {
    return parseRevokedBefore(await this.readPolicy(roleName, REVOKED_BEFORE_POLICY_NAME));
  }

  private async readPolicy(roleName: string, policyName: string): Promise<string | undefined> {
    try {
      return (await this.options.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }))).PolicyDocument;
    } catch (error) {
      // No deny yet (or no role, whose sessions then cannot exist): nothing is revoked.
      if (error instanceof NoSuchEntityException) return undefined;
      throw error;
    }
  }

  /** Over budget, nothing is written: the caller fails loudly (the grant stays `revoking`; the sweep retries as older entries expire). */
  private async writeRevoked(
    roleName: string,
    sessions: RevokedSessions,
  ): Promise<{ readonly written: true } | { readonly written: false; readonly why: string }> {
    const document = renderRevokedSessions(sessions);
    const budget = (await this.policyBudget(roleName)) - REVOKED_BEFORE_RESERVED_CHARS;
    if (document.length > budget) {
      const why = `the revoked-sessions deny on role ${roleName} would need ${document.length} characters, over its ${budget}: too many revoked sessions of this agent are still unexpired`;
      return { written: false, why };
    }
    await this.options.iam.send(
      new PutRolePolicyCommand({ RoleName: roleName, PolicyName: REVOKED_SESSIONS_POLICY_NAME, PolicyDocument: document }),
    );
    return { written: true };
  }
}
