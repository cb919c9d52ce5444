// Handler: the `alerts` rule → Slack. Parses the envelope, routes and posts; an alert that
// cannot be delivered throws, so EventBridge retries it and the rule's DLQ finally keeps it.
import { EventBridgeSchema } from '../composition/lambda-event-schemas';
import { parseAlertEvent } from '../domain/alert-event';
import { sendAlert, type AlertDeps, type AlertOutcome } from '../use-cases/send-alert';
import { awsAlerts } from '../composition/aws-engine';
import { logger } from '../composition/logger';
import { AlertNotDeliveredError, handlerChain } from '../composition/handler-chain';

export const makeAlertsHandler = (getDeps: () => Promise<AlertDeps>) =>
  handlerChain().handler(async (event: unknown): Promise<AlertOutcome | { outcome: 'rejected'; reason: string }> => {
    const envelope = EventBridgeSchema.parse(event);
    const parsed = parseAlertEvent(envelope['detail-type'], envelope.detail, String(envelope.time));
    if (!parsed.ok) {
      logger.error('alert event rejected', { eventId: envelope.id, detailType: envelope['detail-type'], reason: parsed.reason });
      return { outcome: 'rejected', reason: parsed.reason };
    }
    const result = await sendAlert(await getDeps(), parsed.event);
    logger.info('alert handled', { eventId: envelope.id, detailType: envelope['detail-type'], ...result });
    if (result.outcome === 'failed') throw new AlertNotDeliveredError(`alert ${envelope.id} not delivered: ${result.error}`);
    return result;
  });

export const handler = makeAlertsHandler(awsAlerts);
