import { describe, expect, it } from 'vitest';
import { note, openGrant, transition, type Grant, type RevocationTrigger } from '../../../lambdas/domain/grant';
import { grantIdFor } from '../../../lambdas/domain/ids';
import type { ActionClass } from '../../../lambdas/domain/policy';
import { buildGovernanceReport, type GovernanceReport } from '../../../lambdas/domain/report';

// A scenario whose every figure was worked out by hand (the comments give the arithmetic).
const DAY = '2026-11-28T';
const at = (time: string) => (time.includes('T') ? time : `${DAY}${time}Z`);
const UNTIL = new Date(at('12:00:00.000'));
const SINCE = new Date('2026-11-21T12:00:00.000Z');

function requested(agentId: string, taskId: string, time: string, actionClasses: readonly ActionClass[]): Grant {
  const opened = openGrant({
    grantId: grantIdFor(agentId, taskId),
    taskId,
    agentId,
    at: at(time),
    actor: 'dev@example.com',
    policyVersion: 'sha256:p',
    scopes: ['s'],
    requestedBy: 'dev@example.com',
  });
  return { ...opened, actionClasses };
}

function issued(grant: Grant, approvedAt: string, issuedAt: string, expiresAt = at('23:00:00.000')): Grant {
  const approving =
    grant.state === 'pending_approval'
      ? transition(grant, { to: 'issuing', at: at(approvedAt), actor: 'lead@example.com', action: 'approved', reason: 'ok' })
      : transition(grant, { to: 'issuing', at: at(approvedAt), actor: 'taskbound', action: 'auto-approved' });
  return transition(approving, { to: 'active', at: at(issuedAt), actor: 'taskbound', action: 'issued', changes: { expiresAt } });
}

function held(grant: Grant, time: string): Grant {
  return transition(grant, { to: 'pending_approval', at: at(time), actor: 'taskbound', action: 'held-for-approval' });
}

function revoking(grant: Grant, trigger: RevocationTrigger, noticeAt: string): Grant {
  return transition(grant, {
    to: 'revoking',
    at: at(noticeAt),
    actor: 'taskbound',
    action: `revoke:${trigger}`,
    changes: { revocation: { trigger, noticeAt: at(noticeAt), by: 'taskbound', reason: trigger } },
  });
}

const revoked = (grant: Grant, time: string) =>
  transition(grant, { to: 'revoked', at: at(time), actor: 'taskbound', action: 'revoked', changes: { revokedAt: at(time) } });
const verified = (grant: Grant, time: string) =>
  transition(grant, { to: 'verified', at: at(time), actor: 'taskbound', action: 'verified', changes: { verifiedAt: at(time) } });
/** An issued grant's revocation for `trigger`: notice, revoked, proven dead. */
const revokedThenVerified = (grant: Grant, trigger: RevocationTrigger, noticeAt: string, revokedAt: string, verifiedAt: string) =>
  verified(revoked(revoking(grant, trigger, noticeAt), revokedAt), verifiedAt);

// A: task ended after 600 s; lifetime 10:00:01 → 10:10:00.2 = 599,200 ms; 200 ms to revoke, 800 ms to verify.
const a = revokedThenVerified(
  issued(requested('release-bot', 'a', '10:00:00.000', ['read']), '10:00:00.500', '10:00:01.000'),
  'task_ended',
  '10:10:00.000',
  '10:10:00.200',
  '10:10:01.000',
);
// B: task ended after 300 s; lifetime 299,400 ms; 400 ms to revoke, 1,600 ms to verify; then the platform saw a use 60 s after notice.
const bVerified = revokedThenVerified(
  issued(requested('release-bot', 'b', '10:20:00.000', ['read']), '10:20:00.500', '10:20:01.000'),
  'task_ended',
  '10:25:00.000',
  '10:25:00.400',
  '10:25:02.000',
);
const b = note(bVerified, {
  at: at('11:55:00.000'),
  actor: 'taskbound',
  action: 'used-after-revocation',
  reason: `1 call(s) with the credential after its revocation at ${at('10:25:00.400')} (possible misuse)`,
  detail: { calls: [{ eventName: 'GetObject', eventSource: 's3.amazonaws.com', eventTime: at('10:26:00.000'), eventId: 'e-1' }] },
});
// C: expired at 11:15:01, revoked 3 s later, never proven dead: standing privilege for 44 min 59 s.
const c = revoked(
  revoking(issued(requested('release-bot', 'c', '11:00:00.000', ['read']), '11:00:00.500', '11:00:01.000'), 'expired', '11:15:01.000'),
  '11:15:04.000',
);
// D: approved after 120 s; leaked, revoked 1 s after notice, still valid 60 s after notice, revoked again and proven dead.
const dFirst = revoked(
  revoking(
    issued(held(requested('deploy-bot', 'd', '09:00:00.000', ['deploy']), '09:00:00.100'), '09:02:00.100', '09:02:01.000'),
    'leaked',
    '09:30:00.000',
  ),
  '09:30:01.000',
);
const dAgain = transition(dFirst, {
  to: 'revoking',
  at: at('09:31:00.000'),
  actor: 'taskbound',
  action: 'still-valid',
  reason: 'credential still accepted 60 s after notice; revoking again',
});
const d = verified(revoked(dAgain, '09:31:01.000'), '09:31:02.000');
// E: still waiting for an approver.
const e = held(requested('deploy-bot', 'e', '11:30:00.000', ['deploy']), '11:30:00.100');
// F: no one answered; the sweep closed it.
const f = transition(held(requested('deploy-bot', 'f', '08:00:00.000', ['deploy']), '08:00:00.100'), {
  to: 'denied',
  at: at('09:05:00.000'),
  actor: 'taskbound',
  action: 'denied',
  reason: `expired before a credential was issued: approval window closed at ${at('09:00:00.100')}`,
});
// G: denied by a person after 300 s.
const g = transition(held(requested('deploy-bot', 'g', '07:00:00.000', ['deploy']), '07:00:00.100'), {
  to: 'denied',
  at: at('07:05:00.100'),
  actor: 'sre@example.com',
  action: 'denied',
  reason: 'denied by sre@example.com: freeze',
});
// I: live and fine, but someone edited link 2 of its chain in the store.
const iHonest = issued(requested('release-bot', 'i', '11:45:00.000', ['read']), '11:45:00.500', '11:45:01.000', at('12:30:00.000'));
const i = { ...iHonest, audit: iHonest.audit.map((entry) => (entry.seq === 2 ? { ...entry, actor: 'mallory' } : entry)) };
// K: revoked by a suspension: 50 ms to revoke, 50 ms to verify; lifetime 11:40:01 → 11:50:00.05 = 599,050 ms.
const k = revokedThenVerified(
  issued(requested('ops-bot', 'k', '11:40:00.000', ['write']), '11:40:00.500', '11:40:01.000'),
  'suspended',
  '11:50:00.000',
  '11:50:00.050',
  '11:50:00.100',
);
// H: before the period, but its credential is still active long after its expiry: standing privilege all the same.
const h = issued(
  requested('release-bot', 'h', '2026-11-01T00:00:00.000Z', ['read']),
  '2026-11-01T00:00:00.500Z',
  '2026-11-01T00:00:01.000Z',
  '2026-11-01T00:15:00.000Z',
);

const suspended = { agentId: 'deploy-bot', suspended: true, by: 'secops@example.com', reason: 'drill', at: at('11:58:00.000') };

function scenario(): GovernanceReport {
  return buildGovernanceReport({
    grants: [a, b, c, d, e, f, g, i, k, h],
    agents: [suspended, { agentId: 'release-bot', suspended: false }],
    since: SINCE,
    until: UNTIL,
  });
}

describe('the governance report', () => {
  it('counts grants requested, issued, denied, pending and expired unanswered within the period', () => {
    const { overall } = scenario();
    expect(overall.grants).toEqual({ requested: 9, issued: 6, denied: 2, pending: 1, expiredUnanswered: 1, failed: 0 });
    expect(overall.byState).toEqual({ verified: 4, revoked: 1, pending_approval: 1, denied: 2, active: 1 });
    expect(overall.byTrigger).toEqual({ task_ended: 2, expired: 1, leaked: 1, suspended: 1 });
  });

  it('finds standing privilege in every grant, whatever the period', () => {
    const { overall } = scenario();
    expect(overall.standingPrivilege).toEqual({
      count: 2,
      credentials: [
        { grantId: c.grantId, agentId: 'release-bot', taskId: 'c', state: 'revoked', since: at('11:15:01.000'), forMs: 2_699_000 },
        {
          grantId: h.grantId,
          agentId: 'release-bot',
          taskId: 'h',
          state: 'active',
          since: '2026-11-01T00:15:00.000Z',
          forMs: Date.parse(at('12:00:00.000')) - Date.parse('2026-11-01T00:15:00.000Z'),
        },
      ],
    });
  });

  it('sets credential lifetime against task duration', () => {
    const { overall } = scenario();
    // Lifetimes 299,400 / 599,050 / 599,200 / 903,000 / 1,680,000; tasks 300,000 / 600,000 (only grants ended by their task).
    expect(overall.credentialLifetimeMs).toEqual({ count: 5, median: 599_200, p95: 1_680_000, max: 1_680_000 });
    expect(overall.taskDurationMs).toEqual({ count: 2, median: 300_000, p95: 600_000, max: 600_000 });
  });

  it('measures notice → revoked and revoked → verified from the first of each', () => {
    const { overall } = scenario();
    expect(overall.revocation.noticeToRevokedMs).toEqual({ count: 5, median: 400, p95: 3000, max: 3000 });
    // D counts from its first revocation to its proof of death: 61 s.
    expect(overall.revocation.revokedToVerifiedMs).toEqual({ count: 4, median: 800, p95: 61_000, max: 61_000 });
  });

  it('reports credentials still valid after notice and use after revocation', () => {
    const { overall } = scenario();
    expect(overall.stillValidAfterNotice).toMatchObject({
      count: 1,
      longestMs: 60_000,
      findings: [{ grantId: d.grantId, at: at('09:31:00.000'), afterNoticeMs: 60_000 }],
    });
    expect(overall.useAfterRevocation).toMatchObject({
      count: 1,
      findings: [{ grantId: b.grantId, at: at('10:26:00.000'), afterNoticeMs: 60_000 }],
    });
  });

  it('splits approvals by action class, automatic against manual, and times the decisions people made', () => {
    const { overall } = scenario();
    expect(overall.approvals.byClass).toEqual({
      read: { auto: 4, manual: 0, deniedByPeople: 0, expiredUnanswered: 0 },
      write: { auto: 1, manual: 0, deniedByPeople: 0, expiredUnanswered: 0 },
      deploy: { auto: 0, manual: 1, deniedByPeople: 1, expiredUnanswered: 1 },
    });
    expect(overall.approvals.timeToDecisionMs).toEqual({ count: 2, median: 120_000, p95: 300_000, max: 300_000 });
  });

  it('reports leaks with their time to kill, suspensions, and chains that do not verify', () => {
    const { overall } = scenario();
    expect(overall.leaks).toEqual({ count: 1, timeToKillMs: { count: 1, median: 1000, p95: 1000, max: 1000 } });
    expect(overall.suspensions).toEqual({ grantsRevoked: 1, suspendedNow: [suspended] });
    expect(overall.brokenChains).toEqual([
      { grantId: i.grantId, agentId: 'release-bot', taskId: 'i', brokenAt: 2, why: 'entry 2 was altered' },
    ]);
  });

  it('gives the same figures per agent', () => {
    const { agents } = scenario();
    expect(Object.keys(agents)).toEqual(['deploy-bot', 'ops-bot', 'release-bot']);
    expect(agents['deploy-bot']?.grants).toEqual({ requested: 4, issued: 1, denied: 2, pending: 1, expiredUnanswered: 1, failed: 0 });
    expect(agents['deploy-bot']?.suspensions.suspendedNow).toEqual([suspended]);
    expect(agents['release-bot']?.standingPrivilege.count).toBe(2);
    expect(agents['release-bot']?.credentialLifetimeMs).toEqual({ count: 3, median: 599_200, p95: 903_000, max: 903_000 });
    expect(agents['ops-bot']?.suspensions).toEqual({ grantsRevoked: 1, suspendedNow: [] });
  });

  it('keeps samples for the charts, revocations in notice order', () => {
    const { samples } = scenario();
    expect(samples.lifetimes).toHaveLength(5);
    expect(samples.revocations.map((sample) => sample.grantId)).toEqual([d, a, b, c, k].map((grant) => grant.grantId));
  });

  it('reports an empty period as zeros, without inventing statistics', () => {
    const report = buildGovernanceReport({ grants: [], agents: [], since: SINCE, until: UNTIL });
    expect(report.overall.grants).toEqual({ requested: 0, issued: 0, denied: 0, pending: 0, expiredUnanswered: 0, failed: 0 });
    expect(report.overall.credentialLifetimeMs).toEqual({ count: 0 });
    expect(report.overall.stillValidAfterNotice).toEqual({ count: 0, findings: [] });
    expect(report.agents).toEqual({});
  });
});

describe('governance report by account', () => {
  const PROD = '444455556666';
  const LOGS = '777788889999';
  // B (used after revocation) and C (standing privilege) in the prod spoke, K (suspension) in the logs spoke, A and D in the hub.
  const byAccount = (breakDown: boolean) =>
    buildGovernanceReport({
      grants: [a, { ...b, account: PROD }, { ...c, account: PROD }, d, { ...k, account: LOGS }],
      agents: [suspended, { agentId: 'release-bot', suspended: false }],
      since: SINCE,
      until: UNTIL,
      byAccount: breakDown,
    });

  it('keys the figures by account, the engine’s own first as hub', () => {
    expect(Object.keys(byAccount(true).accounts ?? {})).toEqual(['hub', PROD, LOGS]);
  });

  it('counts each account’s grants, revocations and findings apart, naming the account in each finding', () => {
    const { accounts } = byAccount(true);
    const prod = accounts?.[PROD];
    expect(prod?.grants).toEqual({ requested: 2, issued: 2, denied: 0, pending: 0, expiredUnanswered: 0, failed: 0 });
    // B 400 ms, C 3,000 ms from notice to revoked.
    expect(prod?.revocation.noticeToRevokedMs).toEqual({ count: 2, median: 400, p95: 3000, max: 3000 });
    expect(prod?.standingPrivilege.credentials).toEqual([
      {
        grantId: c.grantId,
        agentId: 'release-bot',
        taskId: 'c',
        state: 'revoked',
        account: PROD,
        since: at('11:15:01.000'),
        forMs: 2_699_000,
      },
    ]);
    expect(prod?.useAfterRevocation.findings).toEqual([
      expect.objectContaining({ grantId: b.grantId, account: PROD, afterNoticeMs: 60_000 }),
    ]);
    expect(accounts?.hub?.grants.requested).toBe(2);
    expect(accounts?.hub?.leaks.count).toBe(1);
    expect(accounts?.hub?.stillValidAfterNotice.findings).toEqual([expect.not.objectContaining({ account: expect.anything() })]);
    expect(accounts?.[LOGS]?.suspensions).toEqual({ grantsRevoked: 1, suspendedNow: [] });
    expect(accounts?.hub?.suspensions.suspendedNow).toEqual([suspended]);
  });

  it('leaves the report as it was without the breakdown', () => {
    expect(byAccount(false)).not.toHaveProperty('accounts');
    expect(byAccount(false).overall.grants.requested).toBe(5);
  });
});
