// Adapter (Slack incoming webhook): the simplest delivery. One URL, one channel (chosen when
// the webhook was created), no edits. The URL is a secret: it appears in no error.
import type { DeliveryResult } from '../../ports';
import type { SlackMessage, SlackTransport } from './slack-message';
import { postWithRetry, transport, type HttpTransport, type TransportOverrides, type Verdict } from './slack-http';

/** Posts alerts to an incoming webhook; routing channels are ignored (the webhook owns one). */
export class WebhookNotifier implements SlackTransport {
  private readonly http: HttpTransport;

  constructor(
    private readonly webhookUrl: string,
    http: TransportOverrides = {},
  ) {
    this.http = transport(http);
  }

  async notify(message: SlackMessage): Promise<DeliveryResult> {
    const outcome = await postWithRetry(
      this.http,
      {
        url: this.webhookUrl,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: message.text, blocks: message.blocks }),
      },
      judgeWebhookAnswer,
    );
    return outcome.ok
      ? { ok: true, refs: [] }
      : { ok: false, error: `webhook delivery failed: ${outcome.error}`, attempts: outcome.attempts };
  }
}

/** Webhooks answer 200 `ok`, or a 4xx with a short reason (`invalid_payload`, `channel_is_archived`). */
function judgeWebhookAnswer(status: number, body: string): Verdict {
  if (status >= 200 && status < 300) return { kind: 'done' };
  const reason = /^[a-z_]{1,64}$/.test(body.trim()) ? body.trim() : 'no reason given';
  return { kind: 'fail', reason: `Slack refused the webhook post: HTTP ${status} ${reason}` };
}
