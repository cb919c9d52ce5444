// AWS emulator tier: the IAM access-key issuer against moto's IAM and STS, over real SDK clients.
// What moto does not do, IAM's eventual consistency (a new user briefly NoSuchEntity, a deleted
// key still accepted for seconds), throttling, the UsersPerAccount quota and ListUsers paging,
// is SDK middleware on the same clients (sdk-middleware.ts), answering as IAM documents.
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  LimitExceededException,
  ListUsersCommand,
  NoSuchEntityException,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IamAccessKeyIssuer, type IamAccessKeyIssuerOptions } from '../../lambdas/adapters/aws/iam-access-key-issuer';
import { StsCredentialProbe } from '../../lambdas/adapters/aws/sts-credential-probe';
import { UnissuableRequestError } from '../../lambdas/domain/errors';
import { grantIdFor } from '../../lambdas/domain/ids';
import type { PolicyStatement } from '../../lambdas/domain/policy';
import type { IssueRequest, IssuedCredential, RevokeTarget } from '../../lambdas/ports';
import { FakeClock } from '../helpers/fake-ports';
import { ACCOUNT_ID, freshMoto, REGION, type FreshMoto } from './moto-world';
import {
  awsServiceError,
  beforeCall,
  countCalls,
  deletedKeysStillAccepted,
  injectFaults,
  listUsersInPages,
  newUsersInvisible,
  throttling,
  type ApiCall,
} from './sdk-middleware';

const AGENT = 'refund-bot';
const REFUND: PolicyStatement = {
  Effect: 'Allow',
  Action: 'lambda:InvokeFunction',
  Resource: 'arn:aws:lambda:us-east-1:111122223333:function:refund',
};
const noSuchUser = (name: string) =>
  new NoSuchEntityException({ message: `The user with name ${name} cannot be found.`, $metadata: { httpStatusCode: 404 } });

let moto: FreshMoto;
let clock: FakeClock;
let engineIam: IAMClient;
let calls: ApiCall[];

beforeEach(async () => {
  moto = await freshMoto();
  clock = new FakeClock(new Date(Math.floor(Date.now() / 60_000) * 60_000));
  // Two attempts: the SDK's retry of a throttled call is real, and kept short.
  engineIam = new IAMClient({ ...moto.engineConfig, maxAttempts: 2 });
  calls = [];
  countCalls(engineIam as never, calls, { count: 0 });
});
afterEach(() => engineIam.destroy());

const sleep = async (ms: number) => clock.advance(ms);

/** A probe of moto's STS; `track` sees each probe's client (for the deleted-key fault). */
const probeOf = (track?: (client: unknown) => void) =>
  new StsCredentialProbe({ region: REGION, endpoint: moto.engineConfig.endpoint, sleep, ...(track ? { track } : {}) });

function issuer(overrides: Partial<IamAccessKeyIssuerOptions> = {}): IamAccessKeyIssuer {
  return new IamAccessKeyIssuer({
    iam: engineIam,
    clock,
    permissionsBoundaryArn: moto.boundaryArn,
    probe: probeOf(),
    probeSchedule: { attempts: 4, delayMs: 1000 },
    sleep,
    ...overrides,
  });
}

function request(taskId: string, overrides: Partial<IssueRequest> = {}): IssueRequest {
  return {
    grantId: grantIdFor(AGENT, taskId),
    taskId,
    agentId: AGENT,
    kind: 'aws-iam-access-key',
    statements: [REFUND],
    brokeredSecretArns: [],
    ttlSeconds: 900,
    expiresAt: new Date(clock.now().getTime() + 900_000),
    ...overrides,
  };
}

function targetOf(req: IssueRequest, issued?: IssuedCredential): RevokeTarget {
  return {
    grantId: req.grantId,
    agentId: req.agentId,
    taskId: req.taskId,
    kind: 'aws-iam-access-key',
    expiresAt: req.expiresAt,
    ...(issued ? { accessKeyId: issued.accessKeyId } : {}),
  };
}

/** IAM operations the engine sent, in order (each SDK attempt counts). */
const sent = (operation?: string) => calls.map((call) => call.operation).filter((name) => operation === undefined || name === operation);

/** The users moto holds under /taskbound/. */
async function grantUsers(): Promise<string[]> {
  const { Users } = await moto.aws.iam.send(new ListUsersCommand({ PathPrefix: '/taskbound/' }));
  return (Users ?? []).map((user) => user.UserName ?? '');
}

async function orphanCandidates(keys: IamAccessKeyIssuer) {
  const candidates = [];
  for await (const candidate of keys.listOrphanCandidates()) candidates.push(candidate);
  return candidates;
}

describe('IamAccessKeyIssuer on moto', () => {
  it('creates a user for the grant under /taskbound/ with the boundary and tags, its policy, and one key that STS accepts', async () => {
    const req = request('t-1');
    const createInputs: Array<Record<string, unknown>> = [];
    beforeCall(engineIam as never, 'CreateUser', (input) => void createInputs.push(input));

    const issued = await issuer().issue(req);

    const userName = `taskbound-${req.grantId}`;
    const { User: user } = await moto.aws.iam.send(new GetUserCommand({ UserName: userName }));
    expect(user).toMatchObject({ Path: '/taskbound/' });
    // moto's GetUser leaves the boundary out: it is checked as sent.
    expect(createInputs).toMatchObject([{ PermissionsBoundary: moto.boundaryArn }]);
    expect(user?.Tags).toEqual([
      { Key: 'taskbound:grant-id', Value: req.grantId },
      { Key: 'taskbound:task-id', Value: 't-1' },
      { Key: 'taskbound:agent-id', Value: AGENT },
      { Key: 'taskbound:expires-at', Value: req.expiresAt.toISOString() },
    ]);
    const { PolicyDocument } = await moto.aws.iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: 'taskbound-grant' }));
    expect(JSON.parse(decodeURIComponent(PolicyDocument ?? ''))).toEqual({ Version: '2012-10-17', Statement: [REFUND] });
    expect(issued).toMatchObject({
      kind: 'aws-iam-access-key',
      principalArn: `arn:aws:iam::${ACCOUNT_ID}:user/taskbound/${userName}`,
      expiresAt: req.expiresAt,
    });
    expect(issued.accessKeyId).toMatch(/^AKIA/);
    expect(issued.sessionToken).toBeUndefined();
    expect(sent()).toEqual(['CreateUser', 'PutUserPolicy', 'CreateAccessKey']);
    expect(await probeOf().probe(issued)).toEqual({ verdict: 'accepted' });
  });

  it('tears down keys, then policies, then the user, so IAM never answers DeleteConflict, and moto then refuses the key', async () => {
    const req = request('t-1');
    const keys = issuer();
    const issued = await keys.issue(req);
    calls.length = 0;

    expect(await keys.revoke(targetOf(req, issued))).toBe('revoked');

    expect(sent()).toEqual(['ListAccessKeys', 'DeleteAccessKey', 'ListUserPolicies', 'DeleteUserPolicy', 'DeleteUser']);
    expect(await grantUsers()).toEqual([]);
    expect(await keys.verify(targetOf(req, issued), issued)).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId', observed: true });
  });

  it('built without a boundary (a revoking function), refuses to issue before any IAM call, and still revokes what an issuer made', async () => {
    const req = request('t-1');
    const issued = await issuer().issue(req);
    const revokeOnly = new IamAccessKeyIssuer({
      iam: engineIam,
      clock,
      probe: probeOf(),
      probeSchedule: { attempts: 4, delayMs: 1000 },
      sleep,
    });
    calls.length = 0;

    await expect(revokeOnly.issue(request('t-2'))).rejects.toThrow(/only revokes: it was built without a permissions boundary/);
    expect(sent()).toEqual([]);

    expect(await revokeOnly.revoke(targetOf(req, issued))).toBe('revoked');
    expect(await grantUsers()).toEqual([]);
  });

  it('probes a revoked key until IAM stops honouring it', async () => {
    const stale = deletedKeysStillAccepted(engineIam as never, { clock, windowMs: 2500 });
    const keys = issuer({ probe: probeOf(stale.track) });
    const req = request('t-1');
    const issued = await keys.issue(req);
    await keys.revoke(targetOf(req, issued));

    expect(await probeOf(stale.track).probe(issued)).toEqual({ verdict: 'accepted' });
    expect(await keys.verify(targetOf(req, issued), issued)).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId', observed: true });
  });

  it('reports a key still accepted when IAM keeps honouring it past the probe schedule', async () => {
    const stale = deletedKeysStillAccepted(engineIam as never, { clock, windowMs: 60_000 });
    const keys = issuer({ probe: probeOf(stale.track) });
    const req = request('t-1');
    const issued = await keys.issue(req);
    await keys.revoke(targetOf(req, issued));

    expect(await keys.verify(targetOf(req, issued), issued)).toEqual({ verdict: 'accepted' });
  });

  it('without the key, calls it dead once the user is gone and alive while its key is listed', async () => {
    const keys = issuer();
    const req = request('t-1');
    const issued = await keys.issue(req);

    expect(await keys.verify(targetOf(req, issued), undefined)).toEqual({ verdict: 'accepted' });
    await keys.revoke(targetOf(req, issued));
    expect(await keys.verify(targetOf(req, issued), undefined)).toEqual({ verdict: 'rejected', code: 'NoSuchEntity' });
  });

  it('retries calls on a just-created user that IAM does not show yet', async () => {
    newUsersInvisible(engineIam as never, { clock, windowMs: 1500, error: noSuchUser });

    const issued = await issuer().issue(request('t-1'));

    expect(await probeOf().probe(issued)).toEqual({ verdict: 'accepted' });
    expect(sent('PutUserPolicy').length).toBeGreaterThan(1);
  });

  it("gives up on a just-created user IAM never shows, with IAM's own NoSuchEntity, after the consistency retries, and leaves no user", async () => {
    newUsersInvisible(engineIam as never, { clock, windowMs: 60_000, error: noSuchUser });

    await expect(issuer().issue(request('t-1'))).rejects.toBeInstanceOf(NoSuchEntityException);

    expect(sent('PutUserPolicy')).toHaveLength(6);
    // The failed issue tears the user down once IAM shows it (the sweep would otherwise).
    clock.advance(60_000);
    expect(await issuer().revoke(targetOf(request('t-1')))).toBe('revoked');
    expect(await grantUsers()).toEqual([]);
  });

  it('retries NoSuchEntity on a young grant until the just-created user shows, then revokes it', async () => {
    newUsersInvisible(engineIam as never, { clock, windowMs: 2000, error: noSuchUser });
    const req = request('t-1');
    // Another invocation is issuing this grant right now: the user exists but reads cannot see it yet.
    await engineIam.send(new CreateUserCommand({ UserName: `taskbound-${req.grantId}`, Path: '/taskbound/' }));

    expect(await issuer().revoke(targetOf(req))).toBe('revoked');

    expect(sent('ListAccessKeys').length).toBeGreaterThan(1);
    expect(await grantUsers()).toEqual([]);
  });

  it('concludes already-revoked at once for a grant too old to be invisible', async () => {
    const req = request('t-1');
    clock.advance(900_000 + 60_000);

    expect(await issuer().revoke(targetOf(req))).toBe('already-revoked');

    expect(sent('ListAccessKeys')).toHaveLength(1);
  });

  it('knows a grant issued long ago is not young from its issue time, and needs no retries', async () => {
    const req = request('t-old');
    clock.advance(60_000);

    expect(await issuer().revoke({ ...targetOf(req), issuedAt: new Date(clock.now().getTime() - 60_000) })).toBe('already-revoked');

    expect(sent('ListAccessKeys')).toHaveLength(1);
  });

  it('concludes already-revoked for a young grant only after the consistency retries', async () => {
    expect(await issuer().revoke(targetOf(request('t-never-issued')))).toBe('already-revoked');

    expect(sent('ListAccessKeys')).toHaveLength(6);
  });

  it('goes round again when a policy appears between listing and deleting the user (moto answers DeleteConflict)', async () => {
    const keys = issuer();
    const req = request('t-1');
    const userName = `taskbound-${req.grantId}`;
    const issued = await keys.issue(req);
    const extra = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*' }] });
    beforeCall(engineIam as never, 'DeleteUser', () =>
      moto.aws.iam
        .send(new PutUserPolicyCommand({ UserName: userName, PolicyName: 'racing', PolicyDocument: extra }))
        .then(() => undefined),
    );

    expect(await keys.revoke(targetOf(req, issued))).toBe('revoked');

    expect(sent('DeleteUser')).toHaveLength(2);
    expect(await grantUsers()).toEqual([]);
  });

  it('surfaces the UsersPerAccount quota (LimitExceeded) as an error, not a refusal, and leaves no user behind', async () => {
    // The quota holds on every attempt (the SDK takes LimitExceededException for throttling and retries it).
    injectFaults(engineIam as never, [
      {
        operation: 'CreateUser',
        error: () =>
          new LimitExceededException({ message: 'Cannot exceed quota for UsersPerAccount: 5000', $metadata: { httpStatusCode: 409 } }),
      },
    ]);

    const attempt = issuer().issue(request('t-2'));

    await expect(attempt).rejects.toMatchObject({
      name: 'LimitExceededException',
      message: 'Cannot exceed quota for UsersPerAccount: 5000',
    });
    await expect(attempt).rejects.not.toBeInstanceOf(UnissuableRequestError);
    expect(await grantUsers()).toEqual([]);
  });

  it('surfaces moto refusing a third access key, and tears the user down', async () => {
    const req = request('t-1');
    const userName = `taskbound-${req.grantId}`;
    beforeCall(engineIam as never, 'CreateAccessKey', async () => {
      for (let index = 0; index < 2; index++) await moto.aws.iam.send(new CreateAccessKeyCommand({ UserName: userName }));
    });

    await expect(issuer().issue(req)).rejects.toMatchObject({
      name: 'LimitExceededException',
      message: 'Cannot exceed quota for AccessKeysPerUser: 2',
    });
    expect(await grantUsers()).toEqual([]);
  });

  it('refuses a scope set too large for a user policy before creating anything', async () => {
    const statements = Array.from({ length: 20 }, (_, index) => ({
      ...REFUND,
      Resource: `arn:aws:lambda:us-east-1:111122223333:function:refund-${index}`,
    }));

    await expect(issuer().issue(request('t-big', { statements }))).rejects.toThrow(
      /over the 2048 characters an IAM user's inline policies may hold/,
    );
    expect(sent()).toEqual([]);
  });

  it('turns a policy moto calls malformed into a refusal, and tears the user down', async () => {
    const malformed = { Effect: 'Allow', Action: 'invoke-without-a-service', Resource: '*' } as PolicyStatement;

    const attempt = issuer().issue(request('t-1', { statements: [malformed] }));

    await expect(attempt).rejects.toBeInstanceOf(UnissuableRequestError);
    await expect(attempt).rejects.toThrow(/IAM refused the compiled policy as malformed/);
    expect(await grantUsers()).toEqual([]);
  });

  it('replaces a user an earlier crashed attempt left behind, so the new key is the only one', async () => {
    const keys = issuer();
    const req = request('t-1');
    const leftover = await keys.issue(req);

    const issued = await keys.issue(req);

    expect(await keys.verify(targetOf(req, issued), undefined)).toEqual({ verdict: 'accepted' });
    expect(await probeOf().probe(issued)).toEqual({ verdict: 'accepted' });
    expect(await probeOf().probe(leftover)).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId', observed: true });
  });

  it('lets throttling out once the SDK gave up, and the next attempt revokes', async () => {
    const keys = issuer();
    const req = request('t-1');
    const issued = await keys.issue(req);
    injectFaults(engineIam as never, [{ operation: 'DeleteAccessKey', error: throttling, times: 2 }]);

    await expect(keys.revoke(targetOf(req, issued))).rejects.toMatchObject({ name: 'Throttling' });
    expect(sent('DeleteAccessKey')).toHaveLength(2);
    expect(await keys.revoke(targetOf(req, issued))).toBe('revoked');
  });

  it('rides out one throttled call inside the SDK', async () => {
    injectFaults(engineIam as never, [{ operation: 'CreateUser', error: throttling, times: 1 }]);

    const issued = await issuer().issue(request('t-1'));

    expect(sent('CreateUser')).toHaveLength(2);
    expect(await probeOf().probe(issued)).toEqual({ verdict: 'accepted' });
  });

  it('rides out an IAM 5xx inside the SDK, and surfaces one that persists without leaving a user', async () => {
    const serviceFailure = () =>
      awsServiceError('ServiceFailure', 500, 'The request processing has failed because of an unknown error, exception or failure.');
    injectFaults(engineIam as never, [{ operation: 'PutUserPolicy', error: serviceFailure, times: 1 }]);

    const issued = await issuer().issue(request('t-1'));

    expect(sent('PutUserPolicy')).toHaveLength(2);
    expect(await probeOf().probe(issued)).toEqual({ verdict: 'accepted' });
    injectFaults(engineIam as never, [{ operation: 'CreateAccessKey', error: serviceFailure, times: 2 }]);
    await expect(issuer().issue(request('t-2'))).rejects.toMatchObject({ name: 'ServiceFailure', $metadata: { httpStatusCode: 500 } });
    expect(await grantUsers()).toEqual([`taskbound-${grantIdFor(AGENT, 't-1')}`]);
  });

  it('lists every grant user under /taskbound/ across pages, and nothing else', async () => {
    listUsersInPages(engineIam as never, 2);
    const keys = issuer();
    const grants = [];
    for (const taskId of ['t-1', 't-2', 't-3', 't-4', 't-5']) {
      await keys.issue(request(taskId));
      grants.push(grantIdFor(AGENT, taskId));
    }
    await moto.aws.iam.send(new CreateUserCommand({ UserName: 'alice' }));
    await moto.aws.iam.send(new CreateUserCommand({ UserName: 'taskbound-admin', Path: '/taskbound/' }));
    calls.length = 0;

    const candidates = await orphanCandidates(keys);

    expect(candidates.map((candidate) => candidate.grantId).sort()).toEqual([...grants].sort());
    expect(candidates[0]).toMatchObject({ userName: `taskbound-${candidates[0]?.grantId}`, createdAt: expect.any(Date) });
    expect(sent()).toEqual(['ListUsers', 'ListUsers', 'ListUsers']);
  });

  it('runs a grant through its whole life, fault by fault', async () => {
    newUsersInvisible(engineIam as never, { clock, windowMs: 1000, error: noSuchUser });
    const stale = deletedKeysStillAccepted(engineIam as never, { clock, windowMs: 3000 });
    const keys = issuer({ probe: probeOf(stale.track) });
    const req = request('t-life');

    // Issue: throttled past the SDK's retries, so it fails and leaves nothing behind.
    injectFaults(engineIam as never, [{ operation: 'CreateAccessKey', error: throttling, times: 2 }]);
    await expect(keys.issue(req)).rejects.toMatchObject({ name: 'Throttling' });
    clock.advance(1000);
    expect(await grantUsers()).toEqual([]);

    // Issue again: the new user is invisible for a second; the issuer waits it out.
    const issued = await keys.issue(req);
    expect(await probeOf().probe(issued)).toEqual({ verdict: 'accepted' });

    // Revoke: throttled (Revocation Failed; the sweep retries), then a policy appears mid-teardown.
    injectFaults(engineIam as never, [{ operation: 'ListAccessKeys', error: throttling, times: 2 }]);
    await expect(keys.revoke(targetOf(req, issued))).rejects.toMatchObject({ name: 'Throttling' });
    const extra = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*' }] });
    beforeCall(engineIam as never, 'DeleteUser', () =>
      moto.aws.iam
        .send(new PutUserPolicyCommand({ UserName: `taskbound-${req.grantId}`, PolicyName: 'racing', PolicyDocument: extra }))
        .then(() => undefined),
    );
    expect(await keys.revoke(targetOf(req, issued))).toBe('revoked');

    // The deleted key still works for a few seconds: someone uses it, the probe waits it out.
    expect(await probeOf(stale.track).probe(issued)).toEqual({ verdict: 'accepted' });
    expect(await keys.verify(targetOf(req, issued), issued)).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId', observed: true });
    expect(await keys.verify(targetOf(req, issued), undefined)).toEqual({ verdict: 'rejected', code: 'NoSuchEntity' });

    // A duplicate revocation finds nothing, and nothing is left for orphan reconciliation.
    clock.advance(900_000 + 60_000);
    expect(await keys.revoke(targetOf(req, issued))).toBe('already-revoked');
    expect(await orphanCandidates(keys)).toEqual([]);
  });
});
