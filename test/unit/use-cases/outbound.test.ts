import { describe, expect, it } from 'vitest';
import { outbound } from '../../../lambdas/use-cases/outbound';
import { activeGrant } from '../../helpers/grants';

describe('outbound', () => {
  it('copies identifiers, state and the credential id of a grant, never its secret', () => {
    const grant = activeGrant({
      agentId: 'release-bot',
      taskId: 'bump-lodash',
      at: '2026-11-28T12:00:00.000Z',
      ttlSeconds: 900,
      accessKeyId: 'ASIAOUTBOUND00000001',
    });
    const event = outbound('Grant Issued', { ...grant, secretAccessKey: 'do-not-copy' } as typeof grant, '2026-11-28T12:00:01.000Z');

    expect(event).toEqual({
      detailType: 'Grant Issued',
      detail: {
        grantId: grant.grantId,
        taskId: 'bump-lodash',
        agentId: 'release-bot',
        at: '2026-11-28T12:00:01.000Z',
        state: 'active',
        scopes: ['repo-read'],
        requestedBy: 'lead@example.com',
        purpose: 'Dependency updates',
        credentialKind: 'aws-sts-session',
        credentialId: 'ASIAOUTBOUND00000001',
        expiresAt: '2026-11-28T12:15:00.000Z',
      },
    });
  });

  it('adds what the caller says, such as a reason', () => {
    const grant = activeGrant({ taskId: 'with-reason' });
    expect(outbound('Grant Denied', grant, '2026-11-28T12:00:00.000Z', { reason: 'scope not allowed' }).detail.reason).toBe(
      'scope not allowed',
    );
  });
});
