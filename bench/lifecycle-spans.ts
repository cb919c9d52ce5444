// Bench: where a lifecycle's time goes. Joins what the runtime saw (when its calls answered, each
// delivery read) with what the engine recorded (the grant's audit times, the delivery's version
// date), all on this host's clock, into the spans of time-to-credential and time-to-dead.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import type { Grant } from '../lambdas/domain/grant';
import { LOCAL_TABLE } from '../lambdas/local/engine';
import { localClientConfig } from '../lambdas/local/host/sdk-clients';
import type { DeliveryRead } from './driver';
import { ascending, nearestRank, round2 } from './percentiles';

/** What the runtime saw of one lifecycle, epoch ms on this host. */
export interface RuntimeTimeline {
  readonly taskId: string;
  /** PutEvents(Task Started) answered. */
  readonly startAnsweredMs: number;
  readonly reads: readonly DeliveryRead[];
  /** The delivery's version date, from the read that found it. */
  readonly deliveredAtMs?: number;
  /** PutEvents(Task Ended) answered. */
  readonly endAnsweredMs: number;
  /** The last probe that still worked was sent; the first refused one answered. */
  readonly lastAcceptedSentMs?: number;
  readonly refusedMs: number;
}

/**
 * The spans of time-to-credential, then of time-to-dead, each from the end of the one before (their
 * sum is the figure); then the revocation's record (off the path: the authority refuses once asked,
 * and its write and the `revoked` entry follow); then two counts.
 */
type SpanName =
  | 'acceptedToDecided'
  | 'decidedToIssued'
  | 'issuedToDelivered'
  | 'deliveredToRead'
  | 'acceptedToClaimed'
  | 'claimedToRefused'
  | 'claimedToRevoked'
  | 'readsMissed'
  | 'probeResolution';

const SPAN_MEANING: Readonly<Record<SpanName, string>> = {
  acceptedToDecided: 'PutEvents(Task Started) answered → the handler decided (its `requested` audit entry, taken as the handler starts)',
  decidedToIssued: 'the grant opened (slot, grant and standing in one transaction), issue and canary → the `issued` audit entry',
  issuedToDelivered: 'the grant `active`, the delivery created, locked and written → its version date',
  deliveredToRead: "the delivery holds the credential → the runtime's read that finds it answers (the wait strategy's share)",
  acceptedToClaimed:
    'PutEvents(Task Ended) answered → the revocation claimed (its audit entry; the engine reads nothing first, so it can be stamped before the answer reaches the runtime: ≤ 0)',
  claimedToRefused: "the revocation claimed → the runtime's refused probe answers (probes every 10 ms)",
  claimedToRevoked: 'the revocation claimed → the `revoked` audit entry (the authority has written it; not on the path to refused)',
  readsMissed: 'delivery reads that found nothing, per lifecycle',
  probeResolution: 'the last accepted probe sent → the refused probe answered: the uncertainty of time-to-dead',
};

/** The grants of one run, by task id, read from the engine's table as the CLI reads them. */
export async function grantsOf(engineUrl: string, taskPrefix: string): Promise<Map<string, Grant>> {
  const dynamo = new DynamoDBClient(localClientConfig(engineUrl));
  const documents = DynamoDBDocumentClient.from(dynamo);
  const found = new Map<string, Grant>();
  try {
    for await (const page of paginateScan({ client: documents }, { TableName: LOCAL_TABLE })) {
      for (const grant of (page.Items ?? []) as Grant[]) if (grant.taskId?.startsWith(taskPrefix)) found.set(grant.taskId, grant);
    }
  } finally {
    dynamo.destroy();
  }
  return found;
}

const auditAt = (grant: Grant, action: string): number | undefined => {
  const at = grant.audit.find((entry) => entry.action === action)?.at;
  return at ? Date.parse(at) : undefined;
};

/** Each span's samples (ms) over the lifecycles whose grant recorded every step. */
export function spanSamples(timelines: readonly RuntimeTimeline[], grants: ReadonlyMap<string, Grant>): Record<SpanName, number[]> {
  const samples = Object.fromEntries(Object.keys(SPAN_MEANING).map((name) => [name, [] as number[]])) as Record<SpanName, number[]>;
  for (const timeline of timelines) {
    const grant = grants.get(timeline.taskId);
    const found = timeline.reads.at(-1);
    if (!grant || !found) continue;
    const decided = auditAt(grant, 'requested');
    const issued = auditAt(grant, 'issued');
    const claimed = grant.audit.find((entry) => entry.action.startsWith('revoke:'))?.at;
    const revoked = auditAt(grant, 'revoked');
    if (
      decided === undefined ||
      issued === undefined ||
      timeline.deliveredAtMs === undefined ||
      claimed === undefined ||
      revoked === undefined
    )
      continue;
    samples.acceptedToDecided.push(decided - timeline.startAnsweredMs);
    samples.decidedToIssued.push(issued - decided);
    samples.issuedToDelivered.push(timeline.deliveredAtMs - issued);
    samples.deliveredToRead.push(found.answeredMs - timeline.deliveredAtMs);
    samples.readsMissed.push(timeline.reads.length - 1);
    samples.acceptedToClaimed.push(Date.parse(claimed) - timeline.endAnsweredMs);
    samples.claimedToRefused.push(timeline.refusedMs - Date.parse(claimed));
    samples.claimedToRevoked.push(revoked - Date.parse(claimed));
    if (timeline.lastAcceptedSentMs !== undefined) samples.probeResolution.push(timeline.refusedMs - timeline.lastAcceptedSentMs);
  }
  return samples;
}

export interface SpanFigure {
  readonly meaning: string;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** p50/p90/p99/max of each span (ms; `readsMissed` is a count), with what it measures. */
export function summariseSpans(samples: Record<SpanName, number[]>): { lifecycles: number; spans: Record<string, SpanFigure> } {
  const spans: Record<string, SpanFigure> = {};
  for (const [name, values] of Object.entries(samples) as [SpanName, number[]][]) {
    const sorted = ascending(values);
    spans[name] = {
      meaning: SPAN_MEANING[name],
      p50: round2(nearestRank(sorted, 50)),
      p90: round2(nearestRank(sorted, 90)),
      p99: round2(nearestRank(sorted, 99)),
      max: round2(sorted.at(-1) ?? Number.NaN),
    };
  }
  return { lifecycles: samples.acceptedToDecided.length, spans };
}
