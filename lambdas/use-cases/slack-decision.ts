// Use case: a signature-verified Slack click → a decision by the person the policy maps that
// Slack user to (`people.<id>.slackUserIds`). Slack authenticated the user; the engine decides
// at once (decide-grant), so nothing travels the bus and no event can speak for anyone.
import { personForSlackUser } from '../domain/people';
import type { ParsedClick } from '../domain/slack-click';
import { decideGrant } from './decide-grant';
import type { EngineDeps } from './engine-deps';
import { refuseUnknownGrant } from './refuse-unknown-grant';

export interface SlackDecisionConfig {
  /** When set, clicks from any other Slack workspace are refused. */
  readonly teamId?: string;
}

export type SlackDecisionResult = {
  readonly outcome: 'counted' | 'issued' | 'denied' | 'refused' | 'not-found' | 'failed';
  readonly reason?: string;
  readonly person?: string;
  readonly grantId?: string;
  /** The ephemeral answer shown to the person who clicked. */
  readonly reply: string;
};

export const SLACK_INTERACTION = 'Slack Interaction';
const SLACK_SOURCE_LABEL = 'slack';

export async function decideFromSlack(deps: EngineDeps, config: SlackDecisionConfig, parsed: ParsedClick): Promise<SlackDecisionResult> {
  if (!parsed.ok) return refuse(deps, parsed.reason, {});
  const { click } = parsed;
  if (config.teamId !== undefined && click.teamId !== config.teamId) return refuse(deps, 'click from another Slack workspace', click);
  const who = personForSlackUser(deps.policy.people, click.slackUserId);
  if (!who.ok) {
    return refuse(
      deps,
      who.reason,
      click,
      `You are not mapped to a Taskbound person: ask an admin to add your Slack user id (${click.slackUserId.slice(0, 64)}) under people in the policy.`,
    );
  }
  const person = who.person;
  const verb = click.decision === 'approve' ? 'approved' : 'denied';
  const result = await decideGrant(deps, {
    grantId: click.grantId,
    decision: click.decision,
    approver: person,
    reason: `${verb} in Slack by ${click.slackUserId}`,
  });
  const base = { person, grantId: click.grantId };
  switch (result.outcome) {
    case 'not-found': {
      const refused = await refuseUnknownGrant(deps, {
        detailType: 'Grant Decision',
        source: SLACK_SOURCE_LABEL,
        grantId: click.grantId,
        by: person,
      });
      return { outcome: 'not-found', reason: refused.reason, ...base, reply: `Taskbound has no grant ${click.grantId}.` };
    }
    case 'refused':
      return { outcome: 'refused', reason: result.reason, ...base, reply: `Your decision was not counted: ${result.reason}.` };
    case 'counted':
      return { outcome: 'counted', ...base, reply: `Your approval as ${person} counted; ${result.remaining} more needed.` };
    case 'issued':
      return { outcome: 'issued', ...base, reply: `Your approval as ${person} completed the request: the credential was issued.` };
    case 'denied':
      return {
        outcome: 'denied',
        ...(result.grant.reason ? { reason: result.grant.reason } : {}),
        ...base,
        reply: `The request is denied${result.grant.reason ? `: ${result.grant.reason}` : ''}.`,
      };
    case 'failed':
    case 'revoked-during-issue':
      return {
        outcome: 'failed',
        reason: result.grant.reason ?? result.grant.state,
        ...base,
        reply: `Approved, but issuing failed: ${result.grant.reason ?? result.grant.state}.`,
      };
  }
}

async function refuse(
  deps: EngineDeps,
  reason: string,
  click: { readonly slackUserId?: string; readonly grantId?: string },
  reply = `Taskbound ignored this click: ${reason}.`,
): Promise<SlackDecisionResult> {
  await deps.store.recordRejectedEvent({
    at: deps.clock.now().toISOString(),
    detailType: SLACK_INTERACTION,
    source: SLACK_SOURCE_LABEL,
    reason,
    excerpt: JSON.stringify({ slackUserId: click.slackUserId, grantId: click.grantId }),
  });
  return { outcome: 'refused', reason, ...(click.grantId ? { grantId: click.grantId } : {}), reply };
}
