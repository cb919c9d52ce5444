import { describe, expect, it } from 'vitest';
import { decideApproval } from '../../../lambdas/domain/approval';
import { openGrant, transition, type Grant } from '../../../lambdas/domain/grant';

function pending(requiredApprovals: number, approvals: Grant['approvals'] = []): Grant {
  const opened = openGrant({
    grantId: 'g-1',
    taskId: 't',
    agentId: 'deploy-bot',
    at: '2026-01-01T00:00:00.000Z',
    actor: 'dev@example.com',
    policyVersion: 'v',
    scopes: ['refund'],
    owner: 'sre@example.com',
    requestedBy: 'dev@example.com',
  });
  return transition(opened, {
    to: 'pending_approval',
    at: '2026-01-01T00:00:00.000Z',
    actor: 'taskbound',
    action: 'held',
    changes: {
      requiredApprovals,
      eligibleApprovers: ['cfo@example.com', 'lead@example.com'],
      approvals,
      approvalDeadline: '2026-01-01T01:00:00.000Z',
    },
  });
}
const at = '2026-01-01T00:10:00.000Z';

describe('decideApproval', () => {
  it('refuses the owner, the requester and outsiders', () => {
    for (const approver of ['sre@example.com', 'dev@example.com', 'eve@example.com']) {
      expect(decideApproval(pending(1), { decision: 'approve', approver, reason: 'ok', at }).outcome).toBe('refused');
    }
  });

  it('refuses an approver who requested the task under another spelling of their id or role', () => {
    const people = {
      'lead@example.com': { awsPrincipals: ['arn:aws:iam::111122223333:role/lead'], slackUserIds: ['U0LEAD0001'] },
    };
    for (const requestedBy of ['Lead@Example.com', 'arn:aws:iam::111122223333:role/Lead']) {
      const grant = { ...pending(1), requestedBy };
      expect(decideApproval(grant, { decision: 'approve', approver: 'lead@example.com', reason: 'mine', at }, people)).toEqual({
        outcome: 'refused',
        reason: 'lead@example.com requested this task and may not decide it',
      });
    }
  });

  it('approves with one eligible approver when one is required', () => {
    expect(decideApproval(pending(1), { decision: 'approve', approver: 'lead@example.com', reason: 'ok', at })).toEqual({
      outcome: 'approved',
    });
  });

  it('counts the first of two approvals and refuses the same person twice', () => {
    expect(decideApproval(pending(2), { decision: 'approve', approver: 'lead@example.com', reason: 'ok', at })).toEqual({
      outcome: 'counted',
      remaining: 1,
    });
    const once = pending(2, [{ approver: 'lead@example.com', at, reason: 'ok' }]);
    expect(decideApproval(once, { decision: 'approve', approver: 'lead@example.com', reason: 'again', at }).outcome).toBe('refused');
    expect(decideApproval(once, { decision: 'approve', approver: 'cfo@example.com', reason: 'ok', at })).toEqual({ outcome: 'approved' });
  });

  it('denies on an eligible deny', () => {
    expect(decideApproval(pending(2), { decision: 'deny', approver: 'cfo@example.com', reason: 'no', at })).toMatchObject({
      outcome: 'denied',
    });
  });

  it('refuses decisions after the deadline and on settled grants', () => {
    expect(
      decideApproval(pending(1), { decision: 'approve', approver: 'lead@example.com', reason: 'ok', at: '2026-01-01T02:00:00.000Z' })
        .outcome,
    ).toBe('expired');
    const denied = transition(pending(1), { to: 'denied', at, actor: 'x', action: 'denied' });
    expect(decideApproval(denied, { decision: 'approve', approver: 'lead@example.com', reason: 'ok', at }).outcome).toBe('refused');
  });
});
