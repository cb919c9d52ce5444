// Adapter (Slack): a verified Slack button click → the `Grant Decision` event the engine decides on.
// It maps the Slack user to an approver identity and nothing more: separation of duties and
// dual control are the engine's (domain/approval.ts), applied when the event arrives.
import { z } from 'zod';
import { grantDecisionSchema, INBOUND, type GrantDecision } from '../../domain/events';
import { GRANT_ID_PATTERN } from '../../domain/ids';
import { APPROVE_ACTION, DENY_ACTION } from './messages';
import type { ApproverMap } from './slack-config';
import type { Clock } from '../../ports';
import { SLACK_SOURCE } from '../../routes';

/** The source every decision from Slack carries on the bus. */

export interface InboundEvent {
  readonly source: string;
  readonly detailType: string;
  readonly detail: GrantDecision;
  readonly time: Date;
}

export interface SlackInteractionDeps {
  /** Puts an inbound event on the bus; throws if the bus did not take it. */
  readonly publish: (event: InboundEvent) => Promise<void>;
  readonly clock: Clock;
}

export interface SlackInteractionConfig {
  readonly approvers: ApproverMap;
  readonly teamId?: string;
}

export type InteractionResult =
  | { readonly outcome: 'decision-sent'; readonly decision: GrantDecision; readonly reply: string }
  | { readonly outcome: 'refused'; readonly reason: string; readonly reply: string };

const blockActionsSchema = z.looseObject({
  type: z.literal('block_actions'),
  user: z.looseObject({ id: z.string().min(1).max(64) }),
  team: z.looseObject({ id: z.string().min(1).max(64) }).nullish(),
  actions: z.array(z.looseObject({ type: z.string(), action_id: z.string().max(255), value: z.string().max(2000).optional() })).min(1),
});

/** `rawBody` must already be signature-verified: this trusts who Slack says clicked. */
export async function handleSlackInteraction(deps: SlackInteractionDeps, config: SlackInteractionConfig, rawBody: string): Promise<InteractionResult> {
  const interaction = parseInteraction(rawBody);
  if (!interaction) return refuse('not a button click on a Taskbound message');
  if (config.teamId !== undefined && interaction.team?.id !== config.teamId) return refuse('click from another Slack workspace');
  const action = interaction.actions[0];
  const decision = action?.action_id === APPROVE_ACTION ? 'approve' : action?.action_id === DENY_ACTION ? 'deny' : undefined;
  if (!action || action.type !== 'button' || !decision) return refuse('unknown action');
  if (!action.value || !GRANT_ID_PATTERN.test(action.value)) return refuse('the button names no grant');
  const slackUser = interaction.user.id;
  const approver = Object.hasOwn(config.approvers, slackUser) ? config.approvers[slackUser] : undefined;
  if (!approver) return refuse(`unknown Slack user ${slackUser}: not in the approver map`, 'You are not mapped to a Taskbound approver; ask an admin to add your Slack user id to SLACK_APPROVERS.');
  const detail = grantDecisionSchema.parse({ grantId: action.value, decision, approver, reason: `${decision === 'approve' ? 'approved' : 'denied'} in Slack by ${slackUser}` });
  await deps.publish({ source: SLACK_SOURCE, detailType: INBOUND.grantDecision, detail, time: deps.clock.now() });
  const verb = decision === 'approve' ? 'approval' : 'denial';
  return { outcome: 'decision-sent', decision: detail, reply: `Your ${verb} of ${action.value} was sent as ${approver}. The request updates with the outcome; owners and requesters are not counted.` };
}

function parseInteraction(rawBody: string) {
  const payload = new URLSearchParams(rawBody).get('payload');
  if (payload === null) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const parsed = blockActionsSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

function refuse(reason: string, reply = `Taskbound ignored this click: ${reason}.`): InteractionResult {
  return { outcome: 'refused', reason, reply };
}
