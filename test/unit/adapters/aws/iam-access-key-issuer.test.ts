import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUsersCommand,
  MalformedPolicyDocumentException,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IamAccessKeyIssuer, type IamAccessKeyIssuerOptions } from '../../../../lambdas/adapters/aws/iam-access-key-issuer';
import { StsCredentialProbe } from '../../../../lambdas/adapters/aws/sts-credential-probe';
import { UnissuableRequestError } from '../../../../lambdas/domain/errors';
import { grantIdFor } from '../../../../lambdas/domain/ids';
import type { PolicyStatement } from '../../../../lambdas/domain/policy';
import type { IssueRequest, IssuedCredential, RevokeTarget } from '../../../../lambdas/ports';
import { awsError, FakeIam, type FakeIamOptions } from '../../../helpers/fake-iam';
import { FakeClock } from '../../../helpers/fake-ports';
import { FakeSts } from '../../../helpers/fake-sts';

const AGENT = 'refund-bot';
const BOUNDARY = 'arn:aws:iam::111122223333:policy/taskbound-boundary';
const REFUND: PolicyStatement = { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: 'arn:aws:lambda:us-east-1:111122223333:function:refund' };
const ENGINE_CREDENTIALS = { accessKeyId: 'AKIAENGINEEXAMPLE000', secretAccessKey: 'engine-secret' };

let clock: FakeClock;
let iam: FakeIam;
let sts: FakeSts;
let engineIam: IAMClient;

function world(options: Omit<FakeIamOptions, 'clock'> = {}): void {
  sts?.restore();
  iam?.restore();
  iam = new FakeIam({ clock, ...options });
  sts = new FakeSts({ clock, iam });
}

beforeEach(() => {
  clock = new FakeClock();
  world();
  engineIam = new IAMClient({ region: 'us-east-1', credentials: ENGINE_CREDENTIALS });
});

afterEach(() => {
  sts.restore();
  iam.restore();
});

function issuer(overrides: Partial<IamAccessKeyIssuerOptions> = {}): IamAccessKeyIssuer {
  const sleep = async (ms: number) => clock.advance(ms);
  return new IamAccessKeyIssuer({
    iam: engineIam,
    clock,
    permissionsBoundaryArn: BOUNDARY,
    probe: new StsCredentialProbe({ region: 'us-east-1', sleep }),
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
  return { grantId: req.grantId, agentId: req.agentId, taskId: req.taskId, kind: 'aws-iam-access-key', expiresAt: req.expiresAt, ...(issued ? { accessKeyId: issued.accessKeyId } : {}) };
}

/** Names of the IAM commands sent, in order. */
function iamCalls(): string[] {
  return iam.mock.calls().map((call) => (call.args[0] as object).constructor.name.replace(/Command$/, ''));
}

describe('IamAccessKeyIssuer', () => {
  it('creates a user for the grant under /taskbound/ with the boundary and tags, its policy, and one key', async () => {
    const req = request('t-1');

    const issued = await issuer().issue(req);

    const userName = `taskbound-${req.grantId}`;
    expect(iam.inputs(CreateUserCommand)).toEqual([
      {
        UserName: userName,
        Path: '/taskbound/',
        PermissionsBoundary: BOUNDARY,
        Tags: [
          { Key: 'taskbound:grant-id', Value: req.grantId },
          { Key: 'taskbound:task-id', Value: 't-1' },
          { Key: 'taskbound:agent-id', Value: AGENT },
          { Key: 'taskbound:expires-at', Value: req.expiresAt.toISOString() },
        ],
      },
    ]);
    expect(iam.inputs(PutUserPolicyCommand)).toEqual([
      {
        UserName: userName,
        PolicyName: 'taskbound-grant',
        PolicyDocument: `{"Version":"2012-10-17","Statement":[${JSON.stringify(REFUND)}]}`,
      },
    ]);
    expect(iam.inputs(CreateAccessKeyCommand)).toEqual([{ UserName: userName }]);
    expect(issued).toMatchObject({ kind: 'aws-iam-access-key', principalArn: `arn:aws:iam::111122223333:user/taskbound/${userName}`, expiresAt: req.expiresAt });
    expect(issued.accessKeyId).toMatch(/^AKIA/);
    expect(issued.sessionToken).toBeUndefined();
    expect(await new StsCredentialProbe({ region: 'us-east-1' }).probe(issued)).toEqual({ verdict: 'accepted' });
  });

  it('tears down keys, then policies, then the user, so IAM never answers DeleteConflict', async () => {
    const req = request('t-1');
    const issued = await issuer().issue(req);
    iam.mock.resetHistory();

    expect(await issuer().revoke(targetOf(req, issued))).toBe('revoked');

    expect(iamCalls()).toEqual(['ListAccessKeys', 'DeleteAccessKey', 'ListUserPolicies', 'DeleteUserPolicy', 'DeleteUser']);
    expect(iam.users.size).toBe(0);
  });

  it('probes a revoked key until IAM stops honouring it', async () => {
    world({ deletedKeyUsableMs: 2500 });
    const keys = issuer();
    const req = request('t-1');
    const issued = await keys.issue(req);
    await keys.revoke(targetOf(req, issued));

    expect(await keys.verify(targetOf(req, issued), issued)).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId', observed: true });
  });

  it('reports a key still accepted when IAM keeps honouring it past the probe schedule', async () => {
    world({ deletedKeyUsableMs: 60_000 });
    const keys = issuer();
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
    world({ newUserInvisibleMs: 1500 });

    const issued = await issuer().issue(request('t-1'));

    expect(issued.accessKeyId).toMatch(/^AKIA/);
    expect(iam.inputs(PutUserPolicyCommand).length).toBeGreaterThan(1);
  });

  it("gives up on a just-created user IAM never shows, with IAM's own NoSuchEntity, after the consistency retries", async () => {
    world({ newUserInvisibleMs: 60_000 });

    await expect(issuer().issue(request('t-1'))).rejects.toMatchObject({ name: 'NoSuchEntityException' });

    expect(iam.inputs(PutUserPolicyCommand)).toHaveLength(6);
  });

  it('retries NoSuchEntity on a young grant until the just-created user shows, then revokes it', async () => {
    world({ newUserInvisibleMs: 2000 });
    const req = request('t-1');
    // Another invocation is issuing this grant right now: the user exists but reads cannot see it yet.
    const userName = `taskbound-${req.grantId}`;
    await engineIam.send(new CreateUserCommand({ UserName: userName, Path: '/taskbound/' }));

    expect(await issuer().revoke(targetOf(req))).toBe('revoked');

    expect(iam.inputs(ListAccessKeysCommand).length).toBeGreaterThan(1);
    expect(iam.users.has(userName)).toBe(false);
  });

  it('concludes already-revoked at once for a grant too old to be invisible', async () => {
    const req = request('t-1');
    clock.advance(900_000 + 60_000);

    expect(await issuer().revoke(targetOf(req))).toBe('already-revoked');

    expect(iam.inputs(ListAccessKeysCommand)).toHaveLength(1);
  });

  it('knows a grant issued long ago is not young from its issue time, and needs no retries', async () => {
    const req = request('t-old');
    clock.advance(60_000);
    expect(await issuer().revoke({ ...targetOf(req), issuedAt: new Date(clock.now().getTime() - 60_000) })).toBe('already-revoked');

    expect(iam.inputs(ListAccessKeysCommand)).toHaveLength(1);
  });

  it('concludes already-revoked for a young grant only after the consistency retries', async () => {
    expect(await issuer().revoke(targetOf(request('t-never-issued')))).toBe('already-revoked');

    expect(iam.inputs(ListAccessKeysCommand)).toHaveLength(6);
  });

  it('goes round again when a key appears between listing and deleting the user', async () => {
    const keys = issuer();
    const req = request('t-1');
    const issued = await keys.issue(req);
    iam.intercept('DeleteUser', () => {
      // The stale list missed a key (or a racing issue just added one).
      void engineIam.send(new CreateAccessKeyCommand({ UserName: `taskbound-${req.grantId}` }));
    });

    expect(await keys.revoke(targetOf(req, issued))).toBe('revoked');

    expect(iamCalls().filter((name) => name === 'DeleteUser')).toHaveLength(2);
    expect(iam.users.size).toBe(0);
  });

  it('surfaces LimitExceeded and leaves no user behind', async () => {
    world({ maxUsers: 1 });
    await issuer().issue(request('t-1'));

    const attempt = issuer().issue(request('t-2'));

    await expect(attempt).rejects.toMatchObject({ name: 'LimitExceededException', Code: 'LimitExceeded' });
    await expect(attempt).rejects.not.toBeInstanceOf(UnissuableRequestError);
    expect(iam.users.size).toBe(1);
  });

  it('surfaces IAM refusing a third access key, and tears the user down', async () => {
    const req = request('t-1');
    iam.intercept('CreateAccessKey', () => {
      const user = iam.users.get(`taskbound-${req.grantId}`);
      for (const id of ['AKIAPLANTEDKEY000001', 'AKIAPLANTEDKEY000002']) user?.keys.set(id, { accessKeyId: id, secretAccessKey: 'x', createdAt: clock.now() });
    });

    await expect(issuer().issue(req)).rejects.toMatchObject({ name: 'LimitExceededException', message: 'Cannot exceed quota for AccessKeysPerUser: 2' });
    expect(iam.users.size).toBe(0);
  });

  it('refuses a scope set too large for a user policy before creating anything', async () => {
    const statements = Array.from({ length: 20 }, (_, index) => ({ ...REFUND, Resource: `arn:aws:lambda:us-east-1:111122223333:function:refund-${index}` }));

    await expect(issuer().issue(request('t-big', { statements }))).rejects.toThrow(/over the 2048 characters an IAM user's inline policies may hold/);
    expect(iam.inputs(CreateUserCommand)).toHaveLength(0);
  });

  it('turns a policy IAM calls malformed into a refusal, and tears the user down', async () => {
    iam.intercept('PutUserPolicy', () => awsError(MalformedPolicyDocumentException, 'MalformedPolicyDocument', 400, 'Policy statement must contain resources.'));

    await expect(issuer().issue(request('t-1'))).rejects.toThrow(UnissuableRequestError);
    expect(iam.users.size).toBe(0);
  });

  it('replaces a user an earlier crashed attempt left behind, so the new key is the only one', async () => {
    const keys = issuer();
    const req = request('t-1');
    const leftover = await keys.issue(req);

    const issued = await keys.issue(req);

    const user = iam.users.get(`taskbound-${req.grantId}`);
    expect([...(user?.keys.keys() ?? [])]).toEqual([issued.accessKeyId]);
    expect(await new StsCredentialProbe({ region: 'us-east-1' }).probe(leftover)).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId', observed: true });
  });

  it('lets throttling out once the SDK gave up, and the next attempt revokes', async () => {
    const keys = issuer();
    const req = request('t-1');
    const issued = await keys.issue(req);
    iam.throttle('DeleteAccessKey');

    await expect(keys.revoke(targetOf(req, issued))).rejects.toMatchObject({ name: 'Throttling' });
    expect(await keys.revoke(targetOf(req, issued))).toBe('revoked');
  });

  it('lists every grant user under /taskbound/ across pages, and nothing else', async () => {
    world({ listPageSize: 2 });
    const keys = issuer();
    const grants = await Promise.all(['t-1', 't-2', 't-3', 't-4', 't-5'].map(async (taskId) => (await keys.issue(request(taskId))) && grantIdFor(AGENT, taskId)));
    await engineIam.send(new CreateUserCommand({ UserName: 'alice' }));
    await engineIam.send(new CreateUserCommand({ UserName: 'taskbound-admin', Path: '/taskbound/' }));

    const candidates = [];
    for await (const candidate of keys.listOrphanCandidates()) candidates.push(candidate);

    expect(candidates.map((candidate) => candidate.grantId).sort()).toEqual([...grants].sort());
    expect(candidates[0]).toMatchObject({ userName: `taskbound-${candidates[0]?.grantId}`, createdAt: clock.now() });
    expect(iam.inputs(ListUsersCommand).every((input) => input.PathPrefix === '/taskbound/')).toBe(true);
    expect(iam.inputs(ListUsersCommand)).toHaveLength(3);
  });

  it('runs a grant through its whole life, fault by fault', async () => {
    world({ newUserInvisibleMs: 1000, deletedKeyUsableMs: 3000 });
    const keys = issuer();
    const req = request('t-life');
    const probe = new StsCredentialProbe({ region: 'us-east-1' });

    // Issue: throttled past the SDK's retries, so it fails and leaves nothing behind.
    iam.throttle('CreateAccessKey');
    await expect(keys.issue(req)).rejects.toMatchObject({ name: 'Throttling' });
    expect(iam.users.size).toBe(0);

    // Issue again: the new user is invisible for a second; the issuer waits it out.
    const issued = await keys.issue(req);
    expect(await probe.probe(issued)).toEqual({ verdict: 'accepted' });

    // Revoke: throttled (Revocation Failed; the sweep retries), then a key appears mid-teardown.
    iam.throttle('ListAccessKeys');
    await expect(keys.revoke(targetOf(req, issued))).rejects.toMatchObject({ name: 'Throttling' });
    iam.intercept('DeleteUser', () => {
      void engineIam.send(new CreateAccessKeyCommand({ UserName: `taskbound-${req.grantId}` }));
    });
    expect(await keys.revoke(targetOf(req, issued))).toBe('revoked');

    // The deleted key still works for a few seconds: someone uses it, the probe waits it out.
    expect(await probe.probe(issued)).toEqual({ verdict: 'accepted' });
    expect(await keys.verify(targetOf(req, issued), issued)).toEqual({ verdict: 'rejected', code: 'InvalidClientTokenId', observed: true });
    expect(await keys.verify(targetOf(req, issued), undefined)).toEqual({ verdict: 'rejected', code: 'NoSuchEntity' });

    // A duplicate revocation finds nothing, and nothing is left for orphan reconciliation.
    expect(await keys.revoke(targetOf(req, issued))).toBe('already-revoked');
    const orphans = [];
    for await (const candidate of keys.listOrphanCandidates()) orphans.push(candidate);
    expect(orphans).toEqual([]);
  });
});
