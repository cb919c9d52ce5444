// Wiring: which inbound events reach which handler. The CDK rules and the local engine's
// bus are both built from this one table, so the two can never disagree.
import { INBOUND, OUTBOUND_TYPES, PROOF_PENDING } from './domain/events';
import { ENGINE_SOURCE } from './constants';

/** An EventBridge event pattern: exact-match value lists, nested for `detail`. */
export interface EventPattern {
  readonly source?: readonly string[];
  readonly 'detail-type'?: readonly string[];
  readonly detail?: Readonly<Record<string, readonly string[]>>;
}

export const HANDLERS = [
  'task-started',
  'task-ended',
  'grant-decision',
  'credential-leaked',
  'agent-status',
  'revoke-requested',
  'prove-revocation',
  'expire-grant',
  'sweep',
  'alerts',
] as const;
export type HandlerName = (typeof HANDLERS)[number];

/**
 * Every Lambda entry point under lambdas/handlers/: the routed handlers plus those that no bus
 * route reaches (the grant table's TTL stream, Slack's interactivity URL, the operator endpoint,
 * the alarm topic's Slack relay and the digest schedule).
 */
export const ENTRY_POINTS = [...HANDLERS, 'ttl-expiry-stream', 'slack-interactions', 'operator-api', 'alarm-to-slack', 'digest'] as const;
export type EntryPoint = (typeof ENTRY_POINTS)[number];

/**
 * Entry points that issue credentials: an approval by an authenticated person issues at once, so
 * the operator endpoint and Slack's interaction endpoint issue too (a bus decision never does).
 */
export const ISSUING = ['task-started', 'slack-interactions', 'operator-api'] as const satisfies readonly EntryPoint[];
/**
 * Entry points that revoke credentials (and deliver `denied` for revoked pending grants). On AWS
 * they have reserved concurrency of their own; locally they run in the revocation lane.
 */
export const REVOKING = [
  'task-ended',
  'expire-grant',
  'ttl-expiry-stream',
  'credential-leaked',
  'agent-status',
  'revoke-requested',
  'prove-revocation',
  'sweep',
] as const satisfies readonly EntryPoint[];

/** Reserved concurrency per issuing and per revoking function (a deployment's `reservedConcurrency`, docs/scale.md §4). */
export interface ConcurrencyShares {
  readonly issuing: number;
  readonly revoking: number;
}

/**
 * The default shares: the stack reserves them on AWS (lib/config.ts) and the local engine limits
 * its functions to them, so a flood queues locally where it would queue on Lambda.
 */
export const DEFAULT_RESERVED_CONCURRENCY: ConcurrencyShares = { issuing: 10, revoking: 20 };

/** The sweep reserves 1 always, shares or not: sweeps never overlap, each sees the previous one's writes. */
export const SWEEP_RESERVED_CONCURRENCY = 1;

/**
 * Reserved concurrency per entry point: each issuing and each revoking function its share, the
 * sweep 1; `false` reserves only the sweep's. The operator endpoint's function reserves only
 * when it is deployed. Entry points absent from the answer draw on the account's unreserved pool.
 */
export function reservedConcurrencyPerFunction(
  shares: ConcurrencyShares | false,
  operatorEndpoint: boolean,
): Partial<Record<EntryPoint, number>> {
  const perFunction: Partial<Record<EntryPoint, number>> = { sweep: SWEEP_RESERVED_CONCURRENCY };
  if (shares === false) return perFunction;
  for (const handler of ISSUING) if (handler !== 'operator-api' || operatorEndpoint) perFunction[handler] = shares.issuing;
  for (const handler of REVOKING) if (handler !== 'sweep') perFunction[handler] = shares.revoking;
  return perFunction;
}

/**
 * The source of the CLI's own requests (revoke, suspend, sweep, emit). No source carries
 * authority: `Grant Decision` and `Agent Resumed` never count from the bus, whoever sends them;
 * people decide through the operator endpoint or Slack, where the engine authenticates them.
 */
export const CLI_SOURCE = 'taskbound.cli';
/** Reserved for the engine's Slack function on the bus policy; Slack decisions no longer travel the bus. */
export const SLACK_SOURCE = 'taskbound.slack';

export interface Route {
  /** Rule name suffix, unique. */
  readonly name: string;
  readonly handler: HandlerName;
  readonly pattern: EventPattern;
}

export const ROUTES: readonly Route[] = [
  { name: 'task-started', handler: 'task-started', pattern: { 'detail-type': [INBOUND.taskStarted] } },
  { name: 'task-ended', handler: 'task-ended', pattern: { 'detail-type': [INBOUND.taskEnded] } },
  { name: 'grant-decision', handler: 'grant-decision', pattern: { 'detail-type': [INBOUND.grantDecision] } },
  { name: 'credential-leaked', handler: 'credential-leaked', pattern: { 'detail-type': [INBOUND.credentialLeaked] } },
  {
    name: 'aws-health-exposure',
    handler: 'credential-leaked',
    pattern: { source: ['aws.health'], 'detail-type': [INBOUND.healthEvent], detail: { eventTypeCode: ['AWS_RISK_CREDENTIALS_EXPOSED'] } },
  },
  { name: 'agent-status', handler: 'agent-status', pattern: { 'detail-type': [INBOUND.agentSuspended, INBOUND.agentResumed] } },
  { name: 'revoke-requested', handler: 'revoke-requested', pattern: { 'detail-type': [INBOUND.revokeRequested] } },
  // The engine's own: a revocation that handed on the proof of its kill (use-cases/revoke-grant.ts).
  {
    name: 'prove-revocation',
    handler: 'prove-revocation',
    pattern: { source: [ENGINE_SOURCE], 'detail-type': ['Grant Revoked'], detail: { proof: [PROOF_PENDING] } },
  },
  { name: 'sweep-requested', handler: 'sweep', pattern: { 'detail-type': [INBOUND.sweepRequested] } },
  { name: 'alerts', handler: 'alerts', pattern: { source: [ENGINE_SOURCE], 'detail-type': [...OUTBOUND_TYPES] } },
  { name: 'alerts-agent-suspended', handler: 'alerts', pattern: { 'detail-type': [INBOUND.agentSuspended] } },
];
