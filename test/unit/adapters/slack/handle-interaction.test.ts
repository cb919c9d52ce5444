import { describe, expect, it } from 'vitest';
import { APPROVE_ACTION, DENY_ACTION } from '../../../../lambdas/adapters/slack/messages';
import { grantDecisionSchema } from '../../../../lambdas/domain/events';
import { handleSlackInteraction, type InboundEvent } from '../../../../lambdas/adapters/slack/handle-interaction';
import { SLACK_SOURCE } from '../../../../lambdas/routes';

const GRANT_ID = 'g-abcdefghijklmnopqrstuvwxyz';
const approvers = { U0SRE: 'sre@example.com', U0CFO: 'cfo@example.com' };
const clock = { now: () => new Date('2025-03-01T12:00:00Z') };

function click(user: string, actionId: string, extra: Record<string, unknown> = {}) {
  const payload = { type: 'block_actions', user: { id: user }, team: { id: 'T0ACME' }, actions: [{ type: 'button', action_id: actionId, value: GRANT_ID, block_id: 'taskbound.approval' }], ...extra };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function harness() {
  const published: InboundEvent[] = [];
  return { published, deps: { publish: async (event: InboundEvent) => void published.push(event), clock } };
}

describe('handleSlackInteraction', () => {
  it('turns a mapped approver’s Approve click into a Grant Decision from taskbound.slack', async () => {
    const { deps, published } = harness();
    const result = await handleSlackInteraction(deps, { approvers }, click('U0SRE', APPROVE_ACTION));
    expect(result).toMatchObject({ outcome: 'decision-sent', decision: { grantId: GRANT_ID, decision: 'approve', approver: 'sre@example.com' } });
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ source: SLACK_SOURCE, detailType: 'Grant Decision', time: clock.now() });
    expect(grantDecisionSchema.safeParse(published[0]?.detail).success).toBe(true);
  });

  it('turns a Deny click into a deny decision', async () => {
    const { deps, published } = harness();
    await handleSlackInteraction(deps, { approvers }, click('U0CFO', DENY_ACTION));
    expect(published[0]?.detail).toMatchObject({ decision: 'deny', approver: 'cfo@example.com' });
  });

  it('refuses a Slack user missing from the approver map, and emits nothing', async () => {
    const { deps, published } = harness();
    const result = await handleSlackInteraction(deps, { approvers }, click('U0STRANGER', APPROVE_ACTION));
    expect(result).toMatchObject({ outcome: 'refused', reason: expect.stringContaining('unknown Slack user') });
    expect(published).toEqual([]);
  });

  it('does not treat inherited object keys as approvers', async () => {
    const { deps, published } = harness();
    const result = await handleSlackInteraction(deps, { approvers }, click('constructor', APPROVE_ACTION));
    expect(result.outcome).toBe('refused');
    expect(published).toEqual([]);
  });

  it('emits the same decision twice for a double click (the engine counts an approver once; tested in use-cases)', async () => {
    // decideApproval refuses a second approval by the same person, and the grant store's
    // conditional writes make a redelivered event a no-op: the duplicate is harmless.
    const { deps, published } = harness();
    await handleSlackInteraction(deps, { approvers }, click('U0SRE', APPROVE_ACTION));
    await handleSlackInteraction(deps, { approvers }, click('U0SRE', APPROVE_ACTION));
    expect(published).toHaveLength(2);
    expect(published[1]).toEqual(published[0]);
  });

  it('refuses unknown actions, non-button payloads and malformed bodies', async () => {
    const { deps, published } = harness();
    const refusals = await Promise.all([
      handleSlackInteraction(deps, { approvers }, click('U0SRE', 'taskbound.escalate')),
      handleSlackInteraction(deps, { approvers }, new URLSearchParams({ payload: JSON.stringify({ type: 'view_submission', user: { id: 'U0SRE' } }) }).toString()),
      handleSlackInteraction(deps, { approvers }, click('U0SRE', APPROVE_ACTION, { actions: [{ type: 'static_select', action_id: APPROVE_ACTION, value: GRANT_ID }] })),
      handleSlackInteraction(deps, { approvers }, click('U0SRE', APPROVE_ACTION, { actions: [{ type: 'button', action_id: APPROVE_ACTION, value: 'g-../../etc' }] })),
      handleSlackInteraction(deps, { approvers }, 'payload=%7Bnot-json'),
      handleSlackInteraction(deps, { approvers }, 'token=abc'),
    ]);
    expect(refusals.map((result) => result.outcome)).toEqual(Array(6).fill('refused'));
    expect(published).toEqual([]);
  });

  it('refuses clicks from another workspace when a team is configured', async () => {
    const { deps, published } = harness();
    const result = await handleSlackInteraction(deps, { approvers, teamId: 'T0OTHER' }, click('U0SRE', APPROVE_ACTION));
    expect(result).toMatchObject({ outcome: 'refused', reason: 'click from another Slack workspace' });
    expect(published).toEqual([]);
  });
});
