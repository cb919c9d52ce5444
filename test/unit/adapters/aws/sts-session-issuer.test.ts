import { GetRolePolicyCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StsCredentialProbe } from '../../../../lambdas/adapters/aws/sts-credential-probe';
import { StsSessionIssuer, type StsSessionIssuerOptions } from '../../../../lambdas/adapters/aws/sts-session-issuer';
import { REVOKED_SESSIONS_POLICY_NAME } from '../../../../lambdas/adapters/aws/revoked-sessions-policy';
import { TaskboundError, UnissuableRequestError } from '../../../../lambdas/domain/errors';
import { grantIdFor } from '../../../../lambdas/domain/ids';
import type { PolicyStatement } from '../../../../lambdas/domain/policy';
import type { CredentialMaterial, IssueRequest, IssuedCredential, ProbeVerdict, RevokeTarget } from '../../../../lambdas/ports';
import { CanaryMisconfiguredError } from '../../../../lambdas/adapters/aws/canary-probe';
import { FakeIam } from '../../../helpers/fake-iam';
import { FakeClock } from '../../../helpers/fake-ports';
import { FakeSts } from '../../../helpers/fake-sts';

const AGENT = 'release-bot';
const ROLE = `taskbound-agent-${AGENT}`;
const PULL: PolicyStatement = { Effect: 'Allow', Action: 'codecommit:GitPull', Resource: 'arn:aws:codecommit:us-east-1:111122223333:web' };
const ENGINE_CREDENTIALS = { accessKeyId: 'AKIAENGINEEXAMPLE000', secretAccessKey: 'engine-secret' };

let clock: FakeClock;
let iam: FakeIam;
let sts: FakeSts;

beforeEach(() => {
  clock = new FakeClock();
  iam = new FakeIam({ clock });
  sts = new FakeSts({ clock, iam });
  iam.addRole(ROLE, 3600);
});

afterEach(() => {
  sts.restore();
  iam.restore();
});

function issuer(overrides: Partial<StsSessionIssuerOptions> = {}): StsSessionIssuer {
  return new StsSessionIssuer({
    sts: new STSClient({ region: 'us-east-1', credentials: ENGINE_CREDENTIALS }),
    iam: new IAMClient({ region: 'us-east-1', credentials: ENGINE_CREDENTIALS }),
    clock,
    accountId: '111122223333',
    rolePrefix: 'taskbound-agent-',
    roleMaxSessionSeconds: 3600,
    sleep: async (ms) => clock.advance(ms),
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

function targetOf(issued: IssuedCredential, req: IssueRequest): RevokeTarget {
  return { grantId: req.grantId, agentId: req.agentId, taskId: req.taskId, kind: 'aws-sts-session', accessKeyId: issued.accessKeyId, expiresAt: issued.expiresAt };
}

function deniedIds(): string[] {
  const document = iam.roles.get(ROLE)?.policies.get(REVOKED_SESSIONS_POLICY_NAME);
  if (!document) return [];
  return (JSON.parse(document).Statement as { Condition?: { StringEquals: Record<string, string[]> } }[]).flatMap(
    (statement) => statement.Condition?.StringEquals['aws:SourceIdentity'] ?? [],
  );
}

describe('StsSessionIssuer', () => {
  it("assumes the agent's role with the session policy, grant tags, SourceIdentity and the task's TTL", async () => {
    const req = request('t-1', { brokeredSecretArns: ['arn:aws:secretsmanager:us-east-1:111122223333:secret:stripe-key'] });

    const issued = await issuer().issue(req);

    expect(sts.assumeRoleInputs()).toEqual([
      {
        RoleArn: `arn:aws:iam::111122223333:role/${ROLE}`,
        RoleSessionName: req.grantId,
        SourceIdentity: req.grantId,
        DurationSeconds: 1800,
        Policy:
          '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"codecommit:GitPull","Resource":"arn:aws:codecommit:us-east-1:111122223333:web"},' +
          '{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":["arn:aws:secretsmanager:us-east-1:111122223333:secret:stripe-key","arn:aws:secretsmanager:us-east-1:111122223333:secret:stripe-key-??????"]}]}',
        Tags: [
          { Key: 'taskbound:grant-id', Value: req.grantId },
          { Key: 'taskbound:task-id', Value: 't-1' },
          { Key: 'taskbound:agent-id', Value: AGENT },
        ],
      },
    ]);
    expect(issued).toMatchObject({ kind: 'aws-sts-session', principalArn: `arn:aws:sts::111122223333:assumed-role/${ROLE}/${req.grantId}`, expiresAt: req.expiresAt });
    expect(issued.accessKeyId).toMatch(/^ASIA/);
    expect(issued.sessionToken).toBeTruthy();
    expect(sts.authorize(issued, 'codecommit:GitPull')).toBe('Allowed');
    expect(sts.authorize(issued, 's3:GetObject')).toBe('ImplicitDeny');
  });

  it("clamps the duration to STS's 900 s floor and the role's maximum, and reports the earlier end", async () => {
    const short = request('t-short', { ttlSeconds: 60 });
    const long = request('t-long', { ttlSeconds: 7200 });

    const shortIssued = await issuer().issue(short);
    const longIssued = await issuer().issue(long);

    expect(sts.assumeRoleInputs().map((input) => input.DurationSeconds)).toEqual([900, 3600]);
    expect(shortIssued.expiresAt).toEqual(short.expiresAt);
    expect(longIssued.expiresAt).toEqual(new Date(clock.now().getTime() + 3600 * 1000));
  });

  it("revokes one session with a deny on its source identity and leaves the agent's other sessions working", async () => {
    const sessions = issuer();
    const first = request('t-1');
    const second = request('t-2');
    const firstIssued = await sessions.issue(first);
    const secondIssued = await sessions.issue(second);

    expect(await sessions.revoke(targetOf(firstIssued, first))).toBe('revoked');

    expect(deniedIds()).toEqual([first.grantId]);
    expect(sts.authorize(firstIssued, 'codecommit:GitPull')).toBe('ExplicitDeny');
    expect(sts.authorize(secondIssued, 'codecommit:GitPull')).toBe('Allowed');
    expect(await sessions.verify(targetOf(firstIssued, first))).toEqual({ verdict: 'rejected', code: 'ExplicitDeny' });
    expect(await sessions.verify(targetOf(secondIssued, second))).toEqual({ verdict: 'accepted' });
  });

  it('answers already-revoked to a second revocation without writing again', async () => {
    const sessions = issuer();
    const req = request('t-1');
    const issued = await sessions.issue(req);
    await sessions.revoke(targetOf(issued, req));

    expect(await sessions.revoke(targetOf(issued, req))).toBe('already-revoked');
    expect(iam.inputs(PutRolePolicyCommand)).toHaveLength(1);
  });

  it('denies a session that is issued after its grant was revoked (Task Ended before Task Started)', async () => {
    const sessions = issuer();
    const req = request('t-early');
    await sessions.revoke({ grantId: req.grantId, agentId: AGENT, taskId: req.taskId, kind: 'aws-sts-session' });

    const issued = await sessions.issue(req);

    expect(sts.authorize(issued, 'codecommit:GitPull')).toBe('ExplicitDeny');
  });

  it('verifies by the deny, because GetCallerIdentity still answers a revoked session', async () => {
    const sessions = issuer();
    const req = request('t-1');
    const issued = await sessions.issue(req);
    await sessions.revoke(targetOf(issued, req));

    const probe = new StsCredentialProbe({ region: 'us-east-1' });

    expect(await probe.probe(issued)).toEqual({ verdict: 'accepted' });
    expect(await sessions.verify(targetOf(issued, req))).toEqual({ verdict: 'rejected', code: 'ExplicitDeny' });
  });

  it('calls an expired session dead and spends no deny on it', async () => {
    const sessions = issuer();
    const req = request('t-1', { ttlSeconds: 60 });
    const issued = await sessions.issue(req);

    clock.advance(60_000);
    expect(await sessions.verify(targetOf(issued, req))).toEqual({ verdict: 'accepted' });

    clock.advance((900 + 300) * 1000 + 1);
    expect(sts.authorize(issued, 'codecommit:GitPull')).toBe('ExpiredToken');
    expect(await sessions.verify(targetOf(issued, req))).toEqual({ verdict: 'rejected', code: 'ExpiredToken' });
    expect(await sessions.revoke(targetOf(issued, req))).toBe('already-revoked');
    expect(iam.inputs(PutRolePolicyCommand)).toHaveLength(0);
  });

  it('prunes revoked sessions once they have expired, keeping the deny within its budget', async () => {
    const budget = 800;
    const sessions = issuer({ revocationPolicyMaxChars: budget });
    const revokedOverTime: string[] = [];
    for (let index = 0; index < 20; index++) {
      const req = request(`t-${index}`, { ttlSeconds: 900 });
      const issued = await sessions.issue(req);
      await sessions.revoke(targetOf(issued, req));
      revokedOverTime.push(req.grantId);
      clock.advance(15 * 60_000);
    }

    const written = iam.inputs(PutRolePolicyCommand).map((input) => input.PolicyDocument ?? '');
    expect(written).toHaveLength(20);
    expect(Math.max(...written.map((document) => document.length))).toBeLessThanOrEqual(budget);
    expect(deniedIds()).toContain(revokedOverTime.at(-1));
    expect(deniedIds()).not.toContain(revokedOverTime[0]);
  });

  it('fails the revocation loudly when unexpired revoked sessions outgrow the deny, writing nothing over budget', async () => {
    const sessions = issuer({ revocationPolicyMaxChars: 300 });
    const requests = Array.from({ length: 6 }, (_, index) => request(`t-${index}`));
    const issued = await Promise.all(requests.map((req) => sessions.issue(req)));
    const outcomes: unknown[] = [];
    for (const [index, req] of requests.entries()) {
      outcomes.push(await sessions.revoke(targetOf(issued[index]!, req)).catch((error: unknown) => error));
    }

    const failure = outcomes.find((outcome) => outcome instanceof TaskboundError);
    expect(failure).toBeInstanceOf(TaskboundError);
    expect((failure as Error).message).toMatch(/too many revoked sessions of this agent are still unexpired/);
    expect(Math.max(...iam.inputs(PutRolePolicyCommand).map((input) => input.PolicyDocument?.length ?? 0))).toBeLessThanOrEqual(300);
  });

  it('keeps statements it did not write in the deny policy', async () => {
    const foreign = { Sid: 'BreakGlass', Effect: 'Deny', Action: 'iam:*', Resource: '*' };
    iam.roles.get(ROLE)?.policies.set(REVOKED_SESSIONS_POLICY_NAME, JSON.stringify({ Version: '2012-10-17', Statement: [foreign] }));
    const sessions = issuer();
    const req = request('t-1');

    await sessions.revoke(targetOf(await sessions.issue(req), req));

    const statements = JSON.parse(iam.roles.get(ROLE)?.policies.get(REVOKED_SESSIONS_POLICY_NAME) ?? '{}').Statement;
    expect(statements[0]).toEqual(foreign);
    expect(deniedIds()).toEqual([req.grantId]);
  });

  it('writes again when a concurrent revocation overwrote the deny from a stale read', async () => {
    const sessions = issuer();
    const req = request('t-1');
    const issued = await sessions.issue(req);
    const stale = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'RevokedUntil1', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:SourceIdentity': ['g-other'] } } }] });
    let reads = 0;
    iam.intercept(
      'GetRolePolicy',
      () => {
        reads += 1;
        // The second read is our check after writing: the other revoker's stale write lands first.
        if (reads === 2) iam.roles.get(ROLE)?.policies.set(REVOKED_SESSIONS_POLICY_NAME, stale);
      },
      2,
    );

    expect(await sessions.revoke(targetOf(issued, req))).toBe('revoked');

    expect(iam.inputs(PutRolePolicyCommand)).toHaveLength(2);
    expect(deniedIds()).toContain(req.grantId);
  });

  it('loses no grant when two revocations race on the same role', async () => {
    const sessions = issuer();
    const requests = [request('t-a'), request('t-b'), request('t-c')];
    const issued = await Promise.all(requests.map((req) => sessions.issue(req)));

    const outcomes = await Promise.all(requests.map((req, index) => sessions.revoke(targetOf(issued[index]!, req))));

    expect(outcomes).toEqual(['revoked', 'revoked', 'revoked']);
    expect(deniedIds().sort()).toEqual(requests.map((req) => req.grantId).sort());
    for (const credential of issued) expect(sts.authorize(credential, 'codecommit:GitPull')).toBe('ExplicitDeny');
  });

  it('refuses a scope set too large for a session policy before calling STS', async () => {
    const statements = Array.from({ length: 20 }, (_, index) => ({ ...PULL, Resource: `arn:aws:codecommit:us-east-1:111122223333:repository-number-${index}` }));

    await expect(issuer().issue(request('t-big', { statements }))).rejects.toThrow(UnissuableRequestError);
    expect(sts.assumeRoleInputs()).toHaveLength(0);
  });

  it("turns STS's PackedPolicyTooLarge into a refusal with its reason", async () => {
    sts.restore();
    sts = new FakeSts({ clock, iam, packedCapacityChars: 200 });

    const attempt = issuer().issue(request('t-1'));

    await expect(attempt).rejects.toThrow(UnissuableRequestError);
    await expect(attempt).rejects.toThrow(/packed size limit \(Packed policy consumes \d+% of allotted space/);
  });

  it('lets a missing agent role fail the issue as an error, not a refusal', async () => {
    const attempt = issuer().issue({ ...request('t-1'), agentId: 'unknown-agent' });

    await expect(attempt).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(attempt).rejects.not.toBeInstanceOf(UnissuableRequestError);
  });

  it('lets throttling out once the SDK gave up, and the next attempt revokes', async () => {
    const sessions = issuer();
    const req = request('t-1');
    const issued = await sessions.issue(req);
    iam.throttle('PutRolePolicy');

    await expect(sessions.revoke(targetOf(issued, req))).rejects.toMatchObject({ name: 'Throttling', $metadata: { httpStatusCode: 400 } });
    expect(await sessions.revoke(targetOf(issued, req))).toBe('revoked');
    expect(iam.mock.commandCalls(GetRolePolicyCommand).length).toBeGreaterThan(0);
  });

  it('runs sessions through their whole life, fault by fault', async () => {
    const sessions = issuer();
    const req = request('t-life', { ttlSeconds: 600 });
    const other = request('t-other', { ttlSeconds: 3600 });

    // Issue: STS throttled past the SDK's retries fails the issue; the next attempt issues.
    sts.throttleAssumeRole();
    await expect(sessions.issue(req)).rejects.toMatchObject({ name: 'Throttling' });
    const issued = await sessions.issue(req);
    const otherIssued = await sessions.issue(other);
    expect(await sessions.verify(targetOf(issued, req))).toEqual({ verdict: 'accepted' });

    // Revoke: IAM throttled (Revocation Failed; the sweep retries), then a stale writer races the retry.
    iam.throttle('GetRolePolicy');
    await expect(sessions.revoke(targetOf(issued, req))).rejects.toMatchObject({ name: 'Throttling' });
    const staleWrite = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'RevokedUntil1', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:SourceIdentity': 'g-other' } } }] });
    iam.intercept('GetRolePolicy', () => undefined);
    iam.intercept('GetRolePolicy', () => {
      iam.roles.get(ROLE)?.policies.set(REVOKED_SESSIONS_POLICY_NAME, staleWrite);
    });
    expect(await sessions.revoke(targetOf(issued, req))).toBe('revoked');
    expect(sts.authorize(issued, 'codecommit:GitPull')).toBe('ExplicitDeny');
    expect(await sessions.verify(targetOf(issued, req))).toEqual({ verdict: 'rejected', code: 'ExplicitDeny' });
    expect(sts.authorize(otherIssued, 'codecommit:GitPull')).toBe('Allowed');

    // Later the other task ends; the first session has long expired and its entry is pruned.
    clock.advance(45 * 60_000);
    expect(await sessions.revoke(targetOf(otherIssued, other))).toBe('revoked');
    expect(deniedIds()).toEqual([other.grantId]);
    expect(await sessions.verify(targetOf(issued, req))).toEqual({ verdict: 'rejected', code: 'ExpiredToken' });
    expect(sts.authorize(otherIssued, 'codecommit:GitPull')).toBe('ExplicitDeny');
  });
});

describe('StsSessionIssuer with the canary', () => {
  const CANARY = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:taskbound-engine/canary-??????';

  /**
   * DescribeSecret on the canary, judged as IAM would (the session policy and the role's deny,
   * through FakeSts); IAM enforces a new deny only after `denyTakesProbes` more calls.
   */
  function canaryOverSts(denyTakesProbes = 0) {
    const calls: string[] = [];
    let pending = denyTakesProbes;
    const probe = async (material: CredentialMaterial): Promise<ProbeVerdict> => {
      calls.push(material.accessKeyId);
      const decision = sts.authorize(material, 'secretsmanager:DescribeSecret');
      if (decision === 'Allowed') return { verdict: 'accepted' };
      if (decision === 'ExplicitDeny' && pending-- > 0) return { verdict: 'accepted' };
      return { verdict: 'rejected', code: decision === 'ExplicitDeny' || decision === 'ImplicitDeny' ? 'AccessDeniedException' : decision, observed: true };
    };
    const probeUntilRejected = async (material: CredentialMaterial, schedule = { attempts: 1 }) => {
      let verdict = await probe(material);
      for (let attempt = 1; attempt < schedule.attempts && verdict.verdict !== 'rejected'; attempt++) verdict = await probe(material);
      return verdict;
    };
    return { calls, canary: { secretArnPattern: CANARY, probe: { probe, probeUntilRejected }, schedule: { attempts: 5, delayMs: 250 } } };
  }

  it('gives every session the canary permission, and proves the fresh session may use it', async () => {
    const { calls, canary } = canaryOverSts();
    const req = request('t-1');

    const issued = await issuer({ canary }).issue(req);

    expect(JSON.parse(sts.assumeRoleInputs()[0]!.Policy!).Statement).toContainEqual({ Effect: 'Allow', Action: 'secretsmanager:DescribeSecret', Resource: CANARY });
    expect(calls).toEqual([issued.accessKeyId]);
  });

  it('refuses to issue a session the canary does not answer: a later AccessDenied would prove nothing', async () => {
    const { canary } = canaryOverSts();
    const refusing = { ...canary, probe: { ...canary.probe, probe: async (): Promise<ProbeVerdict> => ({ verdict: 'rejected', code: 'AccessDeniedException', observed: true }) } };

    await expect(issuer({ canary: refusing }).issue(request('t-1'))).rejects.toBeInstanceOf(CanaryMisconfiguredError);
  });

  it('verifies a revoked session only when a canary call is refused, after the deny has propagated', async () => {
    const { calls, canary } = canaryOverSts(2);
    const sessions = issuer({ canary });
    const req = request('t-1');
    const issued = await sessions.issue(req);
    await sessions.revoke(targetOf(issued, req));

    expect(await sessions.verify(targetOf(issued, req), issued)).toEqual({ verdict: 'rejected', code: 'AccessDeniedException', observed: true });
    expect(calls).toHaveLength(1 + 3);
  });

  it('reports a session still accepted when its deny never takes within the schedule', async () => {
    const { canary } = canaryOverSts(100);
    const sessions = issuer({ canary });
    const req = request('t-1');
    const issued = await sessions.issue(req);
    await sessions.revoke(targetOf(issued, req));

    expect(await sessions.verify(targetOf(issued, req), issued)).toEqual({ verdict: 'accepted' });
  });

  it('verifies right after its own revoke without reading the role\'s policy again, the canary deciding', async () => {
    const { calls, canary } = canaryOverSts();
    const sessions = issuer({ canary });
    const req = request('t-1');
    const issued = await sessions.issue(req);
    await sessions.revoke(targetOf(issued, req));
    const readsAfterRevoke = iam.mock.commandCalls(GetRolePolicyCommand).length;

    expect(await sessions.verify(targetOf(issued, req), issued)).toMatchObject({ verdict: 'rejected', observed: true });
    expect(iam.mock.commandCalls(GetRolePolicyCommand)).toHaveLength(readsAfterRevoke);
    expect(calls).toHaveLength(2);
    // A second verify (the sweep's, later) reads the policy as before.
    await sessions.verify(targetOf(issued, req), issued);
    expect(iam.mock.commandCalls(GetRolePolicyCommand)).toHaveLength(readsAfterRevoke + 1);
  });

  it('does not probe a session whose grant is not in the deny, and infers death without the session at hand', async () => {
    const { calls, canary } = canaryOverSts();
    const sessions = issuer({ canary });
    const req = request('t-1');
    const issued = await sessions.issue(req);

    expect(await sessions.verify(targetOf(issued, req), issued)).toEqual({ verdict: 'accepted' });
    expect(calls).toHaveLength(1);
    await sessions.revoke(targetOf(issued, req));
    expect(await sessions.verify(targetOf(issued, req), undefined)).toEqual({ verdict: 'rejected', code: 'ExplicitDeny' });
  });
});
