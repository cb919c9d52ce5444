// Test helper: a stateful STS behind aws-sdk-client-mock. AssumeRole keeps each session with
// its policy, tags and source identity; GetCallerIdentity authenticates the caller's own
// credential; `authorize` evaluates a session's call against its role's inline denies.
import { randomBytes } from 'node:crypto';
import {
  AssumeRoleCommand,
  ExpiredTokenException,
  GetCallerIdentityCommand,
  MalformedPolicyDocumentException,
  PackedPolicyTooLargeException,
  STSClient,
  STSServiceException,
  type Tag,
} from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { awsError, type CommandInput, type ExceptionClass, type FakeIam } from './fake-iam';

export interface FakeSession {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly roleName: string;
  readonly sessionName: string;
  readonly sourceIdentity?: string;
  readonly tags: readonly Tag[];
  readonly policy?: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
}

export interface FakeStsOptions {
  readonly clock: { now(): Date };
  readonly iam: FakeIam;
  /**
   * STS's packed-size budget in characters of policy and tags. The real packing is
   * compressed and undisclosed; this keeps its shape: policy and tags share one limit
   * that can be hit below the 2,048-character plaintext limit.
   */
  readonly packedCapacityChars?: number;
}

export type Authorization = 'Allowed' | 'ImplicitDeny' | 'ExplicitDeny' | 'ExpiredToken' | 'InvalidClientTokenId';

function stsError(code: string, httpStatusCode: number, message: string): STSServiceException {
  const error = awsError(STSServiceException as unknown as ExceptionClass<STSServiceException>, code, httpStatusCode, message);
  return Object.assign(error, { name: code, $fault: 'client' as const });
}

const validation = (message: string) => stsError('ValidationError', 400, `1 validation error detected: ${message}`);
const invalidToken = () => stsError('InvalidClientTokenId', 403, 'The security token included in the request is invalid.');
const NAME = /^[\w+=,.@-]{2,64}$/;

function matchesAction(pattern: unknown, action: string): boolean {
  const patterns = Array.isArray(pattern) ? pattern : [pattern];
  return patterns.some(
    (value) => typeof value === 'string' && new RegExp(`^${value.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(action),
  );
}

/** The request context keys the engine's denies use. */
function contextValue(key: string, session: FakeSession): string | undefined {
  if (key === 'aws:SourceIdentity') return session.sourceIdentity;
  const tag = /^aws:PrincipalTag\/(.+)$/.exec(key)?.[1];
  if (tag === undefined) throw new Error(`FakeSts: condition key ${key} not supported`);
  return session.tags.find((candidate) => candidate.Key === tag)?.Value;
}

interface Statement {
  readonly Effect?: string;
  readonly Action?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

function statementsOf(document: string): Statement[] {
  const parsed = JSON.parse(document) as { Statement?: Statement | Statement[] };
  return Array.isArray(parsed.Statement) ? parsed.Statement : parsed.Statement ? [parsed.Statement] : [];
}

/** A stateful STS: every STSClient in the process (the probe's too) talks to it until `restore()`. */
export class FakeSts {
  readonly mock = mockClient(STSClient);
  readonly sessions = new Map<string, FakeSession>();
  private throttledAssumeRoles = 0;

  constructor(private readonly options: FakeStsOptions) {
    this.mock.callsFake(() => {
      throw new Error('FakeSts: command not supported');
    });
    this.mock.on(AssumeRoleCommand).callsFake(async (input: CommandInput<typeof AssumeRoleCommand>) => {
      if (this.throttledAssumeRoles > 0) {
        this.throttledAssumeRoles -= 1;
        throw stsError('Throttling', 400, 'Rate exceeded');
      }
      return this.assumeRole(input);
    });
    this.mock.on(GetCallerIdentityCommand).callsFake(async (_input: unknown, getClient: () => STSClient) => {
      const credentials = await getClient().config.credentials();
      return this.callerIdentity(credentials);
    });
  }

  restore(): void {
    this.mock.restore();
  }

  /** The next `times` AssumeRole calls are throttled. */
  throttleAssumeRole(times = 1): void {
    this.throttledAssumeRoles += times;
  }

  /** Inputs of every AssumeRole call, in order. */
  assumeRoleInputs(): CommandInput<typeof AssumeRoleCommand>[] {
    return this.mock.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input);
  }

  /**
   * Would AWS let this credential call `action`? A session gets what its session policy
   * allows (the role is assumed to allow everything) unless a Deny on its role matches it.
   */
  authorize(credentials: { accessKeyId: string; sessionToken?: string }, action: string): Authorization {
    const session = this.sessions.get(credentials.accessKeyId);
    if (!session || session.sessionToken !== credentials.sessionToken) return 'InvalidClientTokenId';
    if (this.options.clock.now() >= session.expiresAt) return 'ExpiredToken';
    const role = this.options.iam.roles.get(session.roleName);
    const roleDenies = [...(role?.policies.values() ?? [])].flatMap(statementsOf);
    const sessionStatements = session.policy ? statementsOf(session.policy) : [{ Effect: 'Allow', Action: '*' }];
    const applies = (statement: Statement) => matchesAction(statement.Action, action) && this.conditionHolds(statement.Condition, session);
    if ([...roleDenies, ...sessionStatements].some((statement) => statement.Effect === 'Deny' && applies(statement))) return 'ExplicitDeny';
    return sessionStatements.some((statement) => statement.Effect === 'Allow' && applies(statement)) ? 'Allowed' : 'ImplicitDeny';
  }

  private conditionHolds(condition: Statement['Condition'], session: FakeSession): boolean {
    if (!condition) return true;
    return Object.entries(condition).every(([operator, keys]) => {
      if (operator !== 'StringEquals') throw new Error(`FakeSts: condition operator ${operator} not supported`);
      return Object.entries(keys).every(([key, expected]) => {
        const actual = contextValue(key, session);
        return actual !== undefined && (Array.isArray(expected) ? expected : [expected]).includes(actual);
      });
    });
  }

  private assumeRole(input: CommandInput<typeof AssumeRoleCommand>) {
    const now = this.options.clock.now();
    const roleName = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(input.RoleArn ?? '')?.[1];
    const role = roleName ? this.options.iam.roles.get(roleName) : undefined;
    if (!role || !roleName) {
      throw stsError('AccessDenied', 403, `User: arn:aws:sts::${this.options.iam.accountId}:assumed-role/taskbound-engine/engine is not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`);
    }
    const sessionName = input.RoleSessionName ?? '';
    if (!NAME.test(sessionName)) throw validation(`Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`);
    const duration = input.DurationSeconds ?? 3600;
    if (duration < 900 || duration > 43_200) throw validation(`Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200`);
    if (duration > role.maxSessionDuration) throw stsError('ValidationError', 400, 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    if (input.SourceIdentity !== undefined && (!NAME.test(input.SourceIdentity) || input.SourceIdentity.startsWith('aws:'))) {
      throw validation(`Value '${input.SourceIdentity}' at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`);
    }
    const tags = input.Tags ?? [];
    if (tags.length > 50 || tags.some((tag) => (tag.Key ?? '').length > 128 || (tag.Value ?? '').length > 256)) {
      throw validation("Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50");
    }
    const policy = input.Policy;
    if (policy !== undefined) {
      if (policy.length > 2048) throw validation("Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048");
      try {
        statementsOf(policy);
      } catch {
        throw awsError(MalformedPolicyDocumentException, 'MalformedPolicyDocument', 400, 'The policy is not in the valid JSON format.');
      }
    }
    const packedChars = (policy?.replace(/\s/g, '').length ?? 0) + tags.reduce((sum, tag) => sum + (tag.Key ?? '').length + (tag.Value ?? '').length, 0);
    const packedPolicySize = Math.ceil((100 * packedChars) / (this.options.packedCapacityChars ?? 2600));
    if (packedPolicySize > 100) {
      throw awsError(PackedPolicyTooLargeException, 'PackedPolicyTooLarge', 400, `Packed policy consumes ${packedPolicySize}% of allotted space, please use smaller policy.`);
    }
    const session: FakeSession = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(96).toString('base64'),
      roleName,
      sessionName,
      ...(input.SourceIdentity ? { sourceIdentity: input.SourceIdentity } : {}),
      tags,
      ...(policy !== undefined ? { policy } : {}),
      issuedAt: now,
      expiresAt: new Date(now.getTime() + duration * 1000),
    };
    this.sessions.set(session.accessKeyId, session);
    return {
      Credentials: { AccessKeyId: session.accessKeyId, SecretAccessKey: session.secretAccessKey, SessionToken: session.sessionToken, Expiration: session.expiresAt },
      AssumedRoleUser: { AssumedRoleId: `${role.roleId}:${sessionName}`, Arn: `arn:aws:sts::${this.options.iam.accountId}:assumed-role/${roleName}/${sessionName}` },
      PackedPolicySize: packedPolicySize,
      ...(input.SourceIdentity ? { SourceIdentity: input.SourceIdentity } : {}),
    };
  }

  /** GetCallerIdentity needs no permission: even a session under an explicit deny of everything gets an answer. */
  private callerIdentity(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
    const account = this.options.iam.accountId;
    if (credentials.sessionToken) {
      const session = this.sessions.get(credentials.accessKeyId);
      if (!session || session.sessionToken !== credentials.sessionToken || session.secretAccessKey !== credentials.secretAccessKey) throw invalidToken();
      if (this.options.clock.now() >= session.expiresAt) throw awsError(ExpiredTokenException, 'ExpiredToken', 400, 'The security token included in the request is expired');
      const role = this.options.iam.roles.get(session.roleName);
      return { UserId: `${role?.roleId ?? 'AROA'}:${session.sessionName}`, Account: account, Arn: `arn:aws:sts::${account}:assumed-role/${session.roleName}/${session.sessionName}` };
    }
    const identity = this.options.iam.authenticate(credentials.accessKeyId, credentials.secretAccessKey);
    if (!identity) throw invalidToken();
    return { UserId: identity.userId, Account: account, Arn: identity.arn };
  }
}
