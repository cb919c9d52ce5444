import { describe, expect, it } from 'vitest';
import { revokedByBacklog } from '../../../../lambdas/local/host/backlog-revocations';
import type { EventEnvelope } from '../../../../lambdas/local/emulated-aws/event-bus';
import { activeGrant } from '../../../helpers/grants';

const envelope = (detailType: string, detail: Record<string, unknown>, source = 'agent.runtime'): EventEnvelope => ({
  version: '0',
  id: `e-${detailType}-${JSON.stringify(detail).length}`,
  'detail-type': detailType,
  source,
  account: '000000000000',
  time: '2026-12-01T00:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail,
});

describe('revokedByBacklog', () => {
  const ended = activeGrant({ agentId: 'release-bot', taskId: 'ended', accessKeyId: 'ASIAENDED00000000001' });
  const leaked = activeGrant({ agentId: 'release-bot', taskId: 'leaked', accessKeyId: 'AKIALEAKED0000000001' });
  const exposed = activeGrant({ agentId: 'release-bot', taskId: 'exposed', accessKeyId: 'AKIAEXPOSED000000001' });
  const untouched = activeGrant({ agentId: 'release-bot', taskId: 'untouched', accessKeyId: 'ASIAUNTOUCHED0000001' });

  it('names the grants a Task Ended, a leak report or an AWS Health exposure on the bus will revoke', () => {
    const willRevoke = revokedByBacklog([
      envelope('Task Ended', { agentId: 'release-bot', taskId: 'ended', outcome: 'succeeded' }),
      envelope('Credential Leaked', { credentialId: 'AKIALEAKED0000000001', reportedBy: 'scanner@example.com' }),
      envelope(
        'AWS Health Event',
        { eventTypeCode: 'AWS_RISK_CREDENTIALS_EXPOSED', affectedEntities: [{ entityValue: 'AKIAEXPOSED000000001' }] },
        'aws.health',
      ),
      envelope('Task Started', {
        agentId: 'release-bot',
        taskId: 'untouched',
        purpose: 'p',
        requestedBy: 'dev@example.com',
        scopes: ['repo-read'],
      }),
    ]);

    expect([ended, leaked, exposed, untouched].filter(willRevoke).map((grant) => grant.grantId)).toEqual([
      ended.grantId,
      leaked.grantId,
      exposed.grantId,
    ]);
  });

  it('names the grant of a leak reported by its delivery name or ARN, as the leak handler finds it', () => {
    const byName = activeGrant({ agentId: 'release-bot', taskId: 'by-name' });
    const byArn = activeGrant({ agentId: 'release-bot', taskId: 'by-arn' });
    const willRevoke = revokedByBacklog([
      envelope('Credential Leaked', { credentialId: 'taskbound/release-bot/by-name', reportedBy: 'scanner@example.com' }),
      envelope('Credential Leaked', {
        credentialId: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:taskbound/release-bot/by-arn-AbC123',
        reportedBy: 'scanner@example.com',
      }),
    ]);

    expect([byName, byArn, untouched].filter(willRevoke).map((grant) => grant.grantId)).toEqual([byName.grantId, byArn.grantId]);
  });

  it('names the grant of an invalid Task Ended that names its task, which its handler still ends', () => {
    const willRevoke = revokedByBacklog([envelope('Task Ended', { agentId: 'release-bot', taskId: 'ended', outcome: 'exploded' })]);

    expect(willRevoke(ended)).toBe(true);
  });

  it('ignores events their handler would refuse, and exposures no route delivers', () => {
    const willRevoke = revokedByBacklog([
      envelope('Task Ended', { agentId: '../release-bot', taskId: 'ended', outcome: 'succeeded' }),
      envelope('Credential Leaked', { credentialId: 'AKIALEAKED0000000001' }),
      envelope('AWS Health Event', {
        eventTypeCode: 'AWS_RISK_CREDENTIALS_EXPOSED',
        affectedEntities: [{ entityValue: 'AKIAEXPOSED000000001' }],
      }),
    ]);

    expect([ended, leaked, exposed].some(willRevoke)).toBe(false);
  });
});
