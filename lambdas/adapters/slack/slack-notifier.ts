// Adapter (Slack): the Notifier port. Words each alert as a Slack message (messages.ts) and
// hands it to a transport: a webhook, the bot, or the console.
import type { AlertMessage, DeliveryResult, MessageRef, Notifier } from '../../ports';
import { alertMessage, approvalRequestMessage } from './messages';
import type { SlackMessage, SlackTransport } from './slack-message';

function worded(message: AlertMessage): SlackMessage {
  return message.kind === 'alert' ? alertMessage(message.event) : approvalRequestMessage(message.request, message.progress);
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
