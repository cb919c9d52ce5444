// Adapter (Slack): the Notifier port. Words each alert as a Slack message (messages.ts) and
// hands it to a transport: a webhook, the bot, or the console. The engine's health (alarms,
// the digest) is worded in health-messages.ts.
import type { AlertMessage, DeliveryResult, MessageRef, Notifier } from '../../ports';
import { alarmMessage, digestMessage } from './health-messages';
import { alertMessage, approvalRequestMessage } from './messages';
import type { SlackMessage, SlackTransport } from './slack-message';

function worded(message: AlertMessage): SlackMessage {
  switch (message.kind) {
    case 'alert':
      return alertMessage(message.event);
    case 'approval-request':
      return approvalRequestMessage(message.request, message.progress);
    case 'engine-alarm':
      return alarmMessage(message.alarm);
    case 'digest':
      return digestMessage(message.report, message.hours);
  }
}

export class SlackNotifier implements Notifier {
  readonly update?: (refs: readonly MessageRef[], message: AlertMessage) => Promise<DeliveryResult>;

  constructor(private readonly transport: SlackTransport) {
    // Only a transport that can edit messages makes a notifier that can.
    if (transport.update) this.update = (refs, message) => transport.update!(refs, worded(message));
  }

  notify(message: AlertMessage, channels: readonly string[]): Promise<DeliveryResult> {
    return this.transport.notify(worded(message), channels);
  }
}
