// Tests: a privileged scope always waits for a person, whatever its class's rule says.
import { describe, expect, it } from 'vitest';
import { evaluateTaskRequest } from '../../../lambdas/domain/evaluate';
import type { Policy } from '../../../lambdas/domain/policy';
import { testPolicy } from '../../helpers/test-policy';

const standing = { suspended: false, liveGrants: 0 };
const request = { agentId: 'release-bot', taskId: 't-1', purpose: 'rotate roles', requestedBy: 'dev@example.com', scopes: ['repo-write'] };

describe('evaluateTaskRequest with privileged scopes', () => {
  it('never auto-approves a privileged scope: in a class without a manual rule nobody is eligible, so it is denied', () => {
    const loaded = testPolicy();
    // The loader refuses this combination; a policy built by hand must still not slip through.
    const handBuilt: Policy = {
      ...loaded,
      scopes: { ...loaded.scopes, 'repo-write': { ...loaded.scopes['repo-write']!, privileged: true } },
    };

    expect(evaluateTaskRequest(loaded, request, standing).outcome).toBe('auto-approved');
    expect(evaluateTaskRequest(handBuilt, request, standing)).toMatchObject({
      outcome: 'denied',
      reason: 'needs 1 approvals but only 0 approvers remain after excluding the owner and the requester',
    });
  });

  it('keeps the class rule of a privileged scope in a manual class', () => {
    const loaded = testPolicy();
    const privileged: Policy = {
      ...loaded,
      scopes: { ...loaded.scopes, 'deploy-web': { ...loaded.scopes['deploy-web']!, privileged: true } },
    };
    const decision = evaluateTaskRequest(privileged, { ...request, agentId: 'deploy-bot', scopes: ['deploy-web'] }, standing);
    expect(decision).toMatchObject({ outcome: 'needs-approval', requiredApprovals: 1, eligibleApprovers: ['lead@example.com'] });
  });
});
