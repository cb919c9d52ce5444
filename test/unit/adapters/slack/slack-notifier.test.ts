import { describe, expect, it } from 'vitest';
import { SlackNotifier } from '../../../../lambdas/adapters/slack/slack-notifier';
import type { SlackMessage, SlackTransport } from '../../../../lambdas/adapters/slack/slack-message';
import type { AlertEvent } from '../../../../lambdas/domain/alert-event';
import type { MessageRef } from '../../../../lambdas/ports';

const detail = {
  grantId: 'g-abcdefghijklmnopqrstuvwxyz',
  taskId: 'refund-7',
  agentId: 'refund-bot',
  at: '2025-03-01T12:00:00Z',
  requestedBy: 'dev@example.com',
  purpose: 'refund order 7',
};

function recordingTransport(canEdit: boolean) {
  const posted: { message: SlackMessage; channels: readonly string[] }[] = [];
  const edited: { refs: readonly MessageRef[]; message: SlackMessage }[] = [];
  const transport: SlackTransport = {
    notify: async (message, channels) => {
      posted.push({ message, channels });
      return { ok: true, refs: [{ channel: 'C0SECUR1TY', ts: '17000.1' }] };
    },
    ...(canEdit
      ? {
          update: async (refs: readonly MessageRef[], message: SlackMessage) => (
            edited.push({ refs, message }),
            { ok: true as const, refs }
          ),
        }
      : {}),
  };
  return { transport, posted, edited };
}

describe('SlackNotifier', () => {
  it('words an alert as a Slack message and posts it to the channels it was given', async () => {
    const { transport, posted } = recordingTransport(false);
    const event = { detailType: 'Revocation Failed', detail: { ...detail, reason: 'Throttling' } } as AlertEvent;
    const result = await new SlackNotifier(transport).notify({ kind: 'alert', event }, ['C0SECUR1TY']);
    expect(result).toEqual({ ok: true, refs: [{ channel: 'C0SECUR1TY', ts: '17000.1' }] });
    expect(posted[0]?.channels).toEqual(['C0SECUR1TY']);
    expect(posted[0]?.message.text).toContain('refund-bot');
    expect(posted[0]?.message.blocks.length).toBeGreaterThan(0);
  });

  it('edits an approval request in place only when its transport can', async () => {
    const editing = recordingTransport(true);
    const notifier = new SlackNotifier(editing.transport);
    await notifier.update?.([{ channel: 'C0SECUR1TY', ts: '17000.1' }], {
      kind: 'approval-request',
      request: detail,
      progress: { kind: 'denied', reason: 'too risky' },
    });
    expect(editing.edited[0]?.message.text).toContain('too risky');
    expect(new SlackNotifier(recordingTransport(false).transport).update).toBeUndefined();
  });
});
