import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const SLACK_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:taskbound/slack-AbCdEf';

/** A fresh module each time: the root memoizes what it built. */
const compositionRoot = () => import('../../../lambdas/composition/aws-engine');

describe('the AWS composition root', () => {
  beforeEach(() => {
    vi.resetModules();
    for (const name of ['TABLE_NAME', 'EVENT_BUS_NAME', 'SLACK_SECRET_ARN', 'SLACK_ROUTING', 'SLACK_APPROVERS', 'SLACK_TEAM_ID'])
      vi.stubEnv(name, undefined);
    vi.stubEnv('AWS_REGION', 'us-east-1');
  });
  afterEach(() => vi.unstubAllEnvs());

  it('refuses to build the alerts without the grant table, naming the variable', async () => {
    vi.stubEnv('SLACK_SECRET_ARN', SLACK_SECRET_ARN);
    const { awsAlerts } = await compositionRoot();
    await expect(awsAlerts()).rejects.toThrow(/^invalid configuration: TABLE_NAME/);
  });

  it('refuses to build the alerts without the Slack secret', async () => {
    vi.stubEnv('TABLE_NAME', 'taskbound-grants');
    const { awsAlerts } = await compositionRoot();
    await expect(awsAlerts()).rejects.toThrow('SLACK_SECRET_ARN is not set');
  });

  it('refuses a Slack routing that is not valid JSON before any alert is sent', async () => {
    vi.stubEnv('TABLE_NAME', 'taskbound-grants');
    vi.stubEnv('SLACK_SECRET_ARN', SLACK_SECRET_ARN);
    vi.stubEnv('SLACK_ROUTING', '{not json');
    const { awsAlerts } = await compositionRoot();
    await expect(awsAlerts()).rejects.toThrow('SLACK_ROUTING is not valid JSON');
  });

  it('has no default bus for Slack decisions: without EVENT_BUS_NAME it refuses to start', async () => {
    vi.stubEnv('SLACK_SECRET_ARN', SLACK_SECRET_ARN);
    const { awsSlackInteractions } = await compositionRoot();
    expect(() => awsSlackInteractions()).toThrow(/^invalid configuration: EVENT_BUS_NAME/);
  });

  it('builds the Slack interaction endpoint once its configuration is whole', async () => {
    vi.stubEnv('SLACK_SECRET_ARN', SLACK_SECRET_ARN);
    vi.stubEnv('EVENT_BUS_NAME', 'taskbound');
    vi.stubEnv('SLACK_APPROVERS', '{"U0SRE1":"sre@example.com"}');
    const { awsSlackInteractions } = await compositionRoot();
    const deps = awsSlackInteractions();
    expect(deps.config.approvers).toEqual({ U0SRE1: 'sre@example.com' });
    expect(awsSlackInteractions()).toBe(deps);
  });
});
