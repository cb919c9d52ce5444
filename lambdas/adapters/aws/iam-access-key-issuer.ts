// Adapter (AWS IAM): issues a task's credential as an access key of an IAM user made for the
// grant alone, under /taskbound/ and a permissions boundary; revokes it by deleting the user.
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteConflictException,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  EntityAlreadyExistsException,
  LimitExceededException,
  ListAccessKeysCommand,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  PutUserPolicyCommand,
  paginateListUserPolicies,
  paginateListUsers,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { TaskboundError, UnissuableRequestError } from '../../domain/errors';
import type {
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
import { compileTaskPolicy } from './session-policy';
import { scheduleFor, type ProbeSchedule, type StsCredentialProbe } from './sts-credential-probe';
import { realSleep } from '../sleep';
import { notYet, retry, settled, type Backoff } from '../retry';

/** Every grant's user lives here, and nothing else does: orphan reconciliation lists it. */
export const USER_PATH = '/taskbound/';
export const USER_POLICY_NAME = 'taskbound-grant';
const USER_NAME = /^taskbound-(g-[a-z2-7]{26})$/;
/** The shortest TTL a grant can have (docs/contract.md §1): its expiry is at least this long after issue. */
const MIN_TTL_MS = 60_000;
/** Retries while IAM may still be catching up: six tries, waits of up to 0.25, 0.5, 1, 2, 4 s (about 7.5 s in all). */
const CONSISTENCY_RETRY: Backoff = { attempts: 6, baseDelayMs: 250, maxDelayMs: 4000 };

export interface IamAccessKeyIssuerOptions {
  readonly iam: IAMClient;
  readonly clock: Clock;
  /**
   * The managed policy every grant user is capped by: what no scope can exceed. Only where issuing
   * is wired (the issuing functions); without it the issuer only revokes, verifies and lists, and
   * `issue` refuses before any IAM call.
   */
  readonly permissionsBoundaryArn?: string;
  /** Probes a delivered key with STS GetCallerIdentity. */
  readonly probe: Pick<StsCredentialProbe, 'probeUntilRejected'>;
  /** IAM keeps a deleted key usable for a few seconds: probe until rejected on this schedule. */
  readonly probeSchedule?: ProbeSchedule;
  /** How long a new user may look absent to IAM reads (eventual consistency). Default 10 s. */
  readonly consistencyWindowMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A user under /taskbound/ that the sweep checks against the grant table. */
export interface OrphanCandidate {
  readonly userName: string;
  readonly grantId: string;
  readonly createdAt?: Date;
}

export function userNameOf(grantId: string): string {
  return `taskbound-${grantId}`;
}

/** Issues, revokes and checks `aws-iam-access-key` credentials. */
export class IamAccessKeyIssuer implements CredentialIssuer {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly schedule: ProbeSchedule;
  private readonly consistencyWindowMs: number;

  constructor(private readonly options: IamAccessKeyIssuerOptions) {
    this.sleep = options.sleep ?? realSleep;
    this.schedule = options.probeSchedule ?? { attempts: 5, delayMs: 1000 };
    this.consistencyWindowMs = options.consistencyWindowMs ?? 10_000;
  }

  /**
   * CreateUser (path, boundary, tags) → PutUserPolicy → CreateAccessKey. A user left by an
   * earlier attempt for the same grant is torn down first, so the new key is the only one.
   * If a later step fails the user is torn down before the error propagates.
   */
  async issue(request: IssueRequest): Promise<IssuedCredential> {
    if (request.kind !== 'aws-iam-access-key')
      throw new TaskboundError(`the aws-iam-access-key issuer was asked for a ${request.kind} credential`);
    const boundary = this.options.permissionsBoundaryArn;
    if (boundary === undefined)
      throw new TaskboundError('this aws-iam-access-key issuer only revokes: it was built without a permissions boundary');
    const policy = compileTaskPolicy(request, 'aws-iam-access-key');
    const userName = userNameOf(request.grantId);
    const principalArn = await this.createUser(request, userName, boundary);
    try {
      await this.whileInvisible(() =>
        this.options.iam.send(
          new PutUserPolicyCommand({ UserName: userName, PolicyName: USER_POLICY_NAME, PolicyDocument: policy.document }),
        ),
      );
      const { AccessKey: key } = await this.whileInvisible(() => this.options.iam.send(new CreateAccessKeyCommand({ UserName: userName })));
      if (!key?.AccessKeyId || !key.SecretAccessKey) throw new TaskboundError('IAM CreateAccessKey answered without a key');
      return {
        kind: 'aws-iam-access-key',
        accessKeyId: key.AccessKeyId,
        secretAccessKey: key.SecretAccessKey,
        principalArn,
        expiresAt: request.expiresAt,
      };
    } catch (error) {
      // The user must not outlive a failed issue (revoke waits out a user IAM cannot see yet);
      // if this fails too, orphan reconciliation finds the user.
      await this.revoke({ grantId: request.grantId, agentId: request.agentId, taskId: request.taskId, kind: request.kind }).catch(
        () => undefined,
      );
      throw asUnissuable(error);
    }
  }

  /**
   * Deletes the keys, then the inline policies, then the user (IAM refuses to delete a user
   * that still has either). A user that looks absent may have been created moments ago, so
   * unless the grant is certainly older than IAM's consistency window, absence is re-checked
   * with backoff before it counts as already revoked.
   */
  async revoke(target: RevokeTarget): Promise<RevokeOutcome> {
    const userName = userNameOf(target.grantId);
    const mayBeYoung = this.mayBeYoung(target);
    let sawUser = false;
    const torn = await retry(
      CONSISTENCY_RETRY,
      async () => {
        const outcome = await this.teardown(userName);
        if (outcome === 'deleted') return settled<RevokeOutcome>('revoked');
        sawUser ||= outcome === 'conflict';
        // Absent after we saw it: a concurrent revocation finished the job.
        if (outcome === 'absent' && (sawUser || !mayBeYoung)) return settled<RevokeOutcome>(sawUser ? 'revoked' : 'already-revoked');
        return notYet(outcome);
      },
      { sleep: this.sleep },
    );
    if (torn.settled) return torn.value;
    if (torn.last === 'absent') return 'already-revoked';
    throw new TaskboundError(`IAM kept refusing to delete user ${userName} (DeleteConflict)`);
  }

  /**
   * With the delivered key: probe STS until it is rejected (deleted keys work for a few
   * seconds more). Without it: the user being gone proves the key gone.
   */
  async verify(target: RevokeTarget, material: CredentialMaterial | undefined, patience?: ProbePatience): Promise<ProbeVerdict> {
    if (material) return this.options.probe.probeUntilRejected(material, scheduleFor(patience, this.schedule));
    const keys = await this.listKeys(userNameOf(target.grantId));
    if (keys === undefined) return { verdict: 'rejected', code: 'NoSuchEntity' };
    const live = target.accessKeyId ? keys.includes(target.accessKeyId) : keys.length > 0;
    return live ? { verdict: 'accepted' } : { verdict: 'unknown', why: 'the access key is deleted but its user still exists' };
  }

  /** The CredentialIssuer view of the users under /taskbound/: one grant each. */
  async *listIssued(): AsyncIterable<{ readonly grantId: string }> {
    for await (const candidate of this.listOrphanCandidates()) yield { grantId: candidate.grantId };
  }

  /** Users under /taskbound/ named for a grant, for the sweep to match against live grants. */
  async *listOrphanCandidates(): AsyncIterable<OrphanCandidate> {
    for await (const page of paginateListUsers({ client: this.options.iam }, { PathPrefix: USER_PATH })) {
      for (const user of page.Users ?? []) {
        const grantId = user.UserName ? USER_NAME.exec(user.UserName)?.[1] : undefined;
        if (!grantId || !user.UserName) continue;
        yield { userName: user.UserName, grantId, ...(user.CreateDate ? { createdAt: user.CreateDate } : {}) };
      }
    }
  }

  private async createUser(request: IssueRequest, userName: string, boundary: string): Promise<string> {
    const command = new CreateUserCommand({
      UserName: userName,
      Path: USER_PATH,
      PermissionsBoundary: boundary,
      Tags: [
        { Key: 'taskbound:grant-id', Value: request.grantId },
        { Key: 'taskbound:task-id', Value: request.taskId },
        { Key: 'taskbound:agent-id', Value: request.agentId },
        { Key: 'taskbound:expires-at', Value: request.expiresAt.toISOString() },
      ],
    });
    const created = await retry(
      CONSISTENCY_RETRY,
      async () => {
        try {
          const { User: user } = await this.options.iam.send(command);
          if (!user?.Arn) throw new TaskboundError('IAM CreateUser answered without a user');
          return settled(user.Arn);
        } catch (error) {
          if (!(error instanceof EntityAlreadyExistsException)) throw error;
          // Left by an earlier attempt whose outcome we never learnt: its key may be lost, so start clean.
          await this.teardown(userName);
          return notYet(undefined);
        }
      },
      { sleep: this.sleep },
    );
    if (created.settled) return created.value;
    throw new TaskboundError(`user ${userName} kept existing after being torn down`);
  }

  /** One pass of keys → policies → user. `absent` when the user cannot be seen at all. */
  private async teardown(userName: string): Promise<'deleted' | 'absent' | 'conflict'> {
    const keys = await this.listKeys(userName);
    if (keys === undefined) return 'absent';
    for (const accessKeyId of keys) {
      await tolerateAbsent(this.options.iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId })));
    }
    try {
      for await (const page of paginateListUserPolicies({ client: this.options.iam }, { UserName: userName })) {
        for (const policyName of page.PolicyNames ?? []) {
          await tolerateAbsent(this.options.iam.send(new DeleteUserPolicyCommand({ UserName: userName, PolicyName: policyName })));
        }
      }
      await this.options.iam.send(new DeleteUserCommand({ UserName: userName }));
      return 'deleted';
    } catch (error) {
      // Someone else finished the teardown after we saw the user: it is gone all the same.
      if (error instanceof NoSuchEntityException) return 'deleted';
      // A key or policy we could not yet see (or one added meanwhile) is still attached: go round again.
      if (error instanceof DeleteConflictException) return 'conflict';
      throw error;
    }
  }

  /** The user's access key ids, or `undefined` when IAM says the user does not exist. */
  private async listKeys(userName: string): Promise<string[] | undefined> {
    try {
      const response = await this.options.iam.send(new ListAccessKeysCommand({ UserName: userName }));
      return (response.AccessKeyMetadata ?? []).flatMap((key) => (key.AccessKeyId ? [key.AccessKeyId] : []));
    } catch (error) {
      if (error instanceof NoSuchEntityException) return undefined;
      throw error;
    }
  }

  /** Retries a call on a user we just created while IAM may not show it yet. */
  private async whileInvisible<T>(call: () => Promise<T>): Promise<T> {
    const answer = await retry(
      CONSISTENCY_RETRY,
      async () => {
        try {
          return settled(await call());
        } catch (error) {
          if (!(error instanceof NoSuchEntityException)) throw error;
          return notYet(error);
        }
      },
      { sleep: this.sleep },
    );
    if (answer.settled) return answer.value;
    // The last try's error is the caller's.
    throw answer.last;
  }

  /**
   * Whether the grant's user could have been created within the consistency window. The
   * issue time is not in the target; a grant expires at least a minute after issue, so one
   * whose expiry is that far behind us is certainly old. Without an expiry, assume young.
   */
  private mayBeYoung(target: RevokeTarget): boolean {
    if (target.issuedAt) return this.options.clock.now().getTime() < target.issuedAt.getTime() + this.consistencyWindowMs;
    if (!target.expiresAt) return true;
    const issuedNoLaterThan = target.expiresAt.getTime() - MIN_TTL_MS;
    return this.options.clock.now().getTime() < issuedNoLaterThan + this.consistencyWindowMs;
  }
}

async function tolerateAbsent(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    // Already deleted by a concurrent revocation, or listed from a stale read: the goal holds.
    if (!(error instanceof NoSuchEntityException)) throw error;
  }
}

/** IAM refusing the compiled policy is a property of the request, not an outage: a denial with a reason. */
function asUnissuable(error: unknown): unknown {
  if (error instanceof MalformedPolicyDocumentException) {
    return new UnissuableRequestError(`IAM refused the compiled policy as malformed (${error.message})`);
  }
  if (error instanceof LimitExceededException && /policy size/i.test(error.message)) {
    return new UnissuableRequestError(`IAM refused the compiled policy as too large (${error.message})`);
  }
  return error;
}
