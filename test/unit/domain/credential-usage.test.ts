import { describe, expect, it } from 'vitest';
import {
  actionsUsed,
  iamActionOf,
  permissionUsage,
  placeCalls,
  RECORD_KEEPS,
  recentForDelivery,
  type GrantUse,
  type ObservedCall,
} from '../../../lambdas/domain/credential-usage';
import { firstRevokedAt } from '../../../lambdas/domain/use-after-revocation';
import { activeGrant, after, FIXTURE_TIME, verifiedGrant } from '../../helpers/grants';

const call = (seconds: number, service: string, operation: string, extra: Partial<ObservedCall> = {}): ObservedCall => ({
  at: after(FIXTURE_TIME, seconds),
  service,
  operation,
  ...extra,
});

describe('iamActionOf', () => {
  it('names the IAM action from a signing name or a CloudTrail event source', () => {
    expect(iamActionOf({ service: 'secretsmanager', operation: 'GetSecretValue' })).toBe('secretsmanager:GetSecretValue');
    expect(iamActionOf({ service: 'sts.amazonaws.com', operation: 'GetCallerIdentity' })).toBe('sts:GetCallerIdentity');
    expect(iamActionOf({ service: 'monitoring', operation: 'PutMetricData' })).toBe('cloudwatch:PutMetricData');
  });
});

describe('placeCalls', () => {
  it('puts each call before or after the first revocation, oldest first', () => {
    const grant = verifiedGrant({ at: after(FIXTURE_TIME, -60) });
    const revokedAt = Date.parse(grant.revokedAt ?? '');

    const placed = placeCalls(
      grant,
      [
        { at: new Date(revokedAt + 60_000).toISOString(), service: 's3', operation: 'ListBuckets' },
        { at: new Date(revokedAt - 30_000).toISOString(), service: 'secretsmanager', operation: 'GetSecretValue' },
      ],
      RECORD_KEEPS.cloudtrail,
    );

    expect(placed.map((p) => [p.action, p.phase])).toEqual([
      ['secretsmanager:GetSecretValue', 'before-revocation'],
      ['s3:ListBuckets', 'after-revocation'],
    ]);
  });

  it("counts a call in the revocation's second as after it only where the record keeps whole seconds (CloudTrail)", () => {
    const grant = verifiedGrant({ at: '2026-11-28T11:59:00.400Z' });
    expect(firstRevokedAt(grant)).toBe('2026-11-28T11:59:00.400Z');
    // The task's last call, 70 ms before the revocation, in the same second (the refund example met it).
    const lastCall = { at: '2026-11-28T11:59:00.330Z', service: 'secretsmanager', operation: 'GetSecretValue' };
    const atWholeSecond = { ...lastCall, at: '2026-11-28T11:59:00.000Z' };

    const [local] = placeCalls(grant, [lastCall], RECORD_KEEPS['local-engine']);
    const [cloudTrail] = placeCalls(grant, [atWholeSecond], RECORD_KEEPS.cloudtrail);

    expect(local?.phase).toBe('before-revocation');
    expect(actionsUsed(placeCalls(grant, [lastCall], RECORD_KEEPS['local-engine']))).toEqual(['secretsmanager:GetSecretValue']);
    expect(cloudTrail?.phase).toBe('after-revocation');
  });

  it("counts the engine's probe only with the probe's user agent where the record keeps user agents", () => {
    const grant = verifiedGrant({ at: after(FIXTURE_TIME, -60) });
    const probe = { at: grant.revokedAt ?? '', service: 'secretsmanager', operation: 'DescribeSecret' };

    const [withAgent] = placeCalls(grant, [{ ...probe, userAgent: 'aws-sdk-js/3 taskbound-probe' }], RECORD_KEEPS.cloudtrail);
    const [forged] = placeCalls(grant, [{ ...probe, userAgent: 'aws-cli/2' }], RECORD_KEEPS.cloudtrail);
    const [local] = placeCalls(grant, [probe], RECORD_KEEPS['local-engine']);

    expect([withAgent?.phase, forged?.phase, local?.phase]).toEqual(['engine-probe', 'after-revocation', 'engine-probe']);
  });

  it("counts the canary probe of a fresh session, at issue, as the engine's and not the task's", () => {
    const grant = activeGrant();
    const issuedAt = Date.parse(grant.audit.find((entry) => entry.to === 'active')?.at ?? '');
    const at = (ms: number) => new Date(issuedAt + ms).toISOString();
    const canary = { service: 'secretsmanager', operation: 'DescribeSecret', userAgent: 'aws-sdk-js/3 taskbound-probe' };

    const placed = placeCalls(
      grant,
      [
        { ...canary, at: at(0) },
        { ...canary, at: at(60_000) },
      ],
      RECORD_KEEPS.cloudtrail,
    );

    expect(placed.map((p) => p.phase)).toEqual(['engine-probe', 'before-revocation']);
    expect(actionsUsed(placed)).toEqual(['secretsmanager:DescribeSecret']);
  });

  it("ties a session's call to the grant by its SourceIdentity, and flags one naming another grant", () => {
    const grant = activeGrant();

    const placed = placeCalls(
      grant,
      [
        call(1, 's3', 'GetObject', { sourceIdentity: grant.grantId }),
        call(2, 's3', 'PutObject'),
        call(3, 's3', 'DeleteObject', { sourceIdentity: 'g-OTHER' }),
      ],
      RECORD_KEEPS.cloudtrail,
    );

    expect(placed.map((p) => p.tie)).toEqual(['source-identity', 'access-key', 'other-source-identity']);
    expect(actionsUsed(placed)).toEqual(['s3:GetObject', 's3:PutObject']);
  });

  it('leaves calls after revocation out of what the task used, refused attempts in', () => {
    const grant = verifiedGrant({ at: after(FIXTURE_TIME, -60) });
    const revokedAt = Date.parse(grant.revokedAt ?? '');
    const at = (ms: number) => new Date(revokedAt + ms).toISOString();

    const used = actionsUsed(
      placeCalls(
        grant,
        [
          { at: at(-5000), service: 's3', operation: 'GetObject', errorCode: 'AccessDenied' },
          { at: at(-4000), service: 's3', operation: 'GetObject' },
          { at: at(2000), service: 'secretsmanager', operation: 'DescribeSecret' },
        ],
        RECORD_KEEPS['local-engine'],
      ),
    );

    expect(used).toEqual(['s3:GetObject']);
  });
});

describe('recentForDelivery', () => {
  const now = new Date('2026-11-30T12:00:00.000Z');
  const lag = 15 * 60_000;

  it('holds while the credential is usable, and for 15 minutes after', () => {
    expect(recentForDelivery(undefined, now, lag)).toBe(true);
    expect(recentForDelivery(now.getTime() - 10 * 60_000, now, lag)).toBe(true);
    expect(recentForDelivery(now.getTime() - 20 * 60_000, now, lag)).toBe(false);
  });
});

describe('permissionUsage', () => {
  const scopeActions = {
    'repo-read': ['codecommit:GitPull'],
    'deploy-web': ['codedeploy:CreateDeployment', 'codedeploy:GetDeployment', 'codedeploy:GetDeploymentConfig'],
    'logs-any': ['unknownsvc:*'],
  };

  it('names the granted actions no task used, per scope and per agent', () => {
    const grants: GrantUse[] = [
      {
        grantId: 'g-1',
        agentId: 'deploy-bot',
        scopes: ['repo-read', 'deploy-web'],
        used: ['codecommit:GitPull', 'codedeploy:CreateDeployment'],
      },
      { grantId: 'g-2', agentId: 'ship-bot', scopes: ['deploy-web'], used: ['CODEDEPLOY:getdeployment'] },
    ];

    const usage = permissionUsage(grants, scopeActions);

    expect(usage.scopes).toEqual([
      {
        scope: 'deploy-web',
        grants: 2,
        grantsRead: 2,
        granted: scopeActions['deploy-web'],
        used: ['codedeploy:CreateDeployment', 'codedeploy:GetDeployment'],
        unused: ['codedeploy:GetDeploymentConfig'],
      },
      { scope: 'repo-read', grants: 1, grantsRead: 1, granted: ['codecommit:GitPull'], used: ['codecommit:GitPull'], unused: [] },
    ]);
    expect(usage.agents['ship-bot']?.[0]?.unused).toEqual(['codedeploy:CreateDeployment', 'codedeploy:GetDeploymentConfig']);
    expect(usage.agents['deploy-bot']?.find((s) => s.scope === 'deploy-web')?.unused).toEqual([
      'codedeploy:GetDeployment',
      'codedeploy:GetDeploymentConfig',
    ]);
  });

  it('judges nothing from grants whose calls could not be read, and counts them', () => {
    const usage = permissionUsage(
      [
        { grantId: 'g-1', agentId: 'deploy-bot', scopes: ['deploy-web'] },
        { grantId: 'g-2', agentId: 'deploy-bot', scopes: ['repo-read'], used: [] },
      ],
      scopeActions,
    );

    expect(usage.grantsUnread).toBe(1);
    expect(usage.scopes.find((s) => s.scope === 'deploy-web')).toMatchObject({ grantsRead: 0, unused: [] });
    expect(usage.scopes.find((s) => s.scope === 'repo-read')).toMatchObject({ grantsRead: 1, unused: ['codecommit:GitPull'] });
  });

  it('matches a pattern the catalog could not expand against the calls, and leaves out scopes the policy no longer has', () => {
    const usage = permissionUsage(
      [{ grantId: 'g-1', agentId: 'a', scopes: ['logs-any', 'gone'], used: ['unknownsvc:PutThing'] }],
      scopeActions,
    );

    expect(usage.scopes).toEqual([
      { scope: 'logs-any', grants: 1, grantsRead: 1, granted: ['unknownsvc:*'], used: ['unknownsvc:*'], unused: [] },
    ]);
  });
});
