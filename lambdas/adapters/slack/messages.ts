// Adapter (Slack): the alert and approval messages, in Block Kit with a plain-text fallback.
// Each says who (agent, owner, requester), what (scopes, credential id: never a secret), why,
// when, and what to do next. Every piece of text goes through block-kit.ts, so it fits.
import type { RevocationTrigger } from '../../domain/grant';
import { GRANT_ID_PATTERN } from '../../domain/ids';
import type { AgentSuspendedDetail, AlertEvent, GrantAlertDetail } from '../../domain/alert-event';
import { severityOf, type Severity } from '../../domain/alert-routing';
import type { ApprovalProgress } from '../../ports';
import { BLOCK_KIT_LIMITS as L, code, context, cutBuilt, divider, fields, header, mrkdwnText, plainText, section } from './block-kit';
import type { Block, SlackMessage } from './slack-message';

/** `action_id`s of the approval buttons; the interaction endpoint maps them back. */
export const APPROVE_ACTION = 'taskbound.approve';
export const DENY_ACTION = 'taskbound.deny';

const ICON: Readonly<Record<Severity, string>> = { info: 'ℹ️', action: '✋', warning: '⚠️', critical: '🚨' };

const REVOKED_BECAUSE: Readonly<Record<RevocationTrigger, { title: string; why: string; next: string }>> = {
  task_ended: {
    title: 'Credential revoked: task ended',
    why: 'its task ended',
    next: 'Nothing to do: Taskbound now probes the credential to prove it is dead.',
  },
  expired: {
    title: 'Credential revoked: TTL expired',
    why: 'its time to live ran out before the task ended',
    next: 'Check why the task outran its TTL; Taskbound now proves the credential dead.',
  },
  leaked: {
    title: 'Leaked credential revoked',
    why: 'it was reported leaked',
    next: 'Find where it leaked and review what it touched (`taskbound grants show`); brokered secrets are rotated.',
  },
  suspended: {
    title: 'Credential revoked: agent suspended',
    why: 'its agent was suspended',
    next: 'Once it is safe, a person other than its owner resumes it with `taskbound resume`.',
  },
  manual: {
    title: 'Credential revoked by hand',
    why: 'someone revoked it',
    next: 'Nothing to do if expected; otherwise read its audit chain with `taskbound grants show`.',
  },
};

interface Story {
  readonly title: string;
  readonly summary: string;
  readonly next: string;
  readonly extraFields?: readonly (readonly [string, string])[];
}

/** The message for an alert. `Grant Pending Approval` gives the approval request. */
export function alertMessage(event: AlertEvent): SlackMessage {
  if (event.detailType === 'Agent Suspended') return suspendedMessage(event.detail);
  if (event.detailType === 'Grant Pending Approval') return approvalRequestMessage(event.detail);
  if (event.detailType === 'Agent Suspension Completed') return suspensionCompletedMessage(event.detail, severityOf(event));
  const severity = severityOf(event);
  const story = grantStory(event.detailType, event.detail);
  return compose(severity, story, event.detail);
}

function grantStory(
  detailType: Exclude<AlertEvent['detailType'], 'Agent Suspended' | 'Grant Pending Approval' | 'Agent Suspension Completed'>,
  d: GrantAlertDetail,
): Story {
  // A spoke's grant names its account in the story itself, so the notification's plain text says where to look.
  const grant = `grant ${code(d.grantId, 80)} (task ${code(d.taskId, 140)})${d.account ? ` in account ${code(d.account, 16)}` : ''}`;
  const reason = d.reason ? `: ${mrkdwnText(d.reason, 1500)}` : '';
  const credential = d.credentialId ? `credential ${code(d.credentialId, 300)}` : 'the credential';
  switch (detailType) {
    case 'Grant Requested':
      return {
        title: `Grant requested: ${d.agentId}`,
        summary: `Agent ${code(d.agentId, 70)} asked for credentials for ${grant}.`,
        next: 'Nothing to do: the policy decides.',
      };
    case 'Grant Issued':
      return {
        title: `Credential issued: ${d.agentId}`,
        summary: `Taskbound issued ${credential} for ${grant}.`,
        next: 'Nothing to do: it is revoked when the task ends or the TTL runs out.',
        extraFields: d.expiresAt ? [['Expires', when(d.expiresAt)]] : [],
      };
    case 'Grant Denied':
      return {
        title: `Grant denied: ${d.agentId}`,
        summary: `No credential for ${grant}${reason || ': no reason recorded'}.`,
        next: 'If the agent needs this, fix the request or the policy (`taskbound policy check`).',
      };
    case 'Grant Revoked': {
      const cause = REVOKED_BECAUSE[d.trigger ?? 'manual'];
      return {
        title: cause.title,
        summary: `Taskbound revoked ${credential} of ${grant} because ${cause.why}${reason}.`,
        next: cause.next,
      };
    }
    case 'Revocation Verified':
      return {
        title: `Revocation verified: ${d.agentId}`,
        summary: `Taskbound probed ${credential} of ${grant} and AWS rejected it${reason}. It is dead.`,
        next: 'Nothing to do.',
        extraFields: d.propagationMs !== undefined ? [['Refused after', humanDuration(d.propagationMs)]] : [],
      };
    case 'Revocation Failed':
      return {
        title: `Revocation failed: ${d.agentId}`,
        summary: `Taskbound could not revoke ${credential} of ${grant}${reason}. It may still work.`,
        next: d.account
          ? `The sweep retries. If this repeats, disable the credential in IAM of account ${code(d.account, 16)} by hand and check the spoke engine role there (docs/deploy.md).`
          : 'The sweep retries. If this repeats, disable the credential in IAM by hand and check the engine’s IAM permissions.',
        extraFields: d.secretArn ? [['Secret', code(d.secretArn, 300)]] : [],
      };
    case 'Credential Still Valid': {
      const after = d.stillValidAfterNoticeMs !== undefined ? humanDuration(d.stillValidAfterNoticeMs) : undefined;
      return {
        title: after ? `Credential still valid ${after} after revocation` : 'Credential still valid after revocation',
        summary: `${capitalise(credential)} of ${grant} still worked${after ? ` *${after}*` : ''} after Taskbound was told to revoke it${reason}.`,
        next: 'Act now: deactivate the access key or revoke the role’s sessions in IAM. The sweep keeps revoking and probing.',
        extraFields: after ? [['Valid after notice', after]] : [],
      };
    }
    case 'Credential Used After Revocation':
      return usedAfterRevocationStory(d, credential, grant);
    case 'Orphan Credential Found':
      return {
        title: `Orphan credential found: ${d.agentId}`,
        summary: `Found ${credential} that no live grant explains, near ${grant}${reason}.`,
        next: 'Taskbound revokes it. Find out who created it: it did not come from a live task.',
      };
    case 'Grant Decision Refused':
      return {
        title: `Decision not counted: ${d.agentId}`,
        summary: `${mrkdwnText(d.approver ?? 'someone', 256)}’s ${mrkdwnText(d.decision ?? 'decision', 16)} on ${grant} was not counted${reason}.`,
        // From the bus (a field anyone can write: a mistake, or a forgery) or from the operator endpoint or Slack.
        next:
          d.refusedSource === undefined
            ? refusedDecisionNext(d)
            : `A decision on the bus carries no authority, whoever it names: decide through the operator endpoint (\`taskbound approve|deny ${code(d.grantId, 80)} --reason …\`) or Slack. If no one meant to send it, find out who can put events on the bus.`,
      };
    case 'Agent Resume Refused':
      // From the bus (a field anyone can write) or from the operator endpoint (the agent's owner).
      return d.refusedSource === undefined
        ? {
            title: `Resume refused: ${d.agentId}`,
            summary: `A resume of ${code(d.agentId, 70)} was refused${reason}. The agent stays suspended.`,
            next: 'An agent’s owner may not lift its suspension alone: ask another person from the policy.',
          }
        : {
            title: `Resume not counted: ${d.agentId}`,
            summary: `An Agent Resumed event for ${code(d.agentId, 70)} was refused${reason}. The agent stays suspended.`,
            next: `Resume through the operator endpoint: \`taskbound resume ${mrkdwnText(d.agentId, 64)} --reason …\`.`,
          };
  }
}

/** What to do after a person's decision was not counted: a late one needs nothing, an ineligible one another approver. */
function refusedDecisionNext(d: GrantAlertDetail): string {
  // The grant's state as the refusal found it: no longer pending means the decision came too late to matter.
  if (d.state !== undefined && d.state !== 'pending_approval')
    return `Nothing to decide: the request was already settled (${mrkdwnText(d.state, 32)}). See \`taskbound grants show ${code(d.grantId, 80)}\`.`;
  return 'Owners and requesters may not decide; each approver counts once. Ask another approver from the policy’s group.';
}

/** Each call CloudTrail recorded after revocation: what, when, from where (never parameters). */
function usedAfterRevocationStory(d: GrantAlertDetail, credential: string, grant: string): Story {
  const calls = d.calls ?? [];
  const count = d.callCount ?? calls.length;
  const refused = (errorCode: string | undefined) => (errorCode ? ` (refused: ${mrkdwnText(errorCode, 64)})` : '');
  const lines = calls
    .slice(0, 10)
    .map(
      (call) =>
        `• ${code(call.eventName, 128)} at ${when(call.eventTime)} from ${code(call.sourceIp ?? 'unknown IP', 64)}${refused(call.errorCode)}`,
    );
  const more = count > lines.length ? `\n…and ${count - lines.length} more (see \`taskbound grants show\`)` : '';
  return {
    title: `Credential used after revocation: ${d.agentId}`,
    summary:
      `CloudTrail recorded ${count} call(s) with ${credential} of ${grant} after it was revoked${d.revokedAt ? ` at ${when(d.revokedAt)}` : ''}` +
      `: possible misuse.\n${lines.join('\n')}${more}`,
    next: 'Find who holds the credential (the source IPs above), review what those calls reached, and treat the agent as compromised: `taskbound suspend`.',
    extraFields: [['Calls after revocation', String(count)]],
  };
}

function suspendedMessage(d: AgentSuspendedDetail): SlackMessage {
  const summary = `${mrkdwnText(d.by, 256)} suspended agent ${code(d.agentId, 70)}: ${mrkdwnText(d.reason, 1024)}. The engine denies it new grants and revokes every live one; _Agent Suspension Completed_ follows with how that ended (an agent the policy does not know that holds no live grant is not suspended: the engine records the refusal).`;
  const next = `Once it is safe, a person other than its owner resumes it: \`taskbound resume ${mrkdwnText(d.agentId, 64)}\`.`;
  const blocks = [
    header(`${ICON.warning} Agent suspended: ${d.agentId}`),
    section(summary),
    fields([
      ['Agent', code(d.agentId, 70)],
      ['By', mrkdwnText(d.by, 256)],
      ['When', when(d.at)],
    ]),
    context([`*Next:* ${next}`]),
  ];
  return {
    text: fallback(
      `Agent suspended: ${d.agentId}`,
      `${d.by} suspended ${d.agentId}: ${d.reason}`,
      `resume with taskbound resume ${d.agentId} once safe`,
    ),
    blocks,
  };
}

/** The kill switch's outcome: one post for all of the agent's grants. */
function suspensionCompletedMessage(d: GrantAlertDetail, severity: Severity): SlackMessage {
  const tally = d.revocations ?? { grants: 0, verified: 0, awaitingProof: 0, failed: 0, closedOtherwise: 0, elapsedMs: 0 };
  const parts = [
    `${tally.verified} verified dead`,
    ...(tally.awaitingProof > 0 ? [`${tally.awaitingProof} revoked and still being probed`] : []),
    ...(tally.failed > 0 ? [`*${tally.failed} not revoked*`] : []),
    ...(tally.closedOtherwise > 0 ? [`${tally.closedOtherwise} closed without a live credential`] : []),
  ];
  const grants = tally.grants === 1 ? '1 live grant' : `${tally.grants} live grants`;
  const summary =
    tally.grants === 0
      ? `Agent ${code(d.agentId, 70)} held no live grant when it was suspended (${mrkdwnText(d.reason ?? '', 1024)}).`
      : `The kill switch on agent ${code(d.agentId, 70)} (${mrkdwnText(d.reason ?? '', 1024)}) took ${tally.elapsedMs < 60_000 ? `${(tally.elapsedMs / 1000).toFixed(1)} s` : humanDuration(tally.elapsedMs)}: of its ${grants}, ${parts.join(', ')}.`;
  const next =
    tally.failed > 0
      ? 'Act on each `Revocation Failed` alert: the sweep retries, but disable those credentials in IAM by hand if it repeats.'
      : tally.awaitingProof > 0
        ? 'The sweep keeps probing; a credential that stays alive raises `Credential Still Valid`.'
        : `Nothing left alive. Once it is safe, a person other than its owner resumes it: \`taskbound resume ${mrkdwnText(d.agentId, 64)}\`.`;
  const title = `Kill switch done: ${d.agentId}`;
  const blocks = [
    header(`${ICON[severity]} ${title}`),
    section(summary),
    fields([
      ['Agent', code(d.agentId, 70)],
      ['Grants', String(tally.grants)],
      ['Verified dead', String(tally.verified)],
      ['Not revoked', String(tally.failed)],
      ['When', when(d.at)],
    ]),
    context([`*Next:* ${next}`]),
  ];
  return { text: fallback(title, stripMarkup(summary), stripMarkup(next)), blocks };
}

/** Where an approval stands, for the request's updated form. */
/** The approval request, with Approve and Deny buttons while a decision is still possible. */
export function approvalRequestMessage(
  d: GrantAlertDetail,
  progress: ApprovalProgress = { kind: 'waiting', approvedBy: [] },
): SlackMessage {
  const required = d.requiredApprovals ?? 1;
  const title =
    progress.kind === 'waiting'
      ? `${ICON.action} Approval needed: ${d.agentId}`
      : progress.kind === 'issued'
        ? `✅ Approved: ${d.agentId}`
        : `⛔ Denied: ${d.agentId}`;
  const summary = `${mrkdwnText(d.requestedBy ?? 'Someone', 256)} asks for ${scopesText(d.scopes)} for agent ${code(d.agentId, 70)}.\n*Purpose:* ${mrkdwnText(d.purpose ?? 'not given', 1100)}`;
  const facts: (readonly [string, string])[] = [
    ['Agent', code(d.agentId, 70)],
    ['Owner', mrkdwnText(d.owner ?? 'unknown', 256)],
    ['Requested by', requesterText(d)],
    ['Task', code(d.taskId, 140)],
    ['Scopes', scopesInAccount(d)],
    ['TTL', d.ttlSeconds !== undefined ? humanDuration(d.ttlSeconds * 1000) : 'agent default'],
    ['Risk tier', mrkdwnText(d.riskTier ?? 'unknown', 32)],
    [
      'Approvals needed',
      `${required} of ${d.approvers?.length ? d.approvers.map((a) => mrkdwnText(a, 128)).join(', ') : 'the approver group'}`,
    ],
    ['Grant', code(d.grantId, 80)],
    ...(d.approvalDeadline ? ([['Decide by', when(d.approvalDeadline)]] as [string, string][]) : []),
  ];
  const blocks: Block[] = [header(title), section(summary), fields(facts)];
  blocks.push(section(outcomeText(progress, required)));
  if (progress.kind === 'waiting') {
    // Only a well-formed grant id goes into a button: the click hands it back verbatim.
    if (GRANT_ID_PATTERN.test(d.grantId)) blocks.push(approvalButtons(d.grantId));
    blocks.push(
      context([
        `The owner and the requester may not approve; each approver counts once. From a terminal: \`taskbound approve ${mrkdwnText(d.grantId, 40)} --reason …\` (signed with your AWS credentials)`,
      ]),
    );
  }
  const plainOutcome =
    progress.kind === 'waiting'
      ? `needs ${required} approval(s)`
      : progress.kind === 'issued'
        ? 'approved, credential issued'
        : `denied: ${progress.reason}`;
  return {
    text: fallback(
      `Approval for ${d.agentId}: ${plainOutcome}`,
      `${d.requestedBy ?? 'someone'} asks for ${(d.scopes ?? []).join(', ')} for task ${d.taskId}. Purpose: ${d.purpose ?? 'not given'}`,
      `grant ${d.grantId}`,
    ),
    blocks,
  };
}

function outcomeText(progress: ApprovalProgress, required: number): string {
  const names = (people: readonly string[]) => people.map((person) => mrkdwnText(person, 128)).join(', ');
  switch (progress.kind) {
    case 'waiting':
      return progress.approvedBy.length === 0
        ? '*Status:* waiting for approval.'
        : `*Status:* ${progress.approvedBy.length} of ${required} approvals (${names(progress.approvedBy)}); waiting for ${required - progress.approvedBy.length} more.`;
    case 'issued':
      return `*Outcome:* approved${progress.approvedBy.length ? ` by ${names(progress.approvedBy)}` : ''}; the credential was issued${progress.expiresAt ? ` and expires ${when(progress.expiresAt)}` : ''}.`;
    case 'denied':
      return `*Outcome:* denied: ${mrkdwnText(progress.reason, 1500)}. No credential was issued.`;
  }
}

function approvalButtons(value: string): Block {
  return {
    type: 'actions',
    block_id: 'taskbound.approval',
    elements: [
      {
        type: 'button',
        action_id: APPROVE_ACTION,
        style: 'primary',
        value,
        text: { type: 'plain_text', text: plainText('Approve', L.buttonText) },
      },
      {
        type: 'button',
        action_id: DENY_ACTION,
        style: 'danger',
        value,
        text: { type: 'plain_text', text: plainText('Deny', L.buttonText) },
        confirm: {
          title: { type: 'plain_text', text: plainText('Deny this grant?', L.confirmTitle) },
          text: {
            type: 'plain_text',
            text: plainText('The agent gets no credential for this task. This cannot be undone.', L.confirmText),
          },
          confirm: { type: 'plain_text', text: plainText('Deny', L.confirmButton) },
          deny: { type: 'plain_text', text: plainText('Keep waiting', L.confirmButton) },
          style: 'danger',
        },
      },
    ],
  };
}

function compose(severity: Severity, story: Story, d: GrantAlertDetail): SlackMessage {
  const facts: (readonly [string, string])[] = [
    ['Agent', code(d.agentId, 70)],
    ['Owner', mrkdwnText(d.owner ?? 'unknown', 256)],
    ['Requested by', requesterText(d)],
    ['Scopes', scopesInAccount(d)],
    [
      'Credential',
      d.credentialId ? `${code(d.credentialId, 300)}${d.credentialKind ? ` (${mrkdwnText(d.credentialKind, 32)})` : ''}` : 'none',
    ],
    ['When', when(d.at)],
    ...(story.extraFields ?? []),
  ];
  const blocks: Block[] = [
    header(`${ICON[severity]} ${story.title}`),
    section(story.summary),
    fields(facts),
    divider,
    context([`*Next:* ${story.next}`]),
  ];
  return { text: fallback(story.title, stripMarkup(story.summary), stripMarkup(story.next)), blocks };
}

/**
 * Who asked, as far as it can be told: a refused `Task Started`'s requester is marked unverified,
 * or said to be missing or invalid (its text is then not in the event at all).
 */
function requesterText(d: GrantAlertDetail): string {
  switch (d.requestedByStatus) {
    case 'unverified':
      return d.requestedBy ? `${mrkdwnText(d.requestedBy, 256)} (unverified: named by an event that was refused)` : 'not given';
    case 'not given':
      return 'not given in the event';
    case 'invalid in the event':
      return 'invalid in the event (not shown)';
    case undefined:
      return mrkdwnText(d.requestedBy ?? 'unknown', 256);
  }
}

/** The scopes, and the account their credential lives in when it is not the engine's own. */
function scopesInAccount(d: GrantAlertDetail): string {
  return d.account ? `${scopesText(d.scopes)} in account ${code(d.account, 16)}` : scopesText(d.scopes);
}

function scopesText(scopes: readonly string[] | undefined): string {
  if (!scopes || scopes.length === 0) return 'none';
  const shown = scopes.slice(0, 10).map((scope) => code(scope, 80));
  return cutBuilt(shown.join(', ') + (scopes.length > shown.length ? ` and ${scopes.length - shown.length} more` : ''), 1000);
}

/** Slack renders the time in each reader's zone; the fallback is UTC. */
function when(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return mrkdwnText(iso, 64);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time_secs}|${utc(ms)}>`;
}

function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `850 ms`, `42 s`, `3 min 5 s`, `2 h 10 min`, `3 d 4 h`. */
export function humanDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'an unknown time';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  const units: [number, string][] = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor((s % 86_400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'min'],
    [s % 60, 's'],
  ];
  const first = units.findIndex(([value]) => value > 0);
  return units
    .slice(first, first + 2)
    .filter(([value]) => value > 0)
    .map(([value, unit]) => `${value} ${unit}`)
    .join(' ');
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The mrkdwn-free reading of a built sentence, for the notification fallback. */
function stripMarkup(text: string): string {
  return text
    .replace(/<!date\^\d+\^[^|>]*\|([^>]*)>/g, '$1')
    .replace(/[`*]/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The plain fallback, escaped once and cut to a length notifications show. */
function fallback(title: string, what: string, next: string): string {
  return mrkdwnText(`${title}. ${what} Next: ${next}`, L.fallbackText);
}
