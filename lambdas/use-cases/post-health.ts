// Use case: the engine's own health, told to people. An alarm goes to the critical channel (its
// return to OK to the info channel); the digest, routine events summarised, to the info channel.
// Either one undelivered is a failed outcome, so the handler throws and the platform retries.
import type { RoutingConfig } from '../domain/alert-routing';
import type { EngineAlarm } from '../domain/engine-alarm';
import type { Notifier } from '../ports';
import { buildDigest, type DigestDeps } from './build-digest';

export interface HealthDeps {
  readonly notifier: Notifier;
  readonly routing: RoutingConfig;
}

export type HealthOutcome = { readonly outcome: 'posted' } | { readonly outcome: 'failed'; readonly error: string };

const channelsFor = (routing: RoutingConfig, severity: 'critical' | 'info') => {
  const channel = routing.severityChannels[severity] ?? routing.defaultChannel;
  return channel ? [channel] : [];
};

export async function postEngineAlarm(deps: HealthDeps, alarm: EngineAlarm): Promise<HealthOutcome> {
  const severity = alarm.NewStateValue === 'ALARM' ? 'critical' : 'info';
  const delivered = await deps.notifier.notify({ kind: 'engine-alarm', alarm }, channelsFor(deps.routing, severity));
  return delivered.ok ? { outcome: 'posted' } : { outcome: 'failed', error: delivered.error };
}

export async function postDigest(deps: HealthDeps & DigestDeps, hours: number): Promise<HealthOutcome & { readonly grants: number }> {
  const report = await buildDigest(deps, hours);
  const delivered = await deps.notifier.notify({ kind: 'digest', report, hours }, channelsFor(deps.routing, 'info'));
  const grants = report.overall.grants.requested;
  return delivered.ok ? { outcome: 'posted', grants } : { outcome: 'failed', error: delivered.error, grants };
}
