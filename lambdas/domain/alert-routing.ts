// Domain: who hears about which alert (routing policy, not transport). Each alert has a
// severity; the routing config picks channels by severity and by the agent's owner (a channel
// per team) and mutes routine noise.
import * as z from 'zod';
import { REVOCATION_TRIGGERS, type RevocationTrigger } from './grant';
import { ALERT_TYPES, type AlertEvent, type AlertType } from './alert-event';

export const SEVERITIES = ['info', 'action', 'warning', 'critical'] as const;
/** `action`: someone must decide (an approval request). */
export type Severity = (typeof SEVERITIES)[number];

const SEVERITY_OF: Readonly<Record<AlertType, Severity>> = {
  'Grant Requested': 'info',
  'Grant Pending Approval': 'action',
  'Grant Issued': 'info',
  'Grant Denied': 'warning',
  'Grant Revoked': 'info',
  'Revocation Verified': 'info',
  'Revocation Failed': 'critical',
  'Credential Still Valid': 'critical',
  'Credential Used After Revocation': 'critical',
  'Orphan Credential Found': 'critical',
  'Grant Decision Refused': 'warning',
  'Agent Resume Refused': 'warning',
  'Agent Suspended': 'warning',
  'Agent Suspension Completed': 'warning',
};

/** A revocation's severity follows its cause: routine ends are info, a leak is critical. */
const REVOKED_SEVERITY: Readonly<Record<RevocationTrigger, Severity>> = {
  task_ended: 'info',
  expired: 'info',
  manual: 'warning',
  suspended: 'warning',
  leaked: 'critical',
};

export function severityOf(event: AlertEvent): Severity {
  if (event.detailType === 'Grant Revoked' && 'trigger' in event.detail && event.detail.trigger)
    return REVOKED_SEVERITY[event.detail.trigger];
  // A kill switch that could not revoke everything is as urgent as the revocations that failed.
  if (event.detailType === 'Agent Suspension Completed' && 'revocations' in event.detail && (event.detail.revocations?.failed ?? 0) > 0)
    return 'critical';
  return SEVERITY_OF[event.detailType];
}

/** A Slack channel id (C…, G…) or name (#security). */
const channel = z
  .string()
  .trim()
  .regex(/^(#?[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{6,20})$/, 'a channel id like C0123ABCD or a name like #security');

export const routingConfigSchema = z.strictObject({
  /** Where an alert goes when nothing more specific applies (required for the bot). */
  defaultChannel: channel.optional(),
  /** Per-severity channels, e.g. `{ "critical": "#sec-oncall" }`. */
  severityChannels: z.partialRecord(z.enum(SEVERITIES), channel).default({}),
  /** Per-owner channels: each team also sees its own agents' alerts. Keys are owners as in the policy. */
  ownerChannels: z.record(z.string().min(1).max(256), channel).default({}),
  /** Detail-types never posted. Routine issue and verification are off by default. */
  muted: z.array(z.enum(ALERT_TYPES)).default(['Grant Requested', 'Grant Issued', 'Revocation Verified']),
  /**
   * Revocation causes never posted, e.g. `["task_ended", "expired"]` for quiet routine ends. A kill
   * switch's own are muted by default: `Agent Suspension Completed` sums them up in one post.
   */
  mutedRevocations: z.array(z.enum(REVOCATION_TRIGGERS)).default(['suspended']),
});
export type RoutingConfig = z.infer<typeof routingConfigSchema>;

export const DEFAULT_ROUTING: RoutingConfig = routingConfigSchema.parse({});

export type Route = { readonly muted: true } | { readonly muted: false; readonly severity: Severity; readonly channels: readonly string[] };

/**
 * The channels for an alert: the owner's team channel, if any, and the severity's channel
 * (or the default), once each. A webhook notifier ignores them: its URL names one channel.
 */
export function routeAlert(config: RoutingConfig, event: AlertEvent): Route {
  if (config.muted.includes(event.detailType)) return { muted: true };
  const trigger = 'trigger' in event.detail ? event.detail.trigger : undefined;
  if (event.detailType === 'Grant Revoked' && trigger && config.mutedRevocations.includes(trigger)) return { muted: true };
  const severity = severityOf(event);
  const owner = 'owner' in event.detail ? event.detail.owner : undefined;
  const ownerChannel = owner !== undefined ? config.ownerChannels[owner] : undefined;
  const severityChannel = config.severityChannels[severity] ?? config.defaultChannel;
  const channels = [ownerChannel, severityChannel].filter((value): value is string => value !== undefined);
  return { muted: false, severity, channels: [...new Set(channels)] };
}
