// Adapter (Slack): a message as Slack takes it, and the transports that post one. Webhook,
// bot and console transports implement SlackTransport; SlackNotifier words the alerts.
import type { DeliveryResult, MessageRef } from '../../ports';

/** A Block Kit block, as Slack's JSON describes it. */
export type Block = Readonly<Record<string, unknown>>;

/** A message: Block Kit for Slack, and a plain-text fallback for notifications and logs. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly Block[];
}

/** Posts worded messages; a message never holds a secret. */
export interface SlackTransport {
  /** Posts to each channel; a webhook posts once, to the channel it was created for. */
  notify(message: SlackMessage, channels: readonly string[]): Promise<DeliveryResult>;
  /** Replaces earlier messages in place; absent when the transport cannot edit. */
  update?(refs: readonly MessageRef[], message: SlackMessage): Promise<DeliveryResult>;
}
