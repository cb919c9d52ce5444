// AWS emulator tier: the STS session issuer against moto's STS and IAM, over real SDK clients.
// moto keeps the role's deny and refuses a revoked session's canary call, but skips policy
// conditions and session policies; whether one session is denied and another allowed is
// judged by the independent IAM evaluator (test/policy/simulate.ts) on the documents moto
// holds. STS's packed size limit and IAM's delay in enforcing a new deny are SDK middleware.
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetRolePolicyCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { PackedPolicyTooLargeException, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CanaryMisconfiguredError, SecretsManagerCanaryProbe } from '../../lambdas/adapters/aws/canary-probe';
import { probeCredentialOf } from '../../lambdas/adapters/aws/probe-client';
import {
  CLOCK_SKEW_MARGIN_SECONDS,
  parseRevokedSessions,
  renderRevokedSessions,
  REVOKED_SESSIONS_POLICY_NAME,
  withRevoked,
} from '../../lambdas/adapters/aws/revoked-sessions-policy';
import { denyTimeFor, REVOKED_BEFORE_POLICY_NAME, REVOKED_BEFORE_RESERVED_CHARS } from '../../lambdas/adapters/aws/revoked-before-policy';
import { StsCredentialProbe } from '../../lambdas/adapters/aws/sts-credential-probe';
import {
  StsSessionIssuer,
  STS_MIN_SESSION_SECONDS,
  type SessionCanary,
  type StsSessionIssuerOptions,
} from '../../lambdas/adapters/aws/sts-session-issuer';
import { RoleDenyLock } from '../../lambdas/adapters/aws/role-deny-lock';
import { roleDenyLockKey } from '../../lambdas/adapters/aws/grant-table';
import { systemClock } from '../../lambdas/adapters/system-clock';
import { TaskboundError, UnissuableRequestError } from '../../lambdas/domain/errors';
import { grantIdFor } from '../../lambdas/domain/ids';
import type { PolicyStatement } from '../../lambdas/domain/policy';
import type { IssueRequest, IssuedCredential, RevokeTarget } from '../../lambdas/ports';
import { FakeClock } from '../helpers/fake-ports';
import { ALLOW_EVERYTHING, decide, type Decision } from '../policy/simulate';
import { ACCOUNT_ID, CANARY_SECRET, freshMoto, REGION, ROLE_PREFIX, TABLE_NAME, type FreshMoto } from './moto-world';
import { awsServiceError, beforeCall, countCalls, injectFaults, jsonAccessDenied, throttling, type ApiCall } from './sdk-middleware';

const AGENT = 'release-bot';
const ROLE = `${ROLE_PREFIX}${AGENT}`;
const PULL: PolicyStatement = { Effect: 'Allow', Action: 'codecommit:GitPull', Resource: 'arn:aws:codecommit:us-east-1:111122223333:web' };
const CANARY_PATTERN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:${CANARY_SECRET}-??????`;

let moto: FreshMoto;
let clock: FakeClock;
let engineIam: IAMClient;
let engineSts: STSClient;
let calls: ApiCall[];
/** The AssumeRole inputs as sent: the session policy each session carries. */
let assumed: Array<{ RoleSessionName?: string; SourceIdentity?: string; DurationSeconds?: number; Policy?: string; Tags?: unknown }>;

beforeEach(async () => {
  moto = await freshMoto();
  clock = new FakeClock(new Date(Math.floor(Date.now() / 60_000) * 60_000));
  engineIam = new IAMClient({ ...moto.engineConfig, maxAttempts: 2 });
  engineSts = new STSClient({ ...moto.engineConfig, maxAttempts: 2 });
  calls = [];
  for (const client of [engineIam, engineSts]) countCalls(client as never, calls, { count: 0 });
  assumed = [];
  beforeCall(engineSts as never, 'AssumeRole', (input) => void assumed.push(input), Number.POSITIVE_INFINITY);
});
afterEach(() => {
  engineIam.destroy();
  engineSts.destroy();
});

const sleep = async (ms: number) => clock.advance(ms);

function issuer(overrides: Partial<StsSessionIssuerOptions> = {}): StsSessionIssuer {
  return new StsSessionIssuer({
    sts: engineSts,
    iam: engineIam,
    clock,
    accountId: ACCOUNT_ID,
    rolePrefix: ROLE_PREFIX,
    roleMaxSessionSeconds: 3600,
    sleep,
    ...overrides,
  });
}

function request(taskId: string, overrides: Partial<IssueRequest> = {}): IssueRequest {
  const ttlSeconds = overrides.ttlSeconds ?? 1800;
  return {
    grantId: grantIdFor(AGENT, taskId),
    taskId,
    agentId: AGENT,
    kind: 'aws-sts-session',
    statements: [PULL],
    brokeredSecretArns: [],
    ttlSeconds,
    expiresAt: new Date(clock.now().getTime() + ttlSeconds * 1000),
    ...overrides,
  };
}

/** As the engine records it: the grant's expiry on the engine's clock (moto's clock is the real one). */
function targetOf(req: IssueRequest, issued?: IssuedCredential): RevokeTarget {
  return {
    grantId: req.grantId,
    agentId: req.agentId,
    taskId: req.taskId,
    kind: 'aws-sts-session',
    expiresAt: req.expiresAt,
    ...(issued ? { accessKeyId: issued.accessKeyId } : {}),
  };
}

const sent = (operation: string) => calls.filter((call) => call.operation === operation);

async function denyDocument(): Promise<Record<string, unknown> | undefined> {
  const answer = await moto.aws.iam
    .send(new GetRolePolicyCommand({ RoleName: ROLE, PolicyName: REVOKED_SESSIONS_POLICY_NAME }))
    .catch(() => undefined);
  return answer?.PolicyDocument ? (JSON.parse(decodeURIComponent(answer.PolicyDocument)) as Record<string, unknown>) : undefined;
}

async function deniedIds(): Promise<string[]> {
  const statements = ((await denyDocument())?.Statement ?? []) as Array<{ Condition?: { StringEquals: Record<string, string[]> } }>;
  return statements.flatMap((statement) => statement.Condition?.StringEquals['aws:SourceIdentity'] ?? []);
}

/**
 * Would AWS let the session call `codecommit:GitPull` on the repository? The evaluator judges
 * the session policy it was issued with and the role's deny as moto holds it, with the
 * session's source identity in the request context.
 */
async function judge(grantId: string): Promise<Decision> {
  const session = assumed.find((input) => input.SourceIdentity === grantId);
  if (!session?.Policy) throw new Error(`no session was issued for ${grantId}`);
  const deny = await denyDocument();
  return decide(
    {
      principal: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${ROLE}/${grantId}`,
      action: 'codecommit:GitPull',
      resource: PULL.Resource as string,
      context: { 'aws:SourceIdentity': grantId },
    },
    { identity: [ALLOW_EVERYTHING, ...(deny ? [deny] : [])], session: JSON.parse(session.Policy) as Record<string, unknown> },
  );
}

describe('StsSessionIssuer on moto', () => {
  it("assumes the agent's role with the session policy, grant tags, SourceIdentity and the task's TTL", async () => {
    const req = request('t-1', { brokeredSecretArns: [moto.brokeredSecretArn] });

    const issued = await issuer().issue(req);

    expect(assumed).toEqual([
      expect.objectContaining({
        RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/${ROLE}`,
        RoleSessionName: req.grantId,
        SourceIdentity: req.grantId,
        DurationSeconds: 1800,
        Tags: [
          { Key: 'taskbound:grant-id', Value: req.grantId },
          { Key: 'taskbound:task-id', Value: 't-1' },
          { Key: 'taskbound:agent-id', Value: AGENT },
        ],
      }),
    ]);
    expect(JSON.parse(assumed[0]?.Policy ?? '').Statement).toEqual([
      PULL,
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: [moto.brokeredSecretArn, `${moto.brokeredSecretArn}-??????`] },
    ]);
    expect(issued).toMatchObject({
      kind: 'aws-sts-session',
      principalArn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${ROLE}/${req.grantId}`,
      expiresAt: req.expiresAt,
    });
    expect(issued.accessKeyId).toMatch(/^ASIA/);
    expect(issued.sessionToken).toBeTruthy();
    // moto's STS knows the session it issued.
    expect(await new StsCredentialProbe({ region: REGION, endpoint: moto.engineConfig.endpoint }).probe(issued)).toEqual({
      verdict: 'accepted',
    });
    expect(await judge(req.grantId)).toBe('Allowed');
  });

  it("clamps the duration to STS's 900 s floor and the role's maximum, and reports the earlier end", async () => {
    const short = request('t-short', { ttlSeconds: 60 });
    const long = request('t-long', { ttlSeconds: 7200 });

    const shortIssued = await issuer().issue(short);
    const longIssued = await issuer().issue(long);

    expect(assumed.map((input) => input.DurationSeconds)).toEqual([900, 3600]);
    expect(shortIssued.expiresAt).toEqual(short.expiresAt);
    // STS's own expiration (moto's clock, the real one) caps the long session.
    expect(longIssued.expiresAt.getTime()).toBeLessThan(long.expiresAt.getTime());
  });

  it("revokes one session with a deny on its source identity and leaves the agent's other sessions working", async () => {
    const sessions = issuer();
    const first = request('t-1');
    const second = request('t-2');
    await sessions.issue(first);
    await sessions.issue(second);

    expect(await sessions.revoke(targetOf(first))).toBe('revoked');

    expect(await deniedIds()).toEqual([first.grantId]);
    expect(await judge(first.grantId)).toBe('ExplicitlyDenied');
    expect(await judge(second.grantId)).toBe('Allowed');
    expect(await sessions.verify(targetOf(first))).toEqual({ verdict: 'rejected', code: 'ExplicitDeny' });
    expect(await sessions.verify(targetOf(second))).toEqual({ verdict: 'accepted' });
  });

  it('answers already-revoked to a second revocation without writing again', async () => {
    const sessions = issuer();
    const req = request('t-1');
    await sessions.issue(req);
    await sessions.revoke(targetOf(req));

    expect(await sessions.revoke(targetOf(req))).toBe('already-revoked');
    expect(sent('PutRolePolicy')).toHaveLength(1);
  });

  it('denies a session that is issued after its grant was revoked (Task Ended before Task Started)', async () => {
    const sessions = issuer();
    const req = request('t-early');
    await sessions.revoke({ grantId: req.grantId, agentId: AGENT, taskId: req.taskId, kind: 'aws-sts-session' });

    await sessions.issue(req);

    expect(await judge(req.grantId)).toBe('ExplicitlyDenied');
  });

  it('calls an expired session dead and spends no deny on it', async () => {
    const sessions = issuer();
    const req = request('t-1', { ttlSeconds: 60 });
    await sessions.issue(req);

    clock.advance(60_000);
    expect(await sessions.verify(targetOf(req))).toEqual({ verdict: 'accepted' });

    clock.advance((900 + 300) * 1000 + 1);
    expect(await sessions.verify(targetOf(req))).toEqual({ verdict: 'rejected', code: 'ExpiredToken' });
    expect(await sessions.revoke(targetOf(req))).toBe('already-revoked');
    expect(sent('PutRolePolicy')).toHaveLength(0);
  });

  it('prunes revoked sessions once they have expired, keeping the deny within its budget', async () => {
    const budget = 800;
    // The kill switch's deny keeps its share of the role's budget; the per-grant deny gets the rest.
    const sessions = issuer({ revocationPolicyMaxChars: budget + REVOKED_BEFORE_RESERVED_CHARS });
    const written: string[] = [];
    beforeCall(engineIam as never, 'PutRolePolicy', (input) => void written.push(String(input.PolicyDocument)), Number.POSITIVE_INFINITY);
    const revokedOverTime: string[] = [];
    for (let index = 0; index < 20; index++) {
      const req = request(`t-${index}`, { ttlSeconds: 900 });
      await sessions.revoke(targetOf(req));
      revokedOverTime.push(req.grantId);
      clock.advance(15 * 60_000);
    }

    expect(written).toHaveLength(20);
    expect(Math.max(...written.map((document) => document.length))).toBeLessThanOrEqual(budget);
    expect(await deniedIds()).toContain(revokedOverTime.at(-1));
    expect(await deniedIds()).not.toContain(revokedOverTime[0]);
  });

  it('fails the revocation loudly when unexpired revoked sessions outgrow the deny, writing nothing over budget', async () => {
    const sessions = issuer({ revocationPolicyMaxChars: 300 });
    const written: string[] = [];
    beforeCall(engineIam as never, 'PutRolePolicy', (input) => void written.push(String(input.PolicyDocument)), Number.POSITIVE_INFINITY);
    const outcomes: unknown[] = [];
    for (let index = 0; index < 6; index++)
      outcomes.push(await sessions.revoke(targetOf(request(`t-${index}`))).catch((error: unknown) => error));

    const failure = outcomes.find((outcome) => outcome instanceof TaskboundError);
    expect((failure as Error | undefined)?.message).toMatch(/too many revoked sessions of this agent are still unexpired/);
    expect(Math.max(...written.map((document) => document.length))).toBeLessThanOrEqual(300);
  });

  it('keeps statements it did not write in the deny policy', async () => {
    const foreign = { Sid: 'BreakGlass', Effect: 'Deny', Action: 'iam:*', Resource: '*' };
    await moto.aws.iam.send(
      new PutRolePolicyCommand({
        RoleName: ROLE,
        PolicyName: REVOKED_SESSIONS_POLICY_NAME,
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [foreign] }),
      }),
    );
    const req = request('t-1');

    await issuer().revoke(targetOf(req));

    expect(((await denyDocument())?.Statement as unknown[])[0]).toEqual(foreign);
    expect(await deniedIds()).toEqual([req.grantId]);
  });

  it('writes again when a concurrent revocation overwrote the deny from a stale read', async () => {
    const req = request('t-1');
    const stale = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'RevokedUntil1',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:SourceIdentity': ['g-other'] } },
        },
      ],
    });
    let reads = 0;
    // The second read is our check after writing: the other revoker's stale write lands first.
    beforeCall(
      engineIam as never,
      'GetRolePolicy',
      async () => {
        if (++reads === 2)
          await moto.aws.iam.send(
            new PutRolePolicyCommand({ RoleName: ROLE, PolicyName: REVOKED_SESSIONS_POLICY_NAME, PolicyDocument: stale }),
          );
      },
      2,
    );

    expect(await issuer().revoke(targetOf(req))).toBe('revoked');

    expect(sent('PutRolePolicy')).toHaveLength(2);
    expect(await deniedIds()).toContain(req.grantId);
  });

  it('loses no grant unnoticed when revocations race on the same role: verify finds one a stale write dropped, and revoking again names it', async () => {
    const sessions = issuer();
    const requests = [request('t-a'), request('t-b'), request('t-c')];
    for (const req of requests) await sessions.issue(req);

    const outcomes = await Promise.all(requests.map((req) => sessions.revoke(targetOf(req))));

    expect(outcomes).toEqual(['revoked', 'revoked', 'revoked']);
    // IAM has no conditional write: a revoker that read its id back before another's stale write
    // landed cannot see that write. Its verify reads the deny again and says so (the engine then
    // revokes again, as the sweep would); most runs need no second round.
    for (const req of requests) {
      const verdict = await sessions.verify(targetOf(req));
      if (verdict.verdict === 'accepted') expect(await sessions.revoke(targetOf(req))).toBe('revoked');
      else expect(verdict).toEqual({ verdict: 'rejected', code: 'ExplicitDeny' });
    }
    expect((await deniedIds()).sort()).toEqual(requests.map((req) => req.grantId).sort());
    for (const req of requests) expect(await judge(req.grantId)).toBe('ExplicitlyDenied');
  });

  it('with the deny lock, loses no grant when revocations race on the same role from two containers: every one is in the deny at once', async () => {
    const dynamo = new DynamoDBClient({ ...moto.engineConfig, maxAttempts: 2 });
    try {
      // Two containers: each its own issuer and lock, sharing only moto's IAM and the grant table.
      const containers = [0, 1].map(() =>
        issuer({ denyLock: new RoleDenyLock({ client: dynamo, tableName: TABLE_NAME, clock: systemClock }) }),
      );
      const requests = ['t-a', 't-b', 't-c', 't-d', 't-e', 't-f'].map((taskId) => request(taskId));
      for (const req of requests) await containers[0]!.issue(req);

      const outcomes = await Promise.all(requests.map((req, index) => containers[index % 2]!.revoke(targetOf(req))));

      expect(outcomes).toEqual(Array(6).fill('revoked'));
      expect((await deniedIds()).sort()).toEqual(requests.map((req) => req.grantId).sort());
      // One write per container: its three revocations queued for the lease and went in one write (group commit),
      // and none had to write again after another's stale write.
      expect(sent('PutRolePolicy')).toHaveLength(2);
      for (const req of requests) expect(await judge(req.grantId)).toBe('ExplicitlyDenied');
    } finally {
      dynamo.destroy();
    }
  });

  it('with the deny lock, writes grants that do not fit together one by one, and fails only the one with no room', async () => {
    const dynamo = new DynamoDBClient({ ...moto.engineConfig, maxAttempts: 2 });
    try {
      const requests = ['t-a', 't-b', 't-c'].map((taskId) => request(taskId));
      // Room for two grants' entries in the deny, not three (REVOKED_BEFORE_RESERVED_CHARS is kept back for the kill switch).
      const endsBy = (req: IssueRequest) =>
        new Date(req.expiresAt.getTime() + (STS_MIN_SESSION_SECONDS + CLOCK_SKEW_MARGIN_SECONDS) * 1000);
      const named = (reqs: IssueRequest[]) =>
        renderRevokedSessions(reqs.reduce((deny, req) => withRevoked(deny, req.grantId, endsBy(req)), parseRevokedSessions(undefined)));
      const two = named(requests.slice(0, 2)).length;
      expect(named(requests).length).toBeGreaterThan(two);
      const sessions = issuer({
        revocationPolicyMaxChars: REVOKED_BEFORE_RESERVED_CHARS + two,
        denyLock: new RoleDenyLock({ client: dynamo, tableName: TABLE_NAME, clock: systemClock }),
      });
      for (const req of requests) await sessions.issue(req);

      const outcomes = await Promise.allSettled(requests.map((req) => sessions.revoke(targetOf(req))));

      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled').map((outcome) => outcome.value)).toEqual(['revoked', 'revoked']);
      const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
      expect(refused).toHaveLength(1);
      expect(String(refused[0]?.reason)).toMatch(/too many revoked sessions of this agent are still unexpired/);
      expect(await deniedIds()).toHaveLength(2);
    } finally {
      dynamo.destroy();
    }
  });

  it('with the deny lock held by a container that died, fails every waiting revocation with the reason and writes nothing', async () => {
    const dynamo = new DynamoDBClient({ ...moto.engineConfig, maxAttempts: 2 });
    try {
      const key = roleDenyLockKey(AGENT, ACCOUNT_ID);
      await dynamo.send(
        new PutItemCommand({
          TableName: TABLE_NAME,
          Item: { pk: { S: key.pk }, sk: { S: key.sk }, holder: { S: 'dead' }, leaseEndsMs: { N: String(Date.now() + 60_000) } },
        }),
      );
      const sessions = issuer({ denyLock: new RoleDenyLock({ client: dynamo, tableName: TABLE_NAME, clock: systemClock, waitMs: 300 }) });
      const requests = ['t-a', 't-b'].map((taskId) => request(taskId));
      for (const req of requests) await sessions.issue(req);

      const outcomes = await Promise.allSettled(requests.map((req) => sessions.revoke(targetOf(req))));

      expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
      for (const outcome of outcomes)
        expect(String((outcome as PromiseRejectedResult).reason)).toMatch(/held the deny of agent release-bot's role/);
      expect(sent('PutRolePolicy')).toHaveLength(0);
    } finally {
      dynamo.destroy();
    }
  });

  it('refuses a scope set too large for a session policy before calling STS', async () => {
    const statements = Array.from({ length: 20 }, (_, index) => ({
      ...PULL,
      Resource: `arn:aws:codecommit:us-east-1:111122223333:repository-number-${index}`,
    }));

    await expect(issuer().issue(request('t-big', { statements }))).rejects.toThrow(UnissuableRequestError);
    expect(sent('AssumeRole')).toHaveLength(0);
  });

  it("turns STS's PackedPolicyTooLarge into a refusal with its reason", async () => {
    // moto does not pack policies; STS's answer, as AssumeRole documents it.
    injectFaults(engineSts as never, [
      {
        operation: 'AssumeRole',
        error: () =>
          new PackedPolicyTooLargeException({
            message: 'Packed policy consumes 112% of allotted space, please use smaller policy.',
            $metadata: { httpStatusCode: 400 },
          }),
      },
    ]);

    const attempt = issuer().issue(request('t-1'));

    await expect(attempt).rejects.toThrow(UnissuableRequestError);
    await expect(attempt).rejects.toThrow(/packed size limit \(Packed policy consumes 112% of allotted space/);
  });

  it('lets a role the engine may not assume fail the issue as an error, not a refusal', async () => {
    // moto lets any role ARN be assumed ("the role does not need to exist"); STS answers AccessDenied.
    const accessDenied = () =>
      Object.assign(
        new STSServiceException({
          name: 'AccessDenied',
          $fault: 'client',
          message: 'User is not authorized to perform: sts:AssumeRole',
          $metadata: { httpStatusCode: 403 },
        }),
        { Code: 'AccessDenied' },
      );
    injectFaults(engineSts as never, [{ operation: 'AssumeRole', error: accessDenied }]);

    const attempt = issuer().issue({ ...request('t-1'), agentId: 'unknown-agent' });

    await expect(attempt).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(attempt).rejects.not.toBeInstanceOf(UnissuableRequestError);
  });

  it('rides out an STS 5xx inside the SDK', async () => {
    injectFaults(engineSts as never, [
      { operation: 'AssumeRole', error: () => awsServiceError('ServiceUnavailable', 503, 'Service is unavailable'), times: 1 },
    ]);

    await issuer().issue(request('t-1'));

    expect(sent('AssumeRole')).toHaveLength(2);
    expect(await judge(grantIdFor(AGENT, 't-1'))).toBe('Allowed');
  });

  it('lets throttling out once the SDK gave up, and the next attempt revokes', async () => {
    const sessions = issuer();
    const req = request('t-1');
    await sessions.issue(req);
    injectFaults(engineIam as never, [{ operation: 'PutRolePolicy', error: throttling, times: 2 }]);

    await expect(sessions.revoke(targetOf(req))).rejects.toMatchObject({ name: 'Throttling', $metadata: { httpStatusCode: 400 } });
    expect(await sessions.revoke(targetOf(req))).toBe('revoked');
    expect(sent('PutRolePolicy')).toHaveLength(3);
  });

  it('runs sessions through their whole life, fault by fault', async () => {
    const sessions = issuer();
    const req = request('t-life', { ttlSeconds: 600 });
    const other = request('t-other', { ttlSeconds: 3600 });

    // Issue: STS throttled past the SDK's retries fails the issue; the next attempt issues.
    injectFaults(engineSts as never, [{ operation: 'AssumeRole', error: throttling, times: 2 }]);
    await expect(sessions.issue(req)).rejects.toMatchObject({ name: 'Throttling' });
    await sessions.issue(req);
    await sessions.issue(other);
    expect(await sessions.verify(targetOf(req))).toEqual({ verdict: 'accepted' });

    // Revoke: IAM throttled (Revocation Failed; the sweep retries), then a stale writer races the retry.
    injectFaults(engineIam as never, [{ operation: 'GetRolePolicy', error: throttling, times: 2 }]);
    await expect(sessions.revoke(targetOf(req))).rejects.toMatchObject({ name: 'Throttling' });
    const staleWrite = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'RevokedUntil1',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:SourceIdentity': 'g-other' } },
        },
      ],
    });
    let reads = 0;
    beforeCall(
      engineIam as never,
      'GetRolePolicy',
      async () => {
        if (++reads === 2)
          await moto.aws.iam.send(
            new PutRolePolicyCommand({ RoleName: ROLE, PolicyName: REVOKED_SESSIONS_POLICY_NAME, PolicyDocument: staleWrite }),
          );
      },
      2,
    );
    expect(await sessions.revoke(targetOf(req))).toBe('revoked');
    expect(await judge(req.grantId)).toBe('ExplicitlyDenied');
    expect(await sessions.verify(targetOf(req))).toEqual({ verdict: 'rejected', code: 'ExplicitDeny' });
    expect(await judge(other.grantId)).toBe('Allowed');

    // An hour later the other task ends; the first session has long expired and its entry is pruned
    // (its 15-minute window, plus the skew margin, ended at most 50 minutes after the start).
    clock.advance(60 * 60_000);
    expect(await sessions.revoke(targetOf(other))).toBe('revoked');
    expect(await deniedIds()).toEqual([other.grantId]);
    expect(await sessions.verify(targetOf(req))).toEqual({ verdict: 'rejected', code: 'ExpiredToken' });
    expect(await judge(other.grantId)).toBe('ExplicitlyDenied');
  });
});

describe('StsSessionIssuer with the canary on moto', () => {
  /**
   * The real canary probe: DescribeSecret on moto's canary secret, signed by the session.
   * IAM enforces a new deny only after some seconds: the first `denyTakesCalls` canary calls
   * after the revocation are answered as allowed, as IAM would while the deny propagates.
   */
  function canary(options: { denyTakesCalls?: number; probes?: string[] } = {}): SessionCanary {
    const propagation = {
      operation: 'DescribeSecret',
      times: options.denyTakesCalls ?? 0,
      error: () => new Error('unused'),
      answer: () => ({ output: { Name: CANARY_SECRET, $metadata: { httpStatusCode: 200 } }, response: { statusCode: 200, headers: {} } }),
      when: () => sent('PutRolePolicy').length > 0,
    };
    const probe = new SecretsManagerCanaryProbe({
      region: REGION,
      endpoint: moto.engineConfig.endpoint,
      canarySecretId: CANARY_SECRET,
      sleep,
      track: (client) => {
        jsonAccessDenied(client as never);
        injectFaults(client as never, [propagation]);
        // Added last, so it sits first after the SDK's retry step and sees the calls the fault answers too.
        beforeCall(
          client as never,
          'DescribeSecret',
          (_input, context) => void options.probes?.push(probeCredentialOf(context)?.accessKeyId ?? 'no credential'),
          Number.POSITIVE_INFINITY,
        );
      },
    });
    return { secretArnPattern: CANARY_PATTERN, probe, schedule: { attempts: 5, delayMs: 250 } };
  }

  it('gives every session the canary permission, and proves the fresh session may use it', async () => {
    const probes: string[] = [];

    const issued = await issuer({ canary: canary({ probes }) }).issue(request('t-1'));

    expect(JSON.parse(assumed[0]?.Policy ?? '').Statement).toContainEqual({
      Effect: 'Allow',
      Action: 'secretsmanager:DescribeSecret',
      Resource: CANARY_PATTERN,
    });
    expect(probes).toEqual([issued.accessKeyId]);
  });

  it('refuses to issue a session the canary does not answer: a later AccessDenied would prove nothing', async () => {
    // A role without the canary permission: moto refuses the call as IAM would.
    await moto.aws.iam.send(
      new PutRolePolicyCommand({
        RoleName: ROLE,
        PolicyName: 'no-canary',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Deny', Action: 'secretsmanager:DescribeSecret', Resource: '*' }],
        }),
      }),
    );

    await expect(issuer({ canary: canary() }).issue(request('t-1'))).rejects.toBeInstanceOf(CanaryMisconfiguredError);
  });

  it('verifies a revoked session only when a canary call is refused, after the deny has propagated', async () => {
    const probes: string[] = [];
    const sessions = issuer({ canary: canary({ denyTakesCalls: 2, probes }) });
    const req = request('t-1');
    const issued = await sessions.issue(req);
    await sessions.revoke(targetOf(req, issued));

    expect(await sessions.verify(targetOf(req, issued), issued)).toEqual({
      verdict: 'rejected',
      code: 'AccessDeniedException',
      observed: true,
    });
    expect(probes).toHaveLength(1 + 3);
    // moto itself now refuses the session's canary call.
    const signedBySession = new SecretsManagerCanaryProbe({
      region: REGION,
      endpoint: moto.engineConfig.endpoint,
      canarySecretId: CANARY_SECRET,
      track: (client) => jsonAccessDenied(client as never),
    });
    expect(await signedBySession.probe(issued)).toEqual({ verdict: 'rejected', code: 'AccessDeniedException', observed: true });
  });

  it('reports a session still accepted when its deny never takes within the schedule', async () => {
    const sessions = issuer({ canary: canary({ denyTakesCalls: 100 }) });
    const req = request('t-1');
    const issued = await sessions.issue(req);
    await sessions.revoke(targetOf(req, issued));

    expect(await sessions.verify(targetOf(req, issued), issued)).toEqual({ verdict: 'accepted' });
  });

  it("verifies right after its own revoke without reading the role's policy again, the canary deciding", async () => {
    const probes: string[] = [];
    const sessions = issuer({ canary: canary({ probes }) });
    const req = request('t-1');
    const issued = await sessions.issue(req);
    await sessions.revoke(targetOf(req, issued));
    const readsAfterRevoke = sent('GetRolePolicy').length;

    expect(await sessions.verify(targetOf(req, issued), issued)).toMatchObject({ verdict: 'rejected', observed: true });
    expect(sent('GetRolePolicy')).toHaveLength(readsAfterRevoke);
    // A second verify (the sweep's, later) reads the policy as before.
    await sessions.verify(targetOf(req, issued), issued);
    expect(sent('GetRolePolicy')).toHaveLength(readsAfterRevoke + 1);
  });

  it('does not probe a session whose grant is not in the deny, and infers death without the session at hand', async () => {
    const probes: string[] = [];
    const sessions = issuer({ canary: canary({ probes }) });
    const req = request('t-1');
    const issued = await sessions.issue(req);

    expect(await sessions.verify(targetOf(req, issued), issued)).toEqual({ verdict: 'accepted' });
    expect(probes).toHaveLength(1);
    await sessions.revoke(targetOf(req, issued));
    expect(await sessions.verify(targetOf(req, issued), undefined)).toEqual({ verdict: 'rejected', code: 'ExplicitDeny' });
  });
});

describe("StsSessionIssuer's kill switch on moto", () => {
  const OTHER_AGENT = 'deploy-bot';

  async function revokedBeforeDocument(roleName = ROLE): Promise<Record<string, unknown> | undefined> {
    const answer = await moto.aws.iam
      .send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: REVOKED_BEFORE_POLICY_NAME }))
      .catch(() => undefined);
    return answer?.PolicyDocument ? (JSON.parse(decodeURIComponent(answer.PolicyDocument)) as Record<string, unknown>) : undefined;
  }

  /** Would AWS let a session of `agentId`'s role, issued at `tokenIssueTime`, pull the repository? Judged with that role's denies as moto holds them. */
  async function judgeIssuedAt(agentId: string, grantId: string, tokenIssueTime: Date): Promise<Decision> {
    const roleName = `${ROLE_PREFIX}${agentId}`;
    const denies = [await revokedBeforeDocument(roleName)].filter((document) => document !== undefined);
    return decide(
      {
        principal: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${roleName}/${grantId}`,
        action: 'codecommit:GitPull',
        resource: PULL.Resource as string,
        context: { 'aws:SourceIdentity': grantId, 'aws:TokenIssueTime': tokenIssueTime.toISOString() },
      },
      { identity: [ALLOW_EVERYTHING, ...denies] },
    );
  }

  const issuedTarget = (req: IssueRequest, issuedAt: Date, issued?: IssuedCredential): RevokeTarget => ({
    ...targetOf(req, issued),
    issuedAt,
  });

  it("kills every session of the agent issued before the suspension with one deny on its role, and no other agent's", async () => {
    const sessions = issuer();
    const issuedAt = clock.now();
    const first = request('t-1');
    const second = request('t-2');
    await sessions.issue(first);
    await sessions.issue(second);
    clock.advance(1000);
    const issuedBefore = clock.now();

    await sessions.revokeAgent({ agentId: AGENT, issuedBefore });

    expect(sent('PutRolePolicy')).toHaveLength(1);
    const deny = await revokedBeforeDocument();
    expect(deny?.Statement).toEqual([
      {
        Sid: 'RevokedIssuedBefore',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:TokenIssueTime': denyTimeFor(issuedBefore).toISOString().replace('.000Z', 'Z') } },
      },
    ]);
    expect(await judgeIssuedAt(AGENT, first.grantId, issuedAt)).toBe('ExplicitlyDenied');
    expect(await judgeIssuedAt(AGENT, second.grantId, issuedAt)).toBe('ExplicitlyDenied');
    // A session issued after the deny's time (a resumed agent's next task) and another agent's sessions are untouched.
    expect(await judgeIssuedAt(AGENT, grantIdFor(AGENT, 't-later'), new Date(denyTimeFor(issuedBefore).getTime() + 1000))).toBe('Allowed');
    expect(await revokedBeforeDocument(`${ROLE_PREFIX}${OTHER_AGENT}`)).toBeUndefined();
    expect(await judgeIssuedAt(OTHER_AGENT, grantIdFor(OTHER_AGENT, 't-1'), issuedAt)).toBe('Allowed');
    // Without the session at hand the deny covering the grant is the proof; a grant issued after the suspension is not covered.
    expect(await sessions.verify(issuedTarget(first, issuedAt), undefined)).toEqual({ verdict: 'rejected', code: 'ExplicitDeny' });
    expect(await issuer().verify(issuedTarget(second, new Date(issuedBefore.getTime() + 1)), undefined)).toEqual({ verdict: 'accepted' });
  });

  it('keeps a later time already on the role and writes nothing', async () => {
    const sessions = issuer();
    const later = new Date(clock.now().getTime() + 60_000);
    await sessions.revokeAgent({ agentId: AGENT, issuedBefore: later });

    await issuer().revokeAgent({ agentId: AGENT, issuedBefore: clock.now() });

    expect(sent('PutRolePolicy')).toHaveLength(1);
    expect(JSON.stringify(await revokedBeforeDocument())).toContain(denyTimeFor(later).toISOString().replace('.000Z', 'Z'));
  });

  it("writes again when a concurrent suspension's earlier time landed over its own", async () => {
    const earlier = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'RevokedIssuedBefore',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { DateLessThan: { 'aws:TokenIssueTime': '2020-01-01T00:00:00Z' } },
        },
      ],
    });
    let reads = 0;
    beforeCall(
      engineIam as never,
      'GetRolePolicy',
      async () => {
        if (++reads === 2)
          await moto.aws.iam.send(
            new PutRolePolicyCommand({ RoleName: ROLE, PolicyName: REVOKED_BEFORE_POLICY_NAME, PolicyDocument: earlier }),
          );
      },
      2,
    );
    const issuedBefore = clock.now();

    await issuer().revokeAgent({ agentId: AGENT, issuedBefore });

    expect(sent('PutRolePolicy')).toHaveLength(2);
    expect(JSON.stringify(await revokedBeforeDocument())).toContain(denyTimeFor(issuedBefore).toISOString().replace('.000Z', 'Z'));
  });

  it('counts a session the agent-wide deny covers as revoked when the per-grant deny has no room left, and fails one it does not cover', async () => {
    const sessions = issuer({ revocationPolicyMaxChars: 300 });
    const issuedAt = clock.now();
    clock.advance(1000);
    await sessions.revokeAgent({ agentId: AGENT, issuedBefore: clock.now() });

    expect(await sessions.revoke(issuedTarget(request('t-covered'), issuedAt))).toBe('already-revoked');
    await expect(sessions.revoke(issuedTarget(request('t-after'), clock.now()))).rejects.toThrow(
      /too many revoked sessions of this agent are still unexpired/,
    );
  });
});
