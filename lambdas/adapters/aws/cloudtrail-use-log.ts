// Adapter (AWS CloudTrail): the calls made with one access key id (AKIA keys and ASIA
// session keys alike), read from CloudTrail event history with LookupEvents, minutes late.
import { paginateLookupEvents, type CloudTrailClient, type Event } from '@aws-sdk/client-cloudtrail';
import * as z from 'zod';
import type { RecordedCall } from '../../domain/use-after-revocation';
import type { CredentialUseLog } from '../../ports';

export interface CloudTrailUseLogOptions {
  readonly cloudTrail: CloudTrailClient;
  /**
   * Stop after this many events (LookupEvents pages hold 50, and the account may look up
   * only twice a second per region): a credential this busy after revocation is alarm enough.
   */
  readonly maxEvents?: number;
}

/**
 * The few fields of the raw CloudTrail record worth keeping. Request parameters and
 * response elements are never read: they may quote what the caller sent.
 */
const recordSchema = z.looseObject({
  sourceIPAddress: z.string().max(256).optional(),
  userAgent: z.string().max(1024).optional(),
  errorCode: z.string().max(256).optional(),
  // Documented in the CloudTrail User Guide, "CloudTrail userIdentity element", AWS STS source identity.
  userIdentity: z.looseObject({ sessionContext: z.looseObject({ sourceIdentity: z.string().max(64).optional() }).optional() }).optional(),
});

function recordOf(raw: string | undefined): z.infer<typeof recordSchema> {
  if (!raw) return {};
  try {
    const parsed = recordSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

function callOf(event: Event): RecordedCall | undefined {
  if (!event.EventId || !event.EventName || !event.EventTime) return undefined;
  const record = recordOf(event.CloudTrailEvent);
  return {
    eventId: event.EventId,
    eventName: event.EventName,
    eventSource: event.EventSource ?? 'unknown',
    eventTime: event.EventTime,
    ...(record.sourceIPAddress ? { sourceIp: record.sourceIPAddress } : {}),
    ...(record.userAgent ? { userAgent: record.userAgent } : {}),
    ...(record.errorCode ? { errorCode: record.errorCode } : {}),
    ...(record.userIdentity?.sessionContext?.sourceIdentity ? { sourceIdentity: record.userIdentity.sessionContext.sourceIdentity } : {}),
  };
}

/**
 * Reads management events by `AccessKeyId`. Event history covers one region and 90 days,
 * and only management events (data events such as S3 object reads need a trail): the
 * engine's region is where its calls are looked up.
 */
export class CloudTrailUseLog implements CredentialUseLog {
  private readonly maxEvents: number;

  constructor(private readonly options: CloudTrailUseLogOptions) {
    this.maxEvents = options.maxEvents ?? 1000;
  }

  async callsWith(accessKeyId: string, from: Date, to: Date): Promise<readonly RecordedCall[]> {
    const calls: RecordedCall[] = [];
    const pages = paginateLookupEvents(
      { client: this.options.cloudTrail, pageSize: 50 },
      { LookupAttributes: [{ AttributeKey: 'AccessKeyId', AttributeValue: accessKeyId }], StartTime: from, EndTime: to },
    );
    for await (const page of pages) {
      for (const event of page.Events ?? []) {
        const call = callOf(event);
        if (call) calls.push(call);
      }
      if (calls.length >= this.maxEvents) break;
    }
    return calls.slice(0, this.maxEvents);
  }
}
