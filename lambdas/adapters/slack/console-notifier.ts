// Adapter (console): the local engine's Slack when no SLACK_WEBHOOK_URL is set. Prints each
// alert as readable text (header, facts, what to do next) instead of Block Kit JSON.
import type { DeliveryResult, MessageRef } from '../../ports';
import type { Block, SlackMessage, SlackTransport } from './slack-message';

type Write = (line: string) => void;

export class ConsoleNotifier implements SlackTransport {
  private posted = 0;

  constructor(private readonly write: Write = (line) => process.stdout.write(`${line}\n`)) {}

  async notify(message: SlackMessage, channels: readonly string[]): Promise<DeliveryResult> {
    const channel = channels[0] ?? 'console';
    const ref = { channel, ts: String(++this.posted) };
    this.write(renderMessage(message, channels.length ? `to ${channels.join(', ')}` : ''));
    return { ok: true, refs: [ref] };
  }

  async update(refs: readonly MessageRef[], message: SlackMessage): Promise<DeliveryResult> {
    this.write(renderMessage(message, `update of message ${refs.map((ref) => ref.ts).join(', ')}`));
    return { ok: true, refs };
  }
}

/** Block Kit as a terminal shows it: mrkdwn marks and escapes removed, times in UTC. */
export function renderMessage(message: SlackMessage, note = ''): string {
  const lines = message.blocks.flatMap(renderBlock);
  return ['─'.repeat(60), ...(note ? [`(${note})`] : []), ...(lines.length ? lines : [readable(message.text)])].join('\n');
}

function renderBlock(block: Block): string[] {
  const text = (block.text as { text?: string } | undefined)?.text;
  switch (block.type) {
    case 'header':
      return [`▌ ${text ?? ''}`];
    case 'section': {
      const facts = (block.fields as { text: string }[] | undefined) ?? [];
      return [...(text ? [readable(text)] : []), ...facts.map((fact) => `  ${readable(fact.text).replace('\n', ': ')}`)];
    }
    case 'context':
      return ((block.elements as { text: string }[] | undefined) ?? []).map((element) => `  → ${readable(element.text)}`);
    case 'actions': {
      const buttons = (block.elements as { text: { text: string }; value?: string }[] | undefined) ?? [];
      return [
        `  ${buttons.map((button) => `[${button.text.text}]`).join(' ')}  (in Slack; locally: taskbound approve|deny ${buttons[0]?.value ?? ''} --as WHO --reason WHY)`,
      ];
    }
    default:
      return [];
  }
}

function readable(mrkdwn: string): string {
  return mrkdwn
    .replace(/<!date\^\d+\^[^|>]*\|([^>]*)>/g, '$1')
    .replace(/[*`]/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
