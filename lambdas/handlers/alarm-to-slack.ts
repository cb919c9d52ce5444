// Handler: the engine's alarm topic (SNS) → Slack. CloudWatch alarms on dead letters, failed
// revocations, still-valid credentials and sweep errors reach the alert channel, not only e-mail.
// A message that cannot be delivered throws, so Lambda retries it and its DLQ finally keeps it.
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SnsSchema } from '@aws-lambda-powertools/parser/schemas/sns';
import type { Context } from 'aws-lambda';
import { awsAlertDeps } from '../adapters/slack/aws-slack-deps';
import { alarmMessage, parseAlarm } from '../adapters/slack/health-messages';
import type { AlertDeps } from '../adapters/slack/send-alert';
import { AlertNotDeliveredError } from './alerts';
import { logger } from './logger';

export const makeAlarmToSlackHandler = (getDeps: () => Promise<AlertDeps>) =>
  middy()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event: unknown) => {
      const records = SnsSchema.parse(event).Records;
      const deps = await getDeps();
      let posted = 0;
      for (const record of records) {
        const parsed = parseAlarm(record.Sns.Message);
        if (!parsed.ok) {
          logger.warn('alarm message rejected', { messageId: record.Sns.MessageId, reason: parsed.reason });
          continue;
        }
        const firing = parsed.alarm.NewStateValue === 'ALARM';
        const channel = (firing ? deps.routing.severityChannels.critical : deps.routing.severityChannels.info) ?? deps.routing.defaultChannel;
        const delivered = await deps.notifier.notify(alarmMessage(parsed.alarm), channel ? [channel] : []);
        if (!delivered.ok) throw new AlertNotDeliveredError(`alarm ${parsed.alarm.AlarmName} not delivered: ${delivered.error}`);
        posted++;
      }
      logger.info('alarms handled', { records: records.length, posted });
      return { posted };
    });

let built: ReturnType<typeof makeAlarmToSlackHandler> | undefined;
/** Built on first use, so importing the factory (tests) needs no environment. */
export const handler = (event: unknown, context: Context) => (built ??= makeAlarmToSlackHandler(awsAlertDeps(process.env)))(event, context);
