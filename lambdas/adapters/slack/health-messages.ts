// Adapter (Slack): the engine's own health, in Slack. A CloudWatch alarm (dead letters, failed
// revocations, sweep errors, credentials still valid) as SNS delivers it → a message people act
// on; and the periodic digest: routine events summarised instead of posted one by one.
import type { EngineAlarm } from '../../domain/engine-alarm';
import type { GovernanceReport, Stats } from '../../domain/report';
import { code, context, fields, header, mrkdwnText, section } from './block-kit';
import type { SlackMessage } from './slack-message';

/** What the operator should do first, by what the alarm watches (names come from lib/constructs/observability.ts). */
function nextStep(alarmName: string): string {
  if (/DeadLetters/i.test(alarmName))
    return 'Events reached a dead-letter queue unprocessed: read the queue, fix the cause, redrive them. Grants they concern may still hold credentials (`taskbound report`).';
  if (/RevocationFailed/i.test(alarmName))
    return 'A credential may still work: the sweep retries; run `taskbound sweep` and check `taskbound report` for standing privilege.';
  if (/StillValid/i.test(alarmName))
    return 'A revoked credential kept working: `taskbound report` lists it; read its audit chain with `taskbound grants show`.';
  if (/Orphan/i.test(alarmName)) return 'A credential exists with no grant record: find who created it and delete it.';
  if (/Sweep/i.test(alarmName))
    return 'The sweep failed: read its logs; until it runs, overdue revocations wait. `taskbound sweep` asks for one now.';
  return 'Open the alarm in CloudWatch and the engine dashboard.';
}

/** The Slack message for an alarm's change of state; an alarm back to OK says so briefly. */
export function alarmMessage(alarm: EngineAlarm): SlackMessage {
  const firing = alarm.NewStateValue === 'ALARM';
  const title = `${firing ? '🚨 Alarm' : alarm.NewStateValue === 'OK' ? '✅ Resolved' : '❔ No data'}: ${alarm.AlarmName}`;
  const what = alarm.AlarmDescription ? mrkdwnText(alarm.AlarmDescription, 1000) : 'Taskbound engine alarm';
  const blocks = [
    header(title),
    section(`${what}\n${mrkdwnText(alarm.NewStateReason, 1200)}`),
    fields([
      ['State', `${alarm.OldStateValue ?? '?'} → ${alarm.NewStateValue}`],
      ['Since', alarm.StateChangeTime],
      ...(alarm.Region ? ([['Region', alarm.Region]] as const) : []),
    ]),
    ...(firing ? [section(`*Next:* ${nextStep(alarm.AlarmName)}`)] : []),
  ];
  return { text: `${title}: ${alarm.NewStateReason}`.slice(0, 3000), blocks };
}

const seconds = (stats: Stats) => (stats.p95 === undefined ? 'n/a' : `${(stats.p95 / 1000).toFixed(1)} s`);

/** The digest: a period's routine activity in one message, findings first. */
export function digestMessage(report: GovernanceReport, hours: number): SlackMessage {
  const f = report.overall;
  const findings = [
    f.standingPrivilege.count > 0 ? `• *${f.standingPrivilege.count}* credentials alive with no task (standing privilege)` : undefined,
    f.stillValidAfterNotice.count > 0 ? `• *${f.stillValidAfterNotice.count}* credentials still valid after notice` : undefined,
    f.useAfterRevocation.count > 0 ? `• *${f.useAfterRevocation.count}* uses after revocation` : undefined,
    f.brokenChains.length > 0 ? `• *${f.brokenChains.length}* audit chains do not verify` : undefined,
    f.suspensions.suspendedNow.length > 0
      ? `• suspended: ${f.suspensions.suspendedNow.map((agent) => code(agent.agentId, 70)).join(', ')}`
      : undefined,
  ].filter((line): line is string => line !== undefined);
  const g = f.grants;
  const title = `Taskbound digest: the last ${hours} h`;
  const blocks = [
    header(title),
    section(
      findings.length > 0
        ? `*Findings*\n${findings.join('\n')}`
        : 'No findings: no standing privilege, nothing outlived its notice, every audit chain verifies.',
    ),
    fields([
      ['Grants', `${g.requested} requested, ${g.issued} issued, ${g.denied} denied, ${g.pending} pending`],
      ['Approvals', `${g.expiredUnanswered} unanswered in time; decisions p95 ${seconds(f.approvals.timeToDecisionMs)}`],
      [
        'Revocation p95',
        `notice→revoked ${seconds(f.revocation.noticeToRevokedMs)}, revoked→verified ${seconds(f.revocation.revokedToVerifiedMs)}`,
      ],
      ['Leaks', `${f.leaks.count} reported; time to kill p95 ${seconds(f.leaks.timeToKillMs)}`],
    ]),
    context([`${report.since} → ${report.until}. Details: \`taskbound report --since ${hours}h\``]),
  ];
  return { text: `${title}: ${g.requested} grants, ${findings.length} findings`, blocks };
}
