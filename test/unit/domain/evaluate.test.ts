import { describe, expect, it } from 'vitest';
import { evaluateTaskRequest, type TaskRequest } from '../../../lambdas/domain/evaluate';
import { testPolicy } from '../../helpers/test-policy';

const policy = testPolicy();
const request = (overrides: Partial<TaskRequest> = {}): TaskRequest => ({
  agentId: 'release-bot',
  taskId: 't-1',
  purpose: 'bump lodash',
  requestedBy: 'dev@example.com',
  scopes: ['repo-read'],
  ...overrides,
});
const standing = { suspended: false, liveGrants: 0 };

describe('evaluateTaskRequest', () => {
  it('auto-approves read scopes with the agent default TTL', () => {
    const decision = evaluateTaskRequest(policy, request(), standing);
    expect(decision).toMatchObject({
      outcome: 'auto-approved',
      ttlSeconds: 900,
      credentialKind: 'aws-sts-session',
      actionClasses: ['read'],
    });
  });

  it.each([
    [{ agentId: 'ghost-bot' }, standing, /not registered/],
    [{ scopes: ['nope'] }, standing, /scope "nope" is not defined/],
    // A scope the agent does not hold is refused as such, even one above its tier.
    [{ scopes: ['deploy-web'] }, standing, /scope "deploy-web" is not allowed for agent "release-bot"/],
    [{ scopes: ['bucket-read-key'] }, standing, /not allowed for agent/],
    [{ ttlSeconds: 1801 }, standing, /above agent "release-bot" maximum of 1800/],
    [{}, { suspended: true, liveGrants: 0 }, /suspended/],
    [{}, { suspended: false, liveGrants: 2 }, /already holds 2 live grants \(maximum 2\)/],
  ])('denies %j with a reason', (overrides, agentStanding, reason) => {
    const decision = evaluateTaskRequest(policy, request(overrides), agentStanding);
    expect(decision.outcome).toBe('denied');
    expect(decision.outcome === 'denied' && decision.reason).toMatch(reason);
  });

  it('denies a scope above the risk tier of an agent that holds it (a policy the loader would refuse, built by hand)', () => {
    const agent = policy.agents['release-bot']!;
    const loosened = { ...policy, agents: { ...policy.agents, 'release-bot': { ...agent, scopes: [...agent.scopes, 'deploy-web'] } } };
    const decision = evaluateTaskRequest(loosened, request({ scopes: ['deploy-web'] }), standing);
    expect(decision).toMatchObject({ outcome: 'denied', reason: expect.stringMatching(/above agent risk tier medium/) });
  });

  // The engine assumes agent roles from its Lambda role's session: AWS refuses a session started from
  // another (role chaining) longer than one hour, so such a grant would fail at AssumeRole on AWS.
  it('denies an aws-sts-session task longer than an hour, which STS refuses to a role-chained session, and not an access key', () => {
    const agent = policy.agents['deploy-bot']!;
    const longer = { ...policy, agents: { ...policy.agents, 'deploy-bot': { ...agent, maxTtlSeconds: 7200 } } };
    const session = evaluateTaskRequest(longer, request({ agentId: 'deploy-bot', scopes: ['repo-read'], ttlSeconds: 3601 }), standing);
    expect(session).toMatchObject({
      outcome: 'denied',
      reason: expect.stringMatching(/ttlSeconds 3601 is above 3600 for an aws-sts-session/),
    });
    expect(evaluateTaskRequest(longer, request({ agentId: 'deploy-bot', scopes: ['repo-read'], ttlSeconds: 3600 }), standing).outcome).toBe(
      'auto-approved',
    );
    const key = evaluateTaskRequest(longer, request({ agentId: 'deploy-bot', scopes: ['bucket-read-key'], ttlSeconds: 7200 }), standing);
    expect(key).toMatchObject({ outcome: 'auto-approved', ttlSeconds: 7200, credentialKind: 'aws-iam-access-key' });
  });

  it('denies mixing credential kinds in one task', () => {
    const decision = evaluateTaskRequest(policy, request({ agentId: 'deploy-bot', scopes: ['repo-read', 'refund'] }), standing);
    expect(decision).toMatchObject({ outcome: 'denied', reason: expect.stringMatching(/different credential kinds/) });
  });

  it('holds deploy scopes for one approver, excluding the owner', () => {
    const decision = evaluateTaskRequest(policy, request({ agentId: 'deploy-bot', scopes: ['deploy-web'] }), standing);
    expect(decision).toMatchObject({ outcome: 'needs-approval', requiredApprovals: 1, eligibleApprovers: ['lead@example.com'] });
  });

  it('holds transact scopes for two approvers, excluding owner and requester', () => {
    const decision = evaluateTaskRequest(
      policy,
      request({ agentId: 'deploy-bot', scopes: ['refund'], requestedBy: 'cfo@example.com' }),
      standing,
    );
    // Owner sre@ and requester cfo@ are out: only lead@ remains, fewer than the two needed.
    expect(decision).toMatchObject({ outcome: 'denied', reason: expect.stringMatching(/needs 2 approvals but only 1/) });
  });

  it.each(['LEAD@Example.com', 'arn:aws:iam::111122223333:role/LEAD', 'arn:aws:sts::111122223333:assumed-role/Lead/laptop', 'u0lead0001'])(
    'excludes the requester written as %s, another spelling of an approver',
    (requestedBy) => {
      // Owner sre@ is out, and the requester is lead@ however spelled: nobody is left to approve deploy-web.
      const decision = evaluateTaskRequest(policy, request({ agentId: 'deploy-bot', scopes: ['deploy-web'], requestedBy }), standing);
      expect(decision).toMatchObject({ outcome: 'denied', reason: expect.stringMatching(/needs 1 approvals but only 0/) });
    },
  );

  it('collects brokered secrets of the requested scopes', () => {
    const decision = evaluateTaskRequest(policy, request({ agentId: 'deploy-bot', scopes: ['refund'] }), standing);
    expect(decision).toMatchObject({
      outcome: 'needs-approval',
      credentialKind: 'aws-iam-access-key',
      brokeredSecrets: [{ arn: expect.stringContaining('stripe-key'), rotateAfterUse: true }],
      eligibleApprovers: ['cfo@example.com', 'lead@example.com'],
    });
  });
});
