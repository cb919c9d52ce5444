import { describe, expect, it } from 'vitest';
import { ConsoleNotifier } from '../../../../lambdas/adapters/slack/console-notifier';
import { approvalRequestMessage } from '../../../../lambdas/adapters/slack/messages';

describe('ConsoleNotifier', () => {
  it('prints an approval request readably, with how to decide it locally', async () => {
    const lines: string[] = [];
    const notifier = new ConsoleNotifier((line) => lines.push(line));
    const message = approvalRequestMessage({
      grantId: 'g-abcdefghijklmnopqrstuvwxyz',
      taskId: 't1',
      agentId: 'refund-bot',
      at: '2025-03-01T12:00:00Z',
      requestedBy: 'dev@example.com',
      purpose: 'Refund <order> & notify',
      scopes: ['refund'],
    });
    const result = await notifier.notify(message, ['#approvals']);
    expect(result.ok).toBe(true);
    const printed = lines.join('\n');
    expect(printed).toContain('Approval needed: refund-bot');
    expect(printed).toContain('Refund <order> & notify');
    expect(printed).toContain('taskbound approve|deny g-abcdefghijklmnopqrstuvwxyz');
    expect(printed).not.toContain('&lt;');
    expect(printed).not.toContain('<!date');
  });
});
