// Local engine, emulated AWS: the credential authority that stands in for IAM and STS. It issues real,
// SigV4-usable credentials per grant, keeps them durably, and says whether one still works.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CredentialKind } from '../../domain/policy';
import type { Clock, IssueRequest, IssuedCredential, RevokeOutcome } from '../../ports';
import { LOCAL_ACCOUNT_ID } from '../../constants';
import { ensureStateTable, scanAll, STATE_TABLES } from './state-tables';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const PRUNE_EVERY_MS = 1000;
/** Enough of a dead session's token hash to tell its own token from another (both are refused). */
const TOKEN_HASH_PREFIX_CHARS = 16;

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

/** A revoked session, until it expires: what `standing` needs of it, and no more. */
interface RevokedSession extends DeniedSession {
  readonly tokenHashPrefix: string;
  readonly expiresAtMs: number;
}

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
  readonly client: DynamoDBDocumentClient;
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

function principalFor(kind: CredentialKind, agentId: string, grantId: string): { principalArn: string; userId: string } {
  return kind === 'aws-sts-session'
    ? {
        principalArn: `arn:aws:sts::${LOCAL_ACCOUNT_ID}:assumed-role/taskbound-agent-${agentId}/${grantId}`,
        userId: `AROA${stableId(`role\0${agentId}`)}:${grantId}`,
      }
    : {
        principalArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/taskbound/taskbound-${grantId}`,
        userId: `AIDA${stableId(`user\0${grantId}`)}`,
      };
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
  /** Credentials that may still work, or still be denied rather than refused. */
  private readonly byAccessKey = new Map<string, LocalCredential>();
  private readonly byGrant = new Map<string, string[]>();
  /**
   * Credentials whose revocation is in force, kept compactly (see `pruneDead`): forgetting one
   * outright would make it `unknown`, and an unknown key passes the local services as a
   * non-Taskbound caller. A revoked session is denied until it expires, then refused as expired.
   */
  private readonly revokedSessions = new Map<string, RevokedSession>();
  /**
   * Credentials dead for good: '' for an access key, or the start of a session's token hash
   * (which error the caller gets: a right token is told its session expired, a wrong one that it is invalid).
   */
  private readonly dead = new Map<string, string>();
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
  }

  /** Creates the table if it is missing and loads every credential it holds. */
  async start(): Promise<void> {
    await ensureStateTable(this.options, STATE_TABLES.credentials.key);
    const items = await scanAll(this.options);
    const isDeny = (item: Record<string, unknown>) => String(item.accessKeyId).startsWith(AGENT_DENY_KEY_PREFIX);
    for (const item of items) if (isDeny(item)) this.agentDenies.set(String(item.agentId), item as unknown as AgentSessionsDeny);
    for (const item of items) if (!isDeny(item)) this.remember(fromItem(item));
    this.pruneDead();
  }

  /** Issues a new credential of the request's kind for its grant. */
  async issue(request: IssueRequest): Promise<IssuedCredential> {
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
      ...principalFor(request.kind, request.agentId, request.grantId),
      issuedAt: this.options.clock.now().toISOString(),
      expiresAt: request.expiresAt.toISOString(),
      ...(sessionToken ? { sessionTokenSha256: sha256Hex(sessionToken) } : {}),
    };
    await this.options.client.send(
      new PutCommand({ TableName: this.options.tableName, Item: credential, ConditionExpression: 'attribute_not_exists(accessKeyId)' }),
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
        new PutCommand({
          TableName: this.options.tableName,
          Item: { accessKeyId: `${AGENT_DENY_KEY_PREFIX}${agentId}`, ...deny },
          ConditionExpression: 'attribute_not_exists(accessKeyId) OR issuedBefore < :issuedBefore',
          ExpressionAttributeValues: { ':issuedBefore': deny.issuedBefore },
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

  /** Whether this authority ever issued the access key (revoked or not). */
  issued(accessKeyId: string): boolean {
    return this.byAccessKey.has(accessKeyId) || this.revokedSessions.has(accessKeyId) || this.dead.has(accessKeyId);
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
   * authenticates (its token is good) and is denied by the role's policy, as in AWS.
   */
  standing(accessKeyId: string, sessionToken: string | undefined): CredentialStanding {
    const credential = this.byAccessKey.get(accessKeyId);
    if (!credential) return this.deadStanding(accessKeyId, sessionToken);
    if (!tokenMatches(credential, sessionToken)) return { status: 'rejected', code: 'InvalidClientTokenId' };
    const now = this.options.clock.now().getTime();
    if (this.sessionExpired(credential, now)) return { status: 'rejected', code: 'ExpiredToken' };
    if (this.revocationInForce(credential, now)) {
      return credential.kind === 'aws-sts-session'
        ? { status: 'denied', credential }
        : { status: 'rejected', code: 'InvalidClientTokenId' };
    }
    return { status: 'valid', credential };
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
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: { accessKeyId: credential.accessKeyId },
          UpdateExpression: 'SET revokedAt = :revokedAt',
          ConditionExpression: 'attribute_exists(accessKeyId) AND attribute_not_exists(revokedAt)',
          ExpressionAttributeValues: { ':revokedAt': revokedAt },
        }),
      );
      this.remember({ ...credential, revokedAt });
      this.refusing.delete(credential.accessKeyId);
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const stored = await this.options.client.send(
        new GetCommand({ TableName: this.options.tableName, Key: { accessKeyId: credential.accessKeyId }, ConsistentRead: true }),
      );
      if (stored.Item) this.remember(fromItem(stored.Item));
      this.refusing.delete(credential.accessKeyId);
      return false;
    }
  }

  /** How a pruned credential stands, as `standing` judged it before it was pruned. */
  private deadStanding(accessKeyId: string, sessionToken: string | undefined): CredentialStanding {
    const rightToken = (prefix: string) => sessionToken !== undefined && sha256Hex(sessionToken).startsWith(prefix);
    const revoked = this.revokedSessions.get(accessKeyId);
    if (revoked) {
      if (!rightToken(revoked.tokenHashPrefix)) return { status: 'rejected', code: 'InvalidClientTokenId' };
      if (this.options.clock.now().getTime() >= revoked.expiresAtMs) return { status: 'rejected', code: 'ExpiredToken' };
      return { status: 'denied', credential: { principalArn: revoked.principalArn, secretAccessKey: revoked.secretAccessKey } };
    }
    const tokenPrefix = this.dead.get(accessKeyId);
    if (tokenPrefix === undefined) return { status: 'unknown' };
    if (tokenPrefix === '') return { status: 'rejected', code: 'InvalidClientTokenId' };
    return { status: 'rejected', code: rightToken(tokenPrefix) ? 'ExpiredToken' : 'InvalidClientTokenId' };
  }

  /**
   * Moves credentials whose revocation is in force out of the live ones (nothing brings one back):
   * a revoked session keeps what its denial needs until it expires, then only a tombstone stays,
   * as for a revoked access key. At most once a second, as it walks them.
   */
  private pruneDead(): void {
    const now = this.options.clock.now().getTime();
    if (now - this.lastPruneMs < PRUNE_EVERY_MS) return;
    this.lastPruneMs = now;
    for (const credential of this.byAccessKey.values()) {
      if (!this.revocationInForce(credential, now)) continue;
      this.byAccessKey.delete(credential.accessKeyId);
      const tokenHashPrefix = credential.sessionTokenSha256?.slice(0, TOKEN_HASH_PREFIX_CHARS) ?? '';
      if (credential.kind === 'aws-sts-session' && !this.sessionExpired(credential, now)) {
        const { principalArn, secretAccessKey } = credential;
        this.revokedSessions.set(credential.accessKeyId, {
          principalArn,
          secretAccessKey,
          tokenHashPrefix,
          expiresAtMs: Date.parse(credential.expiresAt),
        });
      } else {
        this.dead.set(credential.accessKeyId, tokenHashPrefix);
      }
      const keys = (this.byGrant.get(credential.grantId) ?? []).filter((key) => key !== credential.accessKeyId);
      // A grant with no live credential answers as an unknown one does: rejected, InvalidClientTokenId.
      if (keys.length > 0) this.byGrant.set(credential.grantId, keys);
      else this.byGrant.delete(credential.grantId);
    }
    for (const [accessKeyId, revoked] of this.revokedSessions) {
      if (now < revoked.expiresAtMs) continue;
      this.revokedSessions.delete(accessKeyId);
      this.dead.set(accessKeyId, revoked.tokenHashPrefix);
    }
  }

  /** A session the agent's deny covers counts as revoked when the deny was written (in memory: the deny item is what is kept). */
  private applyAgentDeny(credential: LocalCredential): LocalCredential {
    const deny = this.agentDenies.get(credential.agentId);
    if (!deny || !coveredByAgentDeny(credential, deny)) return credential;
    const revoked = { ...credential, revokedAt: deny.revokedAt };
    this.byAccessKey.set(credential.accessKeyId, revoked);
    return revoked;
  }

  private remember(credential: LocalCredential): void {
    const known = this.byAccessKey.has(credential.accessKeyId);
    this.byAccessKey.set(credential.accessKeyId, credential);
    this.applyAgentDeny(credential);
    if (known) return;
    const keys = this.byGrant.get(credential.grantId) ?? [];
    keys.push(credential.accessKeyId);
    this.byGrant.set(credential.grantId, keys);
  }
}
