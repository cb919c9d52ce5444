import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  canTransition,
  GRANT_STATES,
  note,
  openGrant,
  transition,
  verifyGrantAudit,
  type Grant,
  type GrantState,
} from '../../../lambdas/domain/grant';
import { verifyChain } from '../../../lambdas/domain/audit';
import { IllegalTransitionError } from '../../../lambdas/domain/errors';
import { dueAtOf } from '../../../lambdas/domain/due';
import { grantIdFor } from '../../../lambdas/domain/ids';

const openingOf = () => ({
  grantId: 'g-1',
  taskId: 't',
  agentId: 'a',
  at: '2026-01-01T00:00:00.000Z',
  actor: 'dev',
  policyVersion: 'v1',
  scopes: ['repo-read'],
});
const opened = () => openGrant(openingOf());

describe('grant state machine', () => {
  it('walks the happy path with a verifiable audit chain', () => {
    let grant = opened();
    for (const to of ['issuing', 'active', 'revoking', 'revoked', 'verified'] as const) {
      grant = transition(grant, { to, at: '2026-01-01T00:00:01.000Z', actor: 'taskbound', action: to });
    }
    expect(grant.state).toBe('verified');
    expect(grant.audit.map((entry) => entry.to)).toEqual([undefined, 'issuing', 'active', 'revoking', 'revoked', 'verified']);
    expect(verifyChain(grant.grantId, grant.audit)).toEqual({ ok: true });
    expect(grant.version).toBe(6);
  });

  it('refuses moves the machine does not allow', () => {
    expect(() => transition(opened(), { to: 'active', at: 'x', actor: 'y', action: 'z' })).toThrow(IllegalTransitionError);
  });

  it('never leaves a final state, whatever is tried', () => {
    fc.assert(
      fc.property(fc.constantFrom(...GRANT_STATES), (to: GrantState) => {
        for (const final of ['verified', 'denied', 'failed'] as const) expect(canTransition(final, to)).toBe(false);
      }),
    );
  });
});

describe('dueAtOf', () => {
  it('is the expiry for active grants and nothing once verified', () => {
    const issuing = transition(opened(), { to: 'issuing', at: '2026-01-01T00:00:00.000Z', actor: 't', action: 'a' });
    const active = transition(issuing, {
      to: 'active',
      at: '2026-01-01T00:00:00.000Z',
      actor: 't',
      action: 'a',
      changes: { expiresAt: '2026-01-01T00:15:00.000Z' },
    });
    expect(dueAtOf(active)).toBe('2026-01-01T00:15:00.000Z');
    const revoking = transition(active, { to: 'revoking', at: '2026-01-01T00:05:00.000Z', actor: 't', action: 'a' });
    const revoked = transition(revoking, { to: 'revoked', at: '2026-01-01T00:05:00.000Z', actor: 't', action: 'a' });
    expect(dueAtOf(revoked)).toBe('2026-01-01T00:06:00.000Z');
    expect(dueAtOf(transition(revoked, { to: 'verified', at: 'x', actor: 't', action: 'a' }))).toBeUndefined();
  });

  it('keeps a verified grant due while it still names a delivery (a kill switch deletes them after the proofs)', () => {
    const at = '2026-01-01T00:05:00.000Z';
    const issuing = transition(opened(), { to: 'issuing', at, actor: 't', action: 'a' });
    const active = transition(issuing, { to: 'active', at, actor: 't', action: 'a', changes: { deliverySecret: 'taskbound/a/t' } });
    const revoked = transition(transition(active, { to: 'revoking', at, actor: 't', action: 'a' }), {
      to: 'revoked',
      at,
      actor: 't',
      action: 'a',
    });
    const verified = transition(revoked, { to: 'verified', at, actor: 't', action: 'a' });

    expect(dueAtOf(verified)).toBe('2026-01-01T00:06:00.000Z');
    expect(dueAtOf({ ...verified, misuseCheckAt: '2026-01-01T00:05:30.000Z' })).toBe('2026-01-01T00:05:30.000Z');
    expect(dueAtOf({ ...verified, misuseCheckAt: '2026-01-01T00:20:00.000Z' })).toBe('2026-01-01T00:06:00.000Z');
    expect(dueAtOf({ ...verified, deliverySecret: undefined, misuseCheckAt: '2026-01-01T00:20:00.000Z' })).toBe('2026-01-01T00:20:00.000Z');
  });
});

describe('dueAtOf a refusal', () => {
  it("keeps a failed grant's delivery readable as long as a denial's, so its runtime can read why", () => {
    const issuing = transition(opened(), { to: 'issuing', at: '2026-01-01T00:00:00.000Z', actor: 't', action: 'a' });
    const at = '2026-01-01T00:01:00.000Z';
    const failed = transition(issuing, { to: 'failed', at, actor: 't', action: 'a', changes: { deliverySecret: 'taskbound/a/t' } });
    const denied = transition(opened(), { to: 'denied', at, actor: 't', action: 'a', changes: { deliverySecret: 'taskbound/a/t' } });

    expect(dueAtOf(failed)).toBe('2026-01-01T01:01:00.000Z');
    expect(dueAtOf(failed)).toBe(dueAtOf(denied));
    expect(dueAtOf({ ...failed, deliverySecret: undefined })).toBeUndefined();
  });
});

describe('grantIdFor', () => {
  it('is stable per agent and task and differs otherwise', () => {
    expect(grantIdFor('a', 't')).toBe(grantIdFor('a', 't'));
    expect(grantIdFor('a', 't')).not.toBe(grantIdFor('a', 't2'));
    expect(grantIdFor('a', 't')).toMatch(/^g-[a-z2-7]{26}$/);
  });
});

describe('dueAtOf an issuance that never finished', () => {
  it('is due when its TTL would have ended, if that comes before the stuck timeout', () => {
    const issuing = transition(opened(), {
      to: 'issuing',
      at: '2026-01-01T00:00:00.000Z',
      actor: 't',
      action: 'a',
      changes: { ttlSeconds: 60 },
    });
    expect(dueAtOf(issuing)).toBe('2026-01-01T00:01:00.000Z');
    const long = transition(opened(), {
      to: 'issuing',
      at: '2026-01-01T00:00:00.000Z',
      actor: 't',
      action: 'a',
      changes: { ttlSeconds: 3600 },
    });
    expect(dueAtOf(long)).toBe('2026-01-01T00:05:00.000Z');
  });
});

describe('verifyGrantAudit', () => {
  const verified = (): Grant => {
    let grant = opened();
    for (const to of ['issuing', 'active', 'revoking', 'revoked', 'verified'] as const)
      grant = transition(grant, { to, at: '2026-01-01T00:00:01.000Z', actor: 'taskbound', action: to });
    return grant;
  };

  it("accepts a chain that opens with the request and leads to the grant's state", () => {
    expect(verifyGrantAudit(opened())).toEqual({ ok: true });
    expect(verifyGrantAudit(verified())).toEqual({ ok: true });
  });

  it('detects entries cut from the end, which every remaining hash still verifies', () => {
    const grant = verified();
    const truncated = { ...grant, audit: grant.audit.slice(0, 3) };
    expect(verifyChain(grant.grantId, truncated.audit)).toEqual({ ok: true });

    expect(verifyGrantAudit(truncated)).toEqual({
      ok: false,
      brokenAt: 3,
      why: 'the chain ends in active but the grant is verified: entries after entry 2 were deleted, or the state was edited',
    });
  });

  it('detects a state edited without its entry', () => {
    expect(verifyGrantAudit({ ...opened(), state: 'verified' })).toMatchObject({ ok: false, brokenAt: 1 });
  });

  it('detects a chain emptied or removed', () => {
    const grant = verified();
    const why = 'the grant has no audit entries: its chain was deleted';
    expect(verifyGrantAudit({ ...grant, audit: [] })).toEqual({ ok: false, brokenAt: 0, why });
    expect(verifyGrantAudit({ ...grant, audit: undefined as unknown as Grant['audit'] })).toEqual({ ok: false, brokenAt: 0, why });
  });

  it('detects a chain whose opening entries were cut and the rest rehashed from the start', () => {
    const grant = verified();
    let rebuilt = { ...grant, audit: [] as Grant['audit'] } as Grant;
    rebuilt = { ...transition({ ...rebuilt, state: 'active' }, { to: 'revoking', at: 't', actor: 'taskbound', action: 'revoke' }) };
    expect(verifyChain(rebuilt.grantId, rebuilt.audit)).toEqual({ ok: true });

    expect(verifyGrantAudit(rebuilt)).toMatchObject({
      ok: false,
      brokenAt: 0,
      why: expect.stringContaining("entry 0 is not the grant's opening"),
    });
  });

  it('detects a requester or an approval in the record that no entry records', () => {
    const at = '2026-01-01T00:01:00.000Z';
    const held = transition(openGrant({ ...openingOf(), requestedBy: 'dev' }), {
      to: 'pending_approval',
      at,
      actor: 'taskbound',
      action: 'held',
    });
    const approval = { approver: 'lead', at, reason: 'ok' };
    const counted = note(held, { at, actor: 'lead', action: 'approved', changes: { approvals: [approval] } });
    expect(verifyGrantAudit(counted)).toEqual({ ok: true });

    expect(verifyGrantAudit({ ...counted, requestedBy: 'someone-else' })).toEqual({
      ok: false,
      brokenAt: 3,
      why: "the grant names someone-else as requester, and no entry does: the grant's record was edited",
    });
    expect(verifyGrantAudit({ ...counted, approvals: [{ ...approval, approver: 'cfo' }] })).toEqual({
      ok: false,
      brokenAt: 3,
      why: `the grant lists an approval by cfo at ${at}, and no entry does: the grant's record was edited`,
    });
  });

  it('names an entry that is not an entry at all', () => {
    const grant = verified();
    const audit = [...grant.audit.slice(0, 2), null, ...grant.audit.slice(3)] as unknown as Grant['audit'];
    expect(verifyGrantAudit({ ...grant, audit })).toEqual({ ok: false, brokenAt: 2, why: 'entry 2 is not an audit entry' });
  });
});
