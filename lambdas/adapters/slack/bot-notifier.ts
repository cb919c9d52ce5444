// Adapter (Slack Web API, bot token): `chat.postMessage` to each routed channel, and
// `chat.update` by channel and ts so an approval request shows its outcome in place.
// The token travels only in the Authorization header and appears in no error.
import type { DeliveryResult, MessageRef } from '../../ports';
import type { SlackMessage, SlackTransport } from './slack-message';
import { postWithRetry, slackErrorCode, transport, type HttpTransport, type TransportOverrides, type Verdict } from './slack-http';

export const SLACK_API = 'https://slack.com/api';

/** Web API errors worth another attempt: Slack's side, not ours. */
const TRANSIENT_ERRORS = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

export class BotNotifier implements SlackTransport {
  private readonly http: HttpTransport;
  private readonly apiBase: string;

  constructor(
    private readonly botToken: string,
    options: TransportOverrides & { readonly apiBase?: string } = {},
  ) {
    this.http = transport(options);
    this.apiBase = options.apiBase ?? SLACK_API;
  }

  async notify(message: SlackMessage, channels: readonly string[]): Promise<DeliveryResult> {
    return this.each(
      channels.map((channel) => ({ channel })),
      'chat.postMessage',
      message,
    );
  }

  async update(refs: readonly MessageRef[], message: SlackMessage): Promise<DeliveryResult> {
    return this.each(refs, 'chat.update', message);
  }

  private async each(targets: readonly { channel: string; ts?: string }[], method: string, message: SlackMessage): Promise<DeliveryResult> {
    if (targets.length === 0) return { ok: false, error: `${method}: no channel to post to`, attempts: 0 };
    const refs: MessageRef[] = [];
    let attempts = 0;
    for (const target of targets) {
      const outcome = await this.call(method, { ...target, text: message.text, blocks: message.blocks });
      attempts += outcome.attempts;
      if (!outcome.ok) return { ok: false, error: `${method} to ${target.channel} failed: ${outcome.error}`, attempts };
      refs.push(outcome.ref);
    }
    return { ok: true, refs };
  }

  private async call(method: string, payload: Record<string, unknown>) {
    const outcome = await postWithRetry(
      this.http,
      {
        url: `${this.apiBase}/${method}`,
        headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${this.botToken}` },
        body: JSON.stringify(payload),
      },
      judgeApiAnswer,
    );
    if (!outcome.ok) return outcome;
    const answer = JSON.parse(outcome.body) as { channel?: string; ts?: string };
    return {
      ok: true as const,
      attempts: outcome.attempts,
      ref: { channel: String(answer.channel ?? payload.channel), ts: String(answer.ts ?? payload.ts) },
    };
  }
}

/** The Web API says `{"ok": false, "error": "..."}` in an HTTP 200; only Slack-side errors retry. */
function judgeApiAnswer(status: number, body: string): Verdict {
  if (status < 200 || status >= 300) return { kind: 'fail', reason: `HTTP ${status}` };
  let answer: { ok?: unknown; error?: unknown };
  try {
    answer = JSON.parse(body) as typeof answer;
  } catch {
    return { kind: 'retry', reason: 'unreadable answer from Slack' };
  }
  if (answer.ok === true) return { kind: 'done' };
  const code = slackErrorCode(answer.error);
  return TRANSIENT_ERRORS.has(code) ? { kind: 'retry', reason: `Slack error ${code}` } : { kind: 'fail', reason: `Slack error ${code}` };
}
