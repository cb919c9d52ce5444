// Handler: the engine's alarm topic (SNS) → Slack. CloudWatch alarms on dead letters, failed
// revocations, still-valid credentials and sweep errors reach the alert channel, not only e-mail.
// A message that cannot be delivered throws, so Lambda retries it and its DLQ finally keeps it.
import { SnsSchema } from '../composition/lambda-event-schemas';
import { parseEngineAlarm } from '../domain/engine-alarm';
import { postEngineAlarm, type HealthDeps } from '../use-cases/post-health';
import { awsAlerts } from '../composition/aws-engine';
import { AlertNotDeliveredError, handlerChain } from '../composition/handler-chain';
import { logger } from '../composition/logger';

export const makeAlarmToSlackHandler = (getDeps: () => Promise<HealthDeps>) =>
  handlerChain().handler(async (event: unknown) => {
    const records = SnsSchema.parse(event).Records;
    const deps = await getDeps();
    let posted = 0;
    for (const record of records) {
      const parsed = parseEngineAlarm(record.Sns.Message);
      if (!parsed.ok) {
        logger.warn('alarm message rejected', { messageId: record.Sns.MessageId, reason: parsed.reason });
        continue;
      }
      const result = await postEngineAlarm(deps, parsed.alarm);
      if (result.outcome === 'failed') throw new AlertNotDeliveredError(`alarm ${parsed.alarm.AlarmName} not delivered: ${result.error}`);
      posted++;
    }
    logger.info('alarms handled', { records: records.length, posted });
    return { posted };
  });

export const handler = makeAlarmToSlackHandler(awsAlerts);
