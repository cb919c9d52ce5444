// Test helper: a stateful IAM behind aws-sdk-client-mock. It keeps users, roles, inline
// policies and access keys, and answers with IAM's documented errors and response shapes,
// including its eventual consistency and its quotas.
import { randomBytes } from 'node:crypto';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteConflictException,
  DeleteRolePolicyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  EntityAlreadyExistsException,
  GetAccessKeyLastUsedCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  IAMServiceException,
  InvalidInputException,
  LimitExceededException,
  ListAccessKeysCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  type Tag,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';

/** IAM's per-entity aggregate inline policy quotas, white space not counted. */
export const USER_INLINE_QUOTA = 2048;
export const ROLE_INLINE_QUOTA = 10_240;
const KEYS_PER_USER = 2;

interface Metadata {
  readonly httpStatusCode: number;
  readonly requestId: string;
  readonly attempts: number;
  readonly totalRetryDelay: number;
}

export type ExceptionClass<E> = new (options: { message: string; $metadata: Metadata }) => E;

/** An error exactly as the SDK deserializes IAM's (awsQuery) error: modeled class, `Code`, `Error`. */
export function awsError<E extends Error>(Exception: ExceptionClass<E>, code: string, httpStatusCode: number, message: string): E {
  const $metadata = { httpStatusCode, requestId: randomBytes(16).toString('hex'), attempts: 1, totalRetryDelay: 0 };
  const error = new Exception({ message, $metadata });
  return Object.assign(error, { Code: code, Error: { Type: httpStatusCode >= 500 ? 'Receiver' : 'Sender', Code: code, Message: message } });
}

/** An error IAM's model does not declare: the SDK names it after its code. */
export function unmodeledError(code: string, httpStatusCode: number, message: string): IAMServiceException {
  const error = awsError(IAMServiceException as unknown as ExceptionClass<IAMServiceException>, code, httpStatusCode, message);
  return Object.assign(error, { name: code, $fault: httpStatusCode >= 500 ? ('server' as const) : ('client' as const) });
}

/** IAM's throttling answer. */
export const throttling = () => unmodeledError('Throttling', 400, 'Rate exceeded');

const noSuchUser = (name: string) => awsError(NoSuchEntityException, 'NoSuchEntity', 404, `The user with name ${name} cannot be found.`);
const noSuchRole = (name: string) => awsError(NoSuchEntityException, 'NoSuchEntity', 404, `The role with name ${name} cannot be found.`);

export interface FakeAccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly createdAt: Date;
}

export interface FakeUser {
  readonly name: string;
  readonly path: string;
  readonly arn: string;
  readonly userId: string;
  readonly createdAt: Date;
  readonly permissionsBoundary?: string;
  readonly tags: readonly Tag[];
  readonly policies: Map<string, string>;
  readonly keys: Map<string, FakeAccessKey>;
}

export interface FakeRole {
  readonly name: string;
  readonly arn: string;
  readonly roleId: string;
  readonly maxSessionDuration: number;
  readonly policies: Map<string, string>;
}

export interface FakeIamOptions {
  readonly clock: { now(): Date };
  readonly accountId?: string;
  /** A new user answers NoSuchEntity to every call but CreateUser for this long. */
  readonly newUserInvisibleMs?: number;
  /** A deleted access key still authenticates for this long. */
  readonly deletedKeyUsableMs?: number;
  /** The account's UsersPerAccount quota. */
  readonly maxUsers?: number;
  /** At most this many users per ListUsers page (IAM may return fewer than MaxItems). */
  readonly listPageSize?: number;
}

/** Who a credential authenticates as, for the fake STS. */
export interface IamIdentity {
  readonly arn: string;
  readonly userId: string;
}

/** The input a command class is constructed with. */
export type CommandInput<C> = C extends new (...args: infer A) => unknown ? NonNullable<A[0]> : never;

type Interceptor = (input: Record<string, unknown>) => Error | void;

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function randomId(prefix: string, length = 16): string {
  return prefix + [...randomBytes(length)].map((byte) => ALPHANUMERIC[byte % 32]).join('');
}

function withoutWhitespace(document: string): number {
  return document.replace(/\s/g, '').length;
}

/** IAM's identity-policy grammar, as far as the engine can get it wrong. */
function malformation(document: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    return 'Syntax errors in policy.';
  }
  const statements = (parsed as { Statement?: unknown }).Statement;
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  if (list.length === 0) return 'Syntax errors in policy.';
  for (const statement of list as Record<string, unknown>[]) {
    if ('Principal' in statement) return 'Policy document should not specify a principal.';
    if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') return 'Syntax errors in policy.';
    if (!('Action' in statement) && !('NotAction' in statement)) return 'Policy statement must contain actions.';
    if (!('Resource' in statement) && !('NotResource' in statement)) return 'Policy statement must contain resources.';
  }
  return undefined;
}

/** A stateful IAM: every IAMClient in the process talks to it until `restore()`. */
export class FakeIam {
  readonly mock = mockClient(IAMClient);
  readonly users = new Map<string, FakeUser>();
  readonly roles = new Map<string, FakeRole>();
  /** Deleted keys: still usable until `usableUntil` (IAM forgets keys with a lag). */
  readonly deletedKeys = new Map<string, FakeAccessKey & { readonly user: IamIdentity; readonly usableUntil: number }>();
  readonly lastUsed = new Map<string, { readonly at: Date; readonly service: string; readonly userName: string }>();
  private readonly interceptors = new Map<string, Interceptor[]>();
  readonly accountId: string;

  constructor(private readonly options: FakeIamOptions) {
    this.accountId = options.accountId ?? '111122223333';
    this.mock.callsFake(() => {
      throw new Error('FakeIam: command not supported');
    });
    this.register(CreateUserCommand, (input) => this.createUser(input));
    this.register(GetUserCommand, (input) => {
      const user = this.visibleUser(input.UserName);
      return { User: this.userShape(user, true) };
    });
    this.register(DeleteUserCommand, (input) => this.deleteUser(input.UserName));
    this.register(ListUsersCommand, (input) => this.listUsers(input.PathPrefix, input.Marker, input.MaxItems));
    this.register(PutUserPolicyCommand, (input) => this.putUserPolicy(input.UserName, input.PolicyName, input.PolicyDocument));
    this.register(GetUserPolicyCommand, (input) => {
      const document = this.visibleUser(input.UserName).policies.get(input.PolicyName ?? '');
      if (document === undefined) throw awsError(NoSuchEntityException, 'NoSuchEntity', 404, `The user policy with name ${input.PolicyName} cannot be found.`);
      return { UserName: input.UserName, PolicyName: input.PolicyName, PolicyDocument: encodeURIComponent(document) };
    });
    this.register(DeleteUserPolicyCommand, (input) => {
      const user = this.visibleUser(input.UserName);
      if (!user.policies.delete(input.PolicyName ?? '')) throw awsError(NoSuchEntityException, 'NoSuchEntity', 404, `The user policy with name ${input.PolicyName} cannot be found.`);
      return {};
    });
    this.register(ListUserPoliciesCommand, (input) => ({ PolicyNames: [...this.visibleUser(input.UserName).policies.keys()], IsTruncated: false }));
    this.register(CreateAccessKeyCommand, (input) => this.createAccessKey(input.UserName));
    this.register(DeleteAccessKeyCommand, (input) => this.deleteAccessKey(input.UserName, input.AccessKeyId));
    this.register(ListAccessKeysCommand, (input) => {
      const user = this.visibleUser(input.UserName);
      return {
        AccessKeyMetadata: [...user.keys.values()].map((key) => ({ UserName: user.name, AccessKeyId: key.accessKeyId, Status: 'Active', CreateDate: key.createdAt })),
        IsTruncated: false,
      };
    });
    this.register(GetAccessKeyLastUsedCommand, (input) => this.accessKeyLastUsed(input.AccessKeyId));
    this.register(GetRolePolicyCommand, (input) => {
      const document = this.role(input.RoleName).policies.get(input.PolicyName ?? '');
      if (document === undefined) throw awsError(NoSuchEntityException, 'NoSuchEntity', 404, `The role policy with name ${input.PolicyName} cannot be found.`);
      return { RoleName: input.RoleName, PolicyName: input.PolicyName, PolicyDocument: encodeURIComponent(document) };
    });
    this.register(PutRolePolicyCommand, (input) => this.putRolePolicy(input.RoleName, input.PolicyName, input.PolicyDocument));
    this.register(DeleteRolePolicyCommand, (input) => {
      if (!this.role(input.RoleName).policies.delete(input.PolicyName ?? '')) {
        throw awsError(NoSuchEntityException, 'NoSuchEntity', 404, `The role policy with name ${input.PolicyName} cannot be found.`);
      }
      return {};
    });
  }

  /** Stops answering: IAMClient.send is the SDK's again. */
  restore(): void {
    this.mock.restore();
  }

  /** Seeds an agent role (roles are infrastructure: the engine never creates them). */
  addRole(name: string, maxSessionDuration = 3600): FakeRole {
    const role: FakeRole = { name, arn: `arn:aws:iam::${this.accountId}:role/${name}`, roleId: randomId('AROA'), maxSessionDuration, policies: new Map() };
    this.roles.set(name, role);
    return role;
  }

  /** Runs `interceptor` before the next `times` calls of `command`; an error it returns is thrown instead. */
  intercept(command: string, interceptor: Interceptor, times = 1): void {
    const queue = this.interceptors.get(command) ?? [];
    for (let index = 0; index < times; index++) queue.push(interceptor);
    this.interceptors.set(command, queue);
  }

  /** IAM's propagation catches up: every deleted access key stops authenticating now. */
  propagateDeletions(): void {
    const now = this.now().getTime();
    for (const [accessKeyId, key] of this.deletedKeys) this.deletedKeys.set(accessKeyId, { ...key, usableUntil: Math.min(key.usableUntil, now) });
  }

  /** The next `times` calls of `command` are throttled. */
  throttle(command: string, times = 1): void {
    this.intercept(command, () => throttling(), times);
  }

  /** Inputs of every call of a command, in order. */
  inputs<I extends object>(command: new (input: I) => { readonly input: I }): I[] {
    return this.mock.commandCalls(command as never).map((call) => call.args[0].input as I);
  }

  /** For the fake STS: the identity a long-term key signs as, if IAM still honours the key. */
  authenticate(accessKeyId: string, secretAccessKey: string, service = 'sts'): IamIdentity | undefined {
    const now = this.options.clock.now();
    for (const user of this.users.values()) {
      const key = user.keys.get(accessKeyId);
      if (key && key.secretAccessKey === secretAccessKey) {
        this.lastUsed.set(accessKeyId, { at: now, service, userName: user.name });
        return { arn: user.arn, userId: user.userId };
      }
    }
    const deleted = this.deletedKeys.get(accessKeyId);
    if (deleted && deleted.secretAccessKey === secretAccessKey && now.getTime() < deleted.usableUntil) {
      this.lastUsed.set(accessKeyId, { at: now, service, userName: deleted.user.arn.split('/').at(-1) ?? '' });
      return deleted.user;
    }
    return undefined;
  }

  private register<C extends new (...args: never[]) => unknown>(command: C, handler: (input: CommandInput<C>) => unknown): void {
    const name = command.name.replace(/Command$/, '');
    this.mock.on(command as never).callsFake(async (input: CommandInput<C>) => {
      const interceptor = this.interceptors.get(name)?.shift();
      const injected = interceptor?.(input as Record<string, unknown>);
      if (injected) throw injected;
      return handler(input);
    });
  }

  private now(): Date {
    return this.options.clock.now();
  }

  /** A user as the API sees it: absent while its creation has not propagated. */
  private visibleUser(name: string | undefined): FakeUser {
    const user = name === undefined ? undefined : this.users.get(name);
    if (!user || !this.isVisible(user)) throw noSuchUser(name ?? '');
    return user;
  }

  private isVisible(user: FakeUser): boolean {
    return this.now().getTime() >= user.createdAt.getTime() + (this.options.newUserInvisibleMs ?? 0);
  }

  private role(name: string | undefined): FakeRole {
    const role = name === undefined ? undefined : this.roles.get(name);
    if (!role) throw noSuchRole(name ?? '');
    return role;
  }

  private userShape(user: FakeUser, full: boolean) {
    return {
      Path: user.path,
      UserName: user.name,
      UserId: user.userId,
      Arn: user.arn,
      CreateDate: user.createdAt,
      // ListUsers returns a subset of a user's attributes: no boundary, no tags.
      ...(full && user.permissionsBoundary
        ? { PermissionsBoundary: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy' as const, PermissionsBoundaryArn: user.permissionsBoundary } }
        : {}),
      ...(full && user.tags.length > 0 ? { Tags: [...user.tags] } : {}),
    };
  }

  private createUser(input: { UserName?: string; Path?: string; PermissionsBoundary?: string; Tags?: Tag[] }) {
    const name = input.UserName ?? '';
    if (!/^[\w+=,.@-]{1,64}$/.test(name)) throw unmodeledError('ValidationError', 400, 'The specified value for userName is invalid.');
    if (this.users.has(name)) throw awsError(EntityAlreadyExistsException, 'EntityAlreadyExists', 409, `User with name ${name} already exists.`);
    if (this.options.maxUsers !== undefined && this.users.size >= this.options.maxUsers) {
      throw awsError(LimitExceededException, 'LimitExceeded', 409, `Cannot exceed quota for UsersPerAccount: ${this.options.maxUsers}`);
    }
    if (input.PermissionsBoundary !== undefined && !/^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/.+$/.test(input.PermissionsBoundary)) {
      throw awsError(InvalidInputException, 'InvalidInput', 400, `ARN ${input.PermissionsBoundary} is not valid.`);
    }
    const path = input.Path ?? '/';
    const user: FakeUser = {
      name,
      path,
      arn: `arn:aws:iam::${this.accountId}:user${path}${name}`,
      userId: randomId('AIDA'),
      createdAt: this.now(),
      ...(input.PermissionsBoundary ? { permissionsBoundary: input.PermissionsBoundary } : {}),
      tags: input.Tags ?? [],
      policies: new Map(),
      keys: new Map(),
    };
    this.users.set(name, user);
    return { User: this.userShape(user, true) };
  }

  private deleteUser(name: string | undefined) {
    const user = this.visibleUser(name);
    if (user.keys.size > 0) throw awsError(DeleteConflictException, 'DeleteConflict', 409, 'Cannot delete entity, must delete access keys first.');
    if (user.policies.size > 0) throw awsError(DeleteConflictException, 'DeleteConflict', 409, 'Cannot delete entity, must delete policies first.');
    this.users.delete(user.name);
    return {};
  }

  private listUsers(pathPrefix = '/', marker: string | undefined, maxItems = 100) {
    const all = [...this.users.values()]
      .filter((user) => user.path.startsWith(pathPrefix) && this.isVisible(user))
      .sort((a, b) => a.name.localeCompare(b.name));
    const start = marker ? Number(Buffer.from(marker, 'base64').toString()) : 0;
    const size = Math.min(maxItems, this.options.listPageSize ?? 100);
    const page = all.slice(start, start + size);
    const next = start + page.length;
    return {
      Users: page.map((user) => this.userShape(user, false)),
      IsTruncated: next < all.length,
      ...(next < all.length ? { Marker: Buffer.from(String(next)).toString('base64') } : {}),
    };
  }

  private putUserPolicy(userName: string | undefined, policyName: string | undefined, document: string | undefined) {
    const user = this.visibleUser(userName);
    const name = policyName ?? '';
    this.checkPolicy(document ?? '', [...user.policies].filter(([other]) => other !== name).map(([, doc]) => doc), USER_INLINE_QUOTA, `user ${user.name}`);
    user.policies.set(name, document ?? '');
    return {};
  }

  private putRolePolicy(roleName: string | undefined, policyName: string | undefined, document: string | undefined) {
    const role = this.role(roleName);
    const name = policyName ?? '';
    this.checkPolicy(document ?? '', [...role.policies].filter(([other]) => other !== name).map(([, doc]) => doc), ROLE_INLINE_QUOTA, `role ${role.name}`);
    role.policies.set(name, document ?? '');
    return {};
  }

  private checkPolicy(document: string, others: readonly string[], quota: number, owner: string): void {
    const problem = malformation(document);
    if (problem) throw awsError(MalformedPolicyDocumentException, 'MalformedPolicyDocument', 400, problem);
    const aggregate = [document, ...others].reduce((sum, doc) => sum + withoutWhitespace(doc), 0);
    if (aggregate > quota) throw awsError(LimitExceededException, 'LimitExceeded', 409, `Maximum policy size of ${quota} bytes exceeded for ${owner}`);
  }

  private createAccessKey(userName: string | undefined) {
    const user = this.visibleUser(userName);
    if (user.keys.size >= KEYS_PER_USER) throw awsError(LimitExceededException, 'LimitExceeded', 409, `Cannot exceed quota for AccessKeysPerUser: ${KEYS_PER_USER}`);
    const key: FakeAccessKey = { accessKeyId: randomId('AKIA'), secretAccessKey: randomBytes(30).toString('base64'), createdAt: this.now() };
    user.keys.set(key.accessKeyId, key);
    return { AccessKey: { UserName: user.name, AccessKeyId: key.accessKeyId, Status: 'Active', SecretAccessKey: key.secretAccessKey, CreateDate: key.createdAt } };
  }

  private deleteAccessKey(userName: string | undefined, accessKeyId: string | undefined) {
    const user = this.visibleUser(userName);
    const key = accessKeyId === undefined ? undefined : user.keys.get(accessKeyId);
    if (!key) throw awsError(NoSuchEntityException, 'NoSuchEntity', 404, `The Access Key with id ${accessKeyId} cannot be found.`);
    user.keys.delete(key.accessKeyId);
    const usableUntil = this.now().getTime() + (this.options.deletedKeyUsableMs ?? 0);
    this.deletedKeys.set(key.accessKeyId, { ...key, user: { arn: user.arn, userId: user.userId }, usableUntil });
    return {};
  }

  /**
   * Only for a key that exists. AWS documents nothing for a deleted key, and an independent
   * emulator (moto) answers NoSuchEntity, so a deleted key's use is not answered here either.
   */
  private accessKeyLastUsed(accessKeyId: string | undefined) {
    const known = [...this.users.values()].some((user) => accessKeyId !== undefined && user.keys.has(accessKeyId));
    if (!known) throw awsError(NoSuchEntityException, 'NoSuchEntity', 404, `The Access Key with id ${accessKeyId} cannot be found.`);
    const used = this.lastUsed.get(accessKeyId ?? '');
    return {
      ...(used ? { UserName: used.userName } : {}),
      AccessKeyLastUsed: used ? { LastUsedDate: used.at, ServiceName: used.service, Region: 'us-east-1' } : { ServiceName: 'N/A', Region: 'N/A' },
    };
  }
}
