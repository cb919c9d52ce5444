// Local engine: alerts go to SLACK_WEBHOOK_URL when set, else to the console, readably.
import { parseAlertEvent } from '../adapters/slack/alert-event';
import { DEFAULT_ROUTING } from '../adapters/slack/alert-routing';
import { inMemoryApprovalMessages } from '../adapters/slack/notifier';
import { localNotifier } from '../adapters/slack/slack-config';
import { sendAlert, type AlertDeps } from '../adapters/slack/send-alert';
import type { EventEnvelope } from './event-bus';
import type { LocalHandler } from './lambda-context';

export interface LocalAlertOptions {
  readonly slackWebhookUrl?: string;
  readonly print: (line: string) => void;
}

export function makeLocalAlertsHandler(options: LocalAlertOptions): LocalHandler {
  const deps: AlertDeps = {
    notifier: localNotifier({ SLACK_WEBHOOK_URL: options.slackWebhookUrl }, options.print),
    routing: DEFAULT_ROUTING,
    approvals: inMemoryApprovalMessages(),
  };
  return async (envelope: EventEnvelope) => {
    const parsed = parseAlertEvent(envelope['detail-type'], envelope.detail, envelope.time);
    if (!parsed.ok) return { outcome: 'rejected', reason: parsed.reason };
    const result = await sendAlert(deps, parsed.event);
    // Thrown, so the bus retries and finally dead-letters it: an alert is never dropped silently.
    if (result.outcome === 'failed') throw new Error(result.error);
    return result;
  };
}
