// Adapter (Slack): the Notifier port the alerts handler calls, and the message shapes it
// sends. Webhook, bot and console notifiers implement it; a message never holds a secret.

/** A Block Kit block, as Slack's JSON describes it. */
export type Block = Readonly<Record<string, unknown>>;

/** A message: Block Kit for Slack, and a plain-text fallback for notifications and logs. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly Block[];
}

/** Where a posted message lives, so it can be edited to show an outcome. */
export interface MessageRef {
  readonly channel: string;
  readonly ts: string;
}

/** A delivery is a value: the caller decides what an undelivered alert means (it throws). */
export type DeliveryResult =
  | { readonly ok: true; readonly refs: readonly MessageRef[] }
  | { readonly ok: false; readonly error: string; readonly attempts: number };

export interface Notifier {
  /** Posts to each channel; a webhook posts once, to the channel it was created for. */
  notify(message: SlackMessage, channels: readonly string[]): Promise<DeliveryResult>;
  /** Replaces earlier messages in place; absent when the transport cannot edit. */
  update?(refs: readonly MessageRef[], message: SlackMessage): Promise<DeliveryResult>;
}

/** An approval request as posted: where it is, what it asked, who has approved so far. */
export interface ApprovalThread {
  readonly refs: readonly MessageRef[];
  /** The `Grant Pending Approval` detail that opened it: identifiers and text, no secret. */
  readonly request: Readonly<Record<string, unknown>>;
  readonly approvedBy: readonly string[];
}

/** Remembers each grant's approval request, so its outcome can replace it in place. */
export interface ApprovalMessageStore {
  get(grantId: string): Promise<ApprovalThread | undefined>;
  put(grantId: string, thread: ApprovalThread): Promise<void>;
}

/** Per-process approval threads, oldest forgotten first: enough for the local engine and tests. */
export function inMemoryApprovalMessages(maxEntries = 1000): ApprovalMessageStore {
  const threads = new Map<string, ApprovalThread>();
  return {
    get: async (grantId) => threads.get(grantId),
    put: async (grantId, thread) => {
      threads.delete(grantId);
      threads.set(grantId, thread);
      for (const oldest of threads.keys()) {
        if (threads.size <= maxEntries) break;
        threads.delete(oldest);
      }
    },
  };
}
