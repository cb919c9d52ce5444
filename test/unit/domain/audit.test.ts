import { describe, expect, it } from 'vitest';
import { nextAuditEntry, verifyChain, type AuditEntry } from '../../../lambdas/domain/audit';

const facts = (action: string, at: string) => ({ at, actor: 'taskbound', action, policyVersion: 'sha256:abc' });

function chainOf(...actions: string[]): AuditEntry[] {
  const chain: AuditEntry[] = [];
  for (const [i, action] of actions.entries()) chain.push(nextAuditEntry('g-1', chain.at(-1), facts(action, `2026-01-01T00:00:0${i}Z`)));
  return chain;
}

describe('audit chain', () => {
  it('verifies an untouched chain', () => {
    expect(verifyChain('g-1', chainOf('requested', 'issued', 'revoked'))).toEqual({ ok: true });
  });

  it('detects an altered entry', () => {
    const chain = chainOf('requested', 'issued', 'revoked');
    chain[1] = { ...chain[1]!, actor: 'mallory' };
    expect(verifyChain('g-1', chain)).toMatchObject({ ok: false, brokenAt: 1 });
  });

  it('detects a dropped entry', () => {
    const chain = chainOf('requested', 'issued', 'revoked');
    chain.splice(1, 1);
    expect(verifyChain('g-1', chain).ok).toBe(false);
  });

  it('binds the chain to its grant', () => {
    expect(verifyChain('g-2', chainOf('requested')).ok).toBe(false);
  });
});
