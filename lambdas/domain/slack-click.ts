// Domain: a Slack button click on an approval request, as the Slack adapter reads it from a
// signature-verified interaction (adapters/slack/interaction-payload.ts) and the use case decides
// it (use-cases/slack-decision.ts). Who clicked is Slack's word, which its signature vouches for.

/** A button click on a Taskbound approval message, as the Slack adapter read it. */
export interface SlackClick {
  readonly slackUserId: string;
  readonly teamId?: string;
  readonly decision: 'approve' | 'deny';
  readonly grantId: string;
}

export type ParsedClick = { readonly ok: true; readonly click: SlackClick } | { readonly ok: false; readonly reason: string };
