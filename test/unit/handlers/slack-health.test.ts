import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routingConfigSchema } from '../../../lambdas/domain/alert-routing';
import { SlackNotifier } from '../../../lambdas/adapters/slack/slack-notifier';
import { WebhookNotifier } from '../../../lambdas/adapters/slack/webhook-notifier';
import { makeAlarmToSlackHandler } from '../../../lambdas/handlers/alarm-to-slack';
import { AlertNotDeliveredError } from '../../../lambdas/composition/handler-chain';
import { makeDigestHandler } from '../../../lambdas/handlers/digest';
import { FakeClock } from '../../helpers/fake-ports';
import { InMemoryGrantStore } from '../../helpers/in-memory-grant-store';
import { recordingSleep, startFakeSlack, type FakeSlack } from '../adapters/slack/fake-slack';
import { activeGrant, revokedGrant } from '../cli/cli-harness';

const context = { functionName: 'health', awsRequestId: 'req-1' } as Context;

/** What CloudWatch publishes to the alarm topic, as SNS hands it to Lambda. */
function snsAlarm(alarm: Record<string, unknown>) {
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: 'arn:aws:sns:us-east-1:111122223333:alarms:5f0d',
        Sns: {
          Type: 'Notification',
          MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
          TopicArn: 'arn:aws:sns:us-east-1:111122223333:alarms',
          Subject: 'ALARM',
          Message: JSON.stringify(alarm),
          Timestamp: '2026-11-28T12:00:00.000Z',
          SignatureVersion: '1',
          Signature: 'EXAMPLE',
          SigningCertUrl: 'https://sns.us-east-1.amazonaws.com/cert.pem',
          UnsubscribeUrl: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
          MessageAttributes: {},
        },
      },
    ],
  };
}

const deadLetters = {
  AlarmName: 'taskbound-engine-DeadLetters-task-ended',
  AlarmDescription: 'Events for task-ended reached its dead-letter queue; they were not processed',
  NewStateValue: 'ALARM',
  OldStateValue: 'OK',
  NewStateReason: 'Threshold Crossed: 1 datapoint [2.0] was greater than or equal to the threshold (1.0).',
  StateChangeTime: '2026-11-28T12:00:00.000+0000',
  Region: 'US East (N. Virginia)',
  AWSAccountId: '111122223333',
  Trigger: { MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS' },
};

describe('Slack health: alarms and the digest', () => {
  let slack: FakeSlack;
  beforeAll(async () => {
    slack = await startFakeSlack();
  });
  afterAll(() => slack.close());

  const alertDeps = () => ({
    notifier: new SlackNotifier(new WebhookNotifier(`${slack.url}/hook`, { sleep: recordingSleep().sleep, retry: { maxAttempts: 2 } })),
    routing: routingConfigSchema.parse({}),
  });

  it('posts a CloudWatch alarm on dead letters with what to do next', async () => {
    const result = await makeAlarmToSlackHandler(async () => alertDeps())(snsAlarm(deadLetters), context);

    expect(result).toEqual({ posted: 1 });
    const body = slack.posts.at(-1)?.body ?? '';
    expect(body).toContain('Alarm: taskbound-engine-DeadLetters-task-ended');
    expect(body).toContain('redrive');
  });

  it('says when an alarm is resolved, without a call to action', async () => {
    await makeAlarmToSlackHandler(async () => alertDeps())(
      snsAlarm({ ...deadLetters, NewStateValue: 'OK', OldStateValue: 'ALARM' }),
      context,
    );
    const body = slack.posts.at(-1)?.body ?? '';
    expect(body).toContain('Resolved: taskbound-engine-DeadLetters-task-ended');
    expect(body).not.toContain('redrive');
  });

  it('skips a message that is not a CloudWatch alarm, posting nothing', async () => {
    const before = slack.posts.length;
    const result = await makeAlarmToSlackHandler(async () => alertDeps())(snsAlarm({ hello: 'world' }), context);
    expect(result).toEqual({ posted: 0 });
    expect(slack.posts.length).toBe(before);
  });

  it('throws when Slack does not take the alarm, so Lambda retries it', async () => {
    slack.script({ status: 500 }, { status: 500 });
    await expect(makeAlarmToSlackHandler(async () => alertDeps())(snsAlarm(deadLetters), context)).rejects.toBeInstanceOf(
      AlertNotDeliveredError,
    );
  });

  it('posts the digest of the period, findings first', async () => {
    const store = new InMemoryGrantStore().seed(
      revokedGrant(activeGrant('release-bot', 't-1', '2026-11-28T09:00:00.000Z'), {
        noticeAt: '2026-11-28T09:10:00.000Z',
        revokedAfterMs: 100,
        verifiedAfterMs: 200,
      }),
      revokedGrant(activeGrant('release-bot', 't-2', '2026-11-28T10:00:00.000Z'), {
        noticeAt: '2026-11-28T10:10:00.000Z',
        revokedAfterMs: 100,
      }),
    );
    const deps = { ...alertDeps(), store, clock: new FakeClock(new Date('2026-11-28T12:00:00.000Z')), hours: 24 };

    const result = await makeDigestHandler(async () => deps)({}, context);

    expect(result).toEqual({ posted: true, grants: 2 });
    const body = slack.posts.at(-1)?.body ?? '';
    expect(body).toContain('Taskbound digest: the last 24 h');
    expect(body).toContain('*1* credentials alive with no task (standing privilege)');
    expect(body).toContain('2 requested, 2 issued');
  });
});
