// Adapter (Slack): a signature-verified interaction body → the click it describes (who, in
// which workspace, approve or deny, which grant). Slack's wire format stops here; the use
// case (use-cases/slack-decision.ts) decides what the click counts for.
import * as z from 'zod';
import { GRANT_ID_PATTERN } from '../../domain/ids';
import type { ParsedClick } from '../../domain/slack-click';
import { APPROVE_ACTION, DENY_ACTION } from './messages';

const blockActionsSchema = z.looseObject({
  type: z.literal('block_actions'),
  user: z.looseObject({ id: z.string().min(1).max(64) }),
  team: z.looseObject({ id: z.string().min(1).max(64) }).nullish(),
  actions: z.array(z.looseObject({ type: z.string(), action_id: z.string().max(255), value: z.string().max(2000).optional() })).min(1),
});

/** `rawBody` is the form-encoded body Slack posts (`payload=<json>`). */
export function parseSlackClick(rawBody: string): ParsedClick {
  const payload = new URLSearchParams(rawBody).get('payload');
  if (payload === null) return { ok: false, reason: 'not a button click on a Taskbound message' };
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return { ok: false, reason: 'not a button click on a Taskbound message' };
  }
  const parsed = blockActionsSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'not a button click on a Taskbound message' };
  const interaction = parsed.data;
  const action = interaction.actions[0];
  const decision = action?.action_id === APPROVE_ACTION ? 'approve' : action?.action_id === DENY_ACTION ? 'deny' : undefined;
  if (!action || action.type !== 'button' || !decision) return { ok: false, reason: 'unknown action' };
  if (!action.value || !GRANT_ID_PATTERN.test(action.value)) return { ok: false, reason: 'the button names no grant' };
  return {
    ok: true,
    click: {
      slackUserId: interaction.user.id,
      ...(interaction.team?.id ? { teamId: interaction.team.id } : {}),
      decision,
      grantId: action.value,
    },
  };
}
