// Local engine, emulated AWS: the credential authority that stands in for IAM and STS. It issues real,
// SigV4-usable credentials per grant, keeps them durably, and says whether one still works. The store
// is the truth: memory holds the live credentials and those revoked moments ago; an older dead one
// is read back from the store when it is presented (credential-cold-reads.ts).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { CredentialKind } from '../../domain/policy';
import type { Clock, IssueRequest, IssuedCredential, RevokeOutcome } from '../../ports';
import { LOCAL_ACCOUNT_ID } from '../../constants';
import { ColdCredentialReads } from './credential-cold-reads';
import { ensureStateTable, scanAll, STATE_TABLES } from './state-tables';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const PRUNE_EVERY_MS = 1000;
/**
 * How long a credential stays in memory once its revocation is in force: the engine's probe, and a
 * runtime's last calls, come at once (a probe once the revocation is in force is refused, which ends
 * its schedule); a later one reads the store. Short, so the working set fills within a soak's warm-up.
 */
export const COLD_AFTER_MS = 10_000;

/** A credential as the authority keeps it. The session token is kept only as its hash. */
export interface LocalCredential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionTokenSha256?: string;
  readonly kind: CredentialKind;
  readonly grantId: string;
  readonly agentId: string;
  readonly taskId: string;
  readonly principalArn: string;
  /** What GetCallerIdentity answers as UserId. */
  readonly userId: string;
  readonly issuedAt: string;
  readonly expiresAt: string;
  readonly revokedAt?: string;
  /** The policy it carries (an STS session policy, an IAM user's inline policy), as a JSON document; absent: not judged. */
  readonly policy?: string;
}

export type RejectionCode = 'InvalidClientTokenId' | 'ExpiredToken';

/** Whether a presented credential works right now. */
export type CredentialCheck =
  { readonly status: 'valid'; readonly credential: LocalCredential } | { readonly status: 'rejected'; readonly code: RejectionCode };

/**
 * Where a presented credential stands, for services other than STS. `unknown`: not a
 * credential this authority issued (locally, anything else may call unauthenticated).
 * `denied`: a session whose revocation (the role's deny) is in force.
 */
export type CredentialStanding =
  | { readonly status: 'unknown' }
  | { readonly status: 'valid'; readonly credential: LocalCredential }
  | { readonly status: 'denied'; readonly credential: DeniedSession }
  | { readonly status: 'rejected'; readonly code: RejectionCode };

/** What a denial needs of a revoked session: its principal (for the message) and its secret (to check the signature). */
export type DeniedSession = Pick<LocalCredential, 'principalArn' | 'secretAccessKey'>;

/**
 * The kill switch's deny of an agent's older sessions (AWS: a `aws:TokenIssueTime` deny on its role),
 * kept in the credentials table under a key no access key id can have.
 */
interface AgentSessionsDeny {
  readonly agentId: string;
  /** Sessions issued before this are denied. */
  readonly issuedBefore: string;
  /** When the deny was written: IAM's lag counts from here. */
  readonly revokedAt: string;
}

export const AGENT_DENY_KEY_PREFIX = 'agent-sessions-before#';

/**
 * Whether the kill switch's deny covers a credential not revoked by itself: a session of the agent
 * issued before it (AWS: `aws:TokenIssueTime` is earlier). Shared with the crash and soak checks,
 * which read the same table, so they judge a session as this authority does.
 */
export function coveredByAgentDeny(
  credential: { readonly kind: string; readonly issuedAt: string; readonly revokedAt?: string },
  deny: { readonly issuedBefore: string },
): boolean {
  return credential.kind === 'aws-sts-session' && !credential.revokedAt && credential.issuedAt < deny.issuedBefore;
}

/** Whether any credential of a grant still works. */
export type GrantCredentialStatus = { readonly verdict: 'accepted' } | { readonly verdict: 'rejected'; readonly code: RejectionCode };

export interface LocalCredentialAuthorityOptions {
  /** DynamoDB's own client (items converted here, so it may cache its middleware chains: the document client refuses). */
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly clock: Clock;
  /**
   * How long a deleted access key keeps working, as IAM's eventual consistency allows
   * (a few seconds in AWS). Default 0.
   */
  readonly accessKeyRevocationLagMs?: number;
  /**
   * How long a revoked session keeps working, as IAM takes seconds to enforce a new deny on
   * a role everywhere. Default 0.
   */
  readonly sessionDenyLagMs?: number;
  /**
   * The client of the emulated IAM's own reads of credentials no longer in memory: the store's, not
   * the engine's (on AWS those lookups are IAM's, not calls the engine makes). `client` when absent.
   */
  readonly coldReads?: DynamoDBClient;
  /** How long a revoked credential stays in memory once its revocation is in force (COLD_AFTER_MS by default). */
  readonly coldAfterMs?: number;
}

function randomBase32(length: number): string {
  return Array.from(randomBytes(length), (byte) => BASE32[byte & 31]).join('');
}

/** A new key pair shaped like AWS's: `AKIA…` (long-term) or `ASIA…` (session) and a 40-character secret. */
export function newAccessKeyPair(prefix: 'AKIA' | 'ASIA'): { readonly accessKeyId: string; readonly secretAccessKey: string } {
  return { accessKeyId: `${prefix}${randomBase32(16)}`, secretAccessKey: randomBytes(30).toString('base64') };
}

/** A stable 16-character id, like IAM's unique ids (AROA..., AIDA...). */
function stableId(seed: string): string {
  return Array.from(createHash('sha256').update(seed).digest().subarray(0, 16), (byte) => BASE32[byte & 31]).join('');
}

const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A session needs its token, an access key must come without one. */
function tokenMatches(credential: LocalCredential, sessionToken: string | undefined): boolean {
  const expected = credential.sessionTokenSha256;
  return expected === undefined ? sessionToken === undefined : sessionToken !== undefined && sameHash(expected, sha256Hex(sessionToken));
}

/**
 * The identity AWS would give the credential, in the account the grant records (a spoke's, or
 * the local one): the local engine emulates every account of a hub-and-spoke policy in one
 * process, so a spoke grant's credential still says where it would live on AWS.
 */
function principalFor(request: IssueRequest): { principalArn: string; userId: string } {
  const account = request.account ?? LOCAL_ACCOUNT_ID;
  return request.kind === 'aws-sts-session'
    ? {
        principalArn: `arn:aws:sts::${account}:assumed-role/taskbound-agent-${request.agentId}/${request.grantId}`,
        // The same role in another account is another role, with its own unique id.
        userId: `AROA${stableId(request.account ? `role\0${account}\0${request.agentId}` : `role\0${request.agentId}`)}:${request.grantId}`,
      }
    : {
        principalArn: `arn:aws:iam::${account}:user/taskbound/taskbound-${request.grantId}`,
        userId: `AIDA${stableId(`user\0${request.grantId}`)}`,
      };
}

/** The account field of an ARN (`arn:partition:service:region:account:...`): where the credential lives. */
export function accountOfArn(arn: string): string {
  return arn.split(':')[4] || LOCAL_ACCOUNT_ID;
}

function fromItem(item: Record<string, unknown>): LocalCredential {
  const text = (name: string): string => {
    const value = item[name];
    if (typeof value !== 'string') throw new Error(`credential item lacks ${name}`);
    return value;
  };
  const optional = (name: string): string | undefined => (typeof item[name] === 'string' ? (item[name] as string) : undefined);
  const sessionTokenSha256 = optional('sessionTokenSha256');
  const revokedAt = optional('revokedAt');
  return {
    accessKeyId: text('accessKeyId'),
    secretAccessKey: text('secretAccessKey'),
    kind: text('kind') as CredentialKind,
    grantId: text('grantId'),
    agentId: text('agentId'),
    taskId: text('taskId'),
    principalArn: text('principalArn'),
    userId: text('userId'),
    issuedAt: text('issuedAt'),
    expiresAt: text('expiresAt'),
    ...(sessionTokenSha256 ? { sessionTokenSha256 } : {}),
    ...(revokedAt ? { revokedAt } : {}),
  };
}

/**
 * Issues and revokes the local engine's credentials. Every change is written through to
 * DynamoDB before memory, so a restarted engine (even after `kill -9`) still knows what it
 * issued and revoked. Secrets are never logged or put in an error.
 */
export class LocalCredentialAuthority {
  /**
   * Credentials that may still work, and those whose revocation came into force less than
   * `coldAfterMs` ago: what the hot path reads. An older dead one leaves memory (see `pruneDead`);
   * presented again, it is read from the store (`cold`), never taken for unknown: an unknown key
   * passes the local services as a non-Taskbound caller.
   */
  private readonly byAccessKey = new Map<string, LocalCredential>();
  private readonly byGrant = new Map<string, string[]>();
  private readonly cold: ColdCredentialReads<LocalCredential>;
  private readonly coldAfterMs: number;
  private readonly lagMs: Readonly<Record<CredentialKind, number>>;
  /**
   * Revocations asked for whose write has not landed (access key id → when asked): refused from
   * the moment the engine asks, as IAM starts refusing while its API call is in flight, not one
   * store write later. Kept if the write fails: the record (not revoked) is then retried by the
   * engine, and a restart forgets only this stricter view, never a revocation it reported done.
   */
  private readonly refusing = new Map<string, string>();
  private readonly agentDenies = new Map<string, AgentSessionsDeny>();
  private lastPruneMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: LocalCredentialAuthorityOptions) {
    this.lagMs = { 'aws-iam-access-key': options.accessKeyRevocationLagMs ?? 0, 'aws-sts-session': options.sessionDenyLagMs ?? 0 };
    for (const [name, lag] of [
      ['accessKeyRevocationLagMs', this.lagMs['aws-iam-access-key']],
      ['sessionDenyLagMs', this.lagMs['aws-sts-session']],
    ] as const) {
      if (!Number.isFinite(lag) || lag < 0) throw new RangeError(`${name} must be a non-negative number`);
    }
    this.coldAfterMs = options.coldAfterMs ?? COLD_AFTER_MS;
    this.cold = new ColdCredentialReads({
      client: options.coldReads ?? options.client,
      tableName: options.tableName,
      parse: (item) => this.withAgentDeny(fromItem(item)),
      // Only a revocation in force never changes; a live credential read here is judged, not kept.
      settled: (credential) => this.revokedForGood(credential, this.options.clock.now().getTime()),
    });
  }

  /** Creates the table if it is missing and loads every credential it holds; those dead for a while leave memory at once. */
  async start(): Promise<void> {
    await ensureStateTable(this.options, STATE_TABLES.credentials.key);
    const items = await scanAll(this.options);
    const isDeny = (item: Record<string, unknown>) => String(item.accessKeyId).startsWith(AGENT_DENY_KEY_PREFIX);
    for (const item of items) if (isDeny(item)) this.agentDenies.set(String(item.agentId), item as unknown as AgentSessionsDeny);
    for (const item of items) if (!isDeny(item)) this.remember(fromItem(item));
    this.pruneDead();
  }

  /** Issues a new credential of the request's kind for its grant. */
  /** Issues a credential for the grant; `policy` (a JSON policy document) is what the credential may do, as on AWS. */
  async issue(request: IssueRequest, policy?: string): Promise<IssuedCredential> {
    const session = request.kind === 'aws-sts-session';
    const { accessKeyId, secretAccessKey } = newAccessKeyPair(session ? 'ASIA' : 'AKIA');
    const sessionToken = session ? randomBytes(96).toString('base64') : undefined;
    const credential: LocalCredential = {
      accessKeyId,
      secretAccessKey,
      kind: request.kind,
      grantId: request.grantId,
      agentId: request.agentId,
      taskId: request.taskId,
      ...principalFor(request),
      issuedAt: this.options.clock.now().toISOString(),
      expiresAt: request.expiresAt.toISOString(),
      ...(sessionToken ? { sessionTokenSha256: sha256Hex(sessionToken) } : {}),
      ...(policy !== undefined ? { policy } : {}),
    };
    await this.options.client.send(
      new PutItemCommand({
        TableName: this.options.tableName,
        Item: marshall(credential, { removeUndefinedValues: true }),
        ConditionExpression: 'attribute_not_exists(accessKeyId)',
      }),
    );
    this.remember(credential);
    this.pruneDead();
    return {
      accessKeyId,
      secretAccessKey,
      ...(sessionToken ? { sessionToken } : {}),
      kind: credential.kind,
      principalArn: credential.principalArn,
      expiresAt: request.expiresAt,
    };
  }

  /** Revokes every credential of a grant; `already-revoked` when none was still live. */
  async revokeGrant(grantId: string): Promise<RevokeOutcome> {
    let revokedAny = false;
    for (const accessKeyId of this.byGrant.get(grantId) ?? []) {
      const credential = this.byAccessKey.get(accessKeyId);
      if (!credential || credential.revokedAt) continue;
      if (await this.persistRevocation(credential)) revokedAny = true;
    }
    this.pruneDead();
    return revokedAny ? 'revoked' : 'already-revoked';
  }

  /**
   * Revokes every session of the agent issued before `issuedBefore` at once (AWS: one deny on its
   * role, as sts-session-issuer.ts writes). Written through first, and kept: it also applies to a
   * session whose issue was in flight, and to every session again after a restart. A later time
   * replaces an earlier one (it covers more); an earlier one changes nothing.
   */
  async revokeSessionsOf(agentId: string, issuedBefore: Date): Promise<void> {
    const deny: AgentSessionsDeny = {
      agentId,
      issuedBefore: issuedBefore.toISOString(),
      revokedAt: this.options.clock.now().toISOString(),
    };
    try {
      await this.options.client.send(
        new PutItemCommand({
          TableName: this.options.tableName,
          Item: marshall({ accessKeyId: `${AGENT_DENY_KEY_PREFIX}${agentId}`, ...deny }),
          ConditionExpression: 'attribute_not_exists(accessKeyId) OR issuedBefore < :issuedBefore',
          ExpressionAttributeValues: { ':issuedBefore': { S: deny.issuedBefore } },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return;
    }
    this.agentDenies.set(agentId, deny);
    for (const credential of this.byAccessKey.values()) this.applyAgentDeny(credential);
    this.pruneDead();
  }

  /** Credentials that would still be accepted, for orphan reconciliation. */
  *usable(kind: CredentialKind): Iterable<{ readonly grantId: string; readonly credentialId: string }> {
    for (const credential of this.byAccessKey.values()) {
      if (credential.kind === kind && this.rejectionOf(credential) === undefined)
        yield { grantId: credential.grantId, credentialId: credential.accessKeyId };
    }
  }

  /** Whether this authority ever issued the access key (revoked or not); a promise only when the store must be read. */
  issued(accessKeyId: string): boolean | Promise<boolean> {
    if (this.byAccessKey.has(accessKeyId)) return true;
    const known = this.cold.known(accessKeyId);
    if (known !== undefined) return known !== null;
    return this.cold.read(accessKeyId).then((credential) => credential !== undefined);
  }

  /** Whether a presented access key (and session token, for sessions) works right now. */
  authenticate(accessKeyId: string, sessionToken: string | undefined): CredentialCheck {
    const credential = this.byAccessKey.get(accessKeyId);
    // A pruned credential was revoked, and a revocation in force answers before an expiry does.
    if (!credential) return { status: 'rejected', code: 'InvalidClientTokenId' };
    if (!tokenMatches(credential, sessionToken)) return { status: 'rejected', code: 'InvalidClientTokenId' };
    const rejection = this.rejectionOf(credential);
    return rejection ? { status: 'rejected', code: rejection } : { status: 'valid', credential };
  }

  /**
   * As `authenticate`, but as a service behind IAM sees it: a revoked session still
   * authenticates (its token is good) and is denied by the role's policy, as in AWS. A
   * credential dead for a while is read from the store.
   */
  async standing(accessKeyId: string, sessionToken: string | undefined): Promise<CredentialStanding> {
    const credential = this.byAccessKey.get(accessKeyId) ?? (await this.coldCredential(accessKeyId));
    if (!credential) return { status: 'unknown' };
    if (!tokenMatches(credential, sessionToken)) return { status: 'rejected', code: 'InvalidClientTokenId' };
    const now = this.options.clock.now().getTime();
    if (this.sessionExpired(credential, now)) return { status: 'rejected', code: 'ExpiredToken' };
    if (this.revocationInForce(credential, now)) {
      return credential.kind === 'aws-sts-session'
        ? { status: 'denied', credential: { principalArn: credential.principalArn, secretAccessKey: credential.secretAccessKey } }
        : { status: 'rejected', code: 'InvalidClientTokenId' };
    }
    return { status: 'valid', credential };
  }

  /** How many credentials memory holds, the answers of cold reads included: the live working set, not the history (tests). */
  get credentialsInMemory(): number {
    return this.byAccessKey.size + this.cold.size;
  }

  /** Whether any credential issued for the grant would still be accepted (a dead one is revoked: InvalidClientTokenId). */
  grantStatus(grantId: string): GrantCredentialStatus {
    const credentials = (this.byGrant.get(grantId) ?? []).flatMap((key) => this.byAccessKey.get(key) ?? []);
    const rejections = credentials.map((credential) => this.rejectionOf(credential));
    if (rejections.some((rejection) => rejection === undefined)) return { verdict: 'accepted' };
    return { verdict: 'rejected', code: rejections.includes('ExpiredToken') ? 'ExpiredToken' : 'InvalidClientTokenId' };
  }

  private rejectionOf(credential: LocalCredential): RejectionCode | undefined {
    const now = this.options.clock.now().getTime();
    if (this.revocationInForce(credential, now)) return 'InvalidClientTokenId';
    if (this.sessionExpired(credential, now)) return 'ExpiredToken';
    return undefined;
  }

  /** Revoked, and the emulated IAM lag of its kind has passed. */
  private revocationInForce(credential: LocalCredential, now: number): boolean {
    const since = credential.revokedAt ?? this.refusing.get(credential.accessKeyId);
    return since !== undefined && now >= Date.parse(since) + this.lagMs[credential.kind];
  }

  /**
   * Revoked in the store, and the lag has passed: a revocation only asked for (`refusing`) is not
   * one, as the store, which a credential that leaves memory is read back from, does not have it yet.
   */
  private revokedForGood(credential: LocalCredential, now: number): boolean {
    return credential.revokedAt !== undefined && now >= Date.parse(credential.revokedAt) + this.lagMs[credential.kind];
  }

  /** IAM access keys do not expire by themselves (the engine must revoke them); sessions do. */
  private sessionExpired(credential: LocalCredential, now: number): boolean {
    return credential.kind === 'aws-sts-session' && now >= Date.parse(credential.expiresAt);
  }

  /**
   * Refuses the credential at once (`refusing`), then writes the revocation; only once it is
   * written does the grant count it revoked, so memory never reports done what a restart would forget.
   */
  private async persistRevocation(credential: LocalCredential): Promise<boolean> {
    const revokedAt = this.refusing.get(credential.accessKeyId) ?? this.options.clock.now().toISOString();
    this.refusing.set(credential.accessKeyId, revokedAt);
    try {
      await this.options.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: { accessKeyId: { S: credential.accessKeyId } },
          UpdateExpression: 'SET revokedAt = :revokedAt',
          ConditionExpression: 'attribute_exists(accessKeyId) AND attribute_not_exists(revokedAt)',
          ExpressionAttributeValues: { ':revokedAt': { S: revokedAt } },
        }),
      );
      this.remember({ ...credential, revokedAt });
      this.refusing.delete(credential.accessKeyId);
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const stored = await this.options.client.send(
        new GetItemCommand({
          TableName: this.options.tableName,
          Key: { accessKeyId: { S: credential.accessKeyId } },
          ConsistentRead: true,
        }),
      );
      if (stored.Item) this.remember(fromItem(unmarshall(stored.Item)));
      this.refusing.delete(credential.accessKeyId);
      return false;
    }
  }

  /** A credential no longer in memory, as stored (with the agent's deny applied); undefined when never issued. */
  private async coldCredential(accessKeyId: string): Promise<LocalCredential | undefined> {
    const stored = await this.cold.read(accessKeyId);
    // Issued while the store was read: memory has it now, and is newer.
    return this.byAccessKey.get(accessKeyId) ?? stored;
  }

  /**
   * Lets credentials go whose revocation has been in force for `coldAfterMs` (nothing brings one
   * back): the store keeps them, and `standing` reads one from there should it be presented again.
   * At most once a second, as it walks the credentials in memory.
   */
  private pruneDead(): void {
    const now = this.options.clock.now().getTime();
    if (now - this.lastPruneMs < PRUNE_EVERY_MS) return;
    this.lastPruneMs = now;
    for (const credential of this.byAccessKey.values()) {
      if (!this.revokedForGood(credential, now - this.coldAfterMs)) continue;
      this.byAccessKey.delete(credential.accessKeyId);
      this.cold.forget(credential.accessKeyId);
      const keys = (this.byGrant.get(credential.grantId) ?? []).filter((key) => key !== credential.accessKeyId);
      // A grant with no credential in memory answers as an unknown one does: rejected, InvalidClientTokenId.
      if (keys.length > 0) this.byGrant.set(credential.grantId, keys);
      else this.byGrant.delete(credential.grantId);
    }
  }

  /** A session the agent's deny covers counts as revoked when the deny was written (in memory: the deny item is what is kept). */
  private applyAgentDeny(credential: LocalCredential): LocalCredential {
    const revoked = this.withAgentDeny(credential);
    if (revoked !== credential) this.byAccessKey.set(credential.accessKeyId, revoked);
    return revoked;
  }

  /** The credential as the agent's deny has it: revoked when the deny was written, if the deny covers it. */
  private withAgentDeny(credential: LocalCredential): LocalCredential {
    const deny = this.agentDenies.get(credential.agentId);
    return deny && coveredByAgentDeny(credential, deny) ? { ...credential, revokedAt: deny.revokedAt } : credential;
  }

  private remember(credential: LocalCredential): void {
    this.cold.forget(credential.accessKeyId);
    const known = this.byAccessKey.has(credential.accessKeyId);
    this.byAccessKey.set(credential.accessKeyId, credential);
    this.applyAgentDeny(credential);
    if (known) return;
    const keys = this.byGrant.get(credential.grantId) ?? [];
    keys.push(credential.accessKeyId);
    this.byGrant.set(credential.grantId, keys);
  }
}
