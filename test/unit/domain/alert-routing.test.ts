import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../../lambdas/domain/alert-event';
import { DEFAULT_ROUTING, routeAlert, routingConfigSchema, severityOf } from '../../../lambdas/domain/alert-routing';

const detail = {
  grantId: 'g-abcdefghijklmnopqrstuvwxyz',
  taskId: 't1',
  agentId: 'release-bot',
  at: '2025-03-01T12:00:00Z',
  owner: 'lead@example.com',
};
const event = (detailType: AlertEvent['detailType'], extra: Record<string, unknown> = {}) =>
  ({ detailType, detail: { ...detail, ...extra } }) as AlertEvent;

describe('alert routing', () => {
  const config = routingConfigSchema.parse({
    defaultChannel: '#taskbound',
    severityChannels: { critical: '#sec-oncall', action: '#approvals' },
    ownerChannels: { 'lead@example.com': '#web-team' },
  });

  it('mutes routine issue and verification by default, and nothing critical', () => {
    expect(routeAlert(DEFAULT_ROUTING, event('Grant Issued'))).toEqual({ muted: true });
    expect(routeAlert(DEFAULT_ROUTING, event('Revocation Verified'))).toEqual({ muted: true });
    expect(routeAlert(DEFAULT_ROUTING, event('Credential Still Valid'))).toMatchObject({ muted: false, severity: 'critical' });
  });

  it('sends to the owner team and to the severity channel, once each', () => {
    expect(routeAlert(config, event('Orphan Credential Found'))).toEqual({
      muted: false,
      severity: 'critical',
      channels: ['#web-team', '#sec-oncall'],
    });
    expect(routeAlert(config, event('Grant Pending Approval'))).toMatchObject({ channels: ['#web-team', '#approvals'] });
    expect(routeAlert(config, event('Grant Denied', { owner: 'other@example.com' }))).toMatchObject({ channels: ['#taskbound'] });
  });

  it('rates a revocation by its cause and can mute routine causes', () => {
    expect(severityOf(event('Grant Revoked', { trigger: 'leaked' }))).toBe('critical');
    expect(severityOf(event('Grant Revoked', { trigger: 'task_ended' }))).toBe('info');
    const quiet = routingConfigSchema.parse({ mutedRevocations: ['task_ended'] });
    expect(routeAlert(quiet, event('Grant Revoked', { trigger: 'task_ended' }))).toEqual({ muted: true });
    expect(routeAlert(quiet, event('Grant Revoked', { trigger: 'leaked' })).muted).toBe(false);
  });

  it("mutes a kill switch's own revocations by default, for its one summary, rated by whether any failed", () => {
    const tally = { grants: 3, verified: 3, awaitingProof: 0, failed: 0, closedOtherwise: 0, elapsedMs: 900 };

    expect(routeAlert(DEFAULT_ROUTING, event('Grant Revoked', { trigger: 'suspended' }))).toEqual({ muted: true });
    expect(routeAlert(routingConfigSchema.parse({ mutedRevocations: [] }), event('Grant Revoked', { trigger: 'suspended' })).muted).toBe(
      false,
    );
    expect(routeAlert(config, event('Agent Suspension Completed', { revocations: tally }))).toMatchObject({
      muted: false,
      severity: 'warning',
    });
    expect(severityOf(event('Agent Suspension Completed', { revocations: { ...tally, verified: 2, failed: 1 } }))).toBe('critical');
  });

  it('refuses a config with a typo or an unknown detail-type', () => {
    expect(routingConfigSchema.safeParse({ defaultChanel: '#x' }).success).toBe(false);
    expect(routingConfigSchema.safeParse({ muted: ['Grant Isued'] }).success).toBe(false);
    expect(routingConfigSchema.safeParse({ defaultChannel: 'https://hooks.slack.com/x' }).success).toBe(false);
  });
});
