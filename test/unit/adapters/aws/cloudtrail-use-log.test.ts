import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudTrailUseLog } from '../../../../lambdas/adapters/aws/cloudtrail-use-log';
import { startAwsProtocolServer, type RunningServer } from '../../../../lambdas/local/emulated-aws/aws-protocol-server';
import { jsonOk, type AwsRequest } from '../../../../lambdas/local/emulated-aws/protocol';

const KEY = 'ASIAEXAMPLESESSION01';
const FROM = new Date('2026-11-30T01:00:00.000Z');
const TO = new Date('2026-11-30T02:00:00.000Z');
const CREDENTIALS = { accessKeyId: 'AKIAENGINEEXAMPLE000', secretAccessKey: 'engine-secret' };

/** A CloudTrail record as event history returns it: the raw event is a JSON string. */
function event(id: string, name: string, time: string, record: Record<string, unknown>) {
  return {
    EventId: id,
    EventName: name,
    EventSource: 'secretsmanager.amazonaws.com',
    EventTime: Date.parse(time) / 1000,
    AccessKeyId: KEY,
    CloudTrailEvent: JSON.stringify({ eventID: id, eventName: name, eventTime: time, userIdentity: { accessKeyId: KEY }, ...record }),
  };
}

describe('CloudTrailUseLog over the wire', () => {
  let server: RunningServer | undefined;
  afterEach(async () => server?.close());

  /** Event history in two pages, answered over HTTP so the SDK's own serialization is what is tested. */
  async function eventHistory(): Promise<{ readonly requests: AwsRequest[]; readonly log: CloudTrailUseLog }> {
    const requests: AwsRequest[] = [];
    const pages = [
      {
        Events: [
          event('e-1', 'GetSecretValue', '2026-11-30T01:10:00Z', {
            sourceIPAddress: '203.0.113.7',
            userAgent: 'aws-cli/2.15',
            errorCode: 'AccessDenied',
            requestParameters: { secretId: 'stripe-key', clientToken: 'do-not-copy-me' },
          }),
        ],
        NextToken: 'page-2',
      },
      {
        Events: [
          event('e-2', 'DescribeSecret', '2026-11-30T01:20:00Z', {
            sourceIPAddress: '10.0.0.9',
            userAgent: 'aws-sdk-js/3 taskbound-probe',
          }),
        ],
      },
    ];
    server = await startAwsProtocolServer({
      services: [
        {
          name: 'cloudtrail',
          matches: (request) => request.target?.endsWith('.LookupEvents') ?? false,
          handle: async (request) => (requests.push(request), jsonOk(pages.shift())),
        },
      ],
    });
    const cloudTrail = new CloudTrailClient({ region: 'us-east-1', endpoint: server.url, credentials: CREDENTIALS, maxAttempts: 1 });
    return { requests, log: new CloudTrailUseLog({ cloudTrail }) };
  }

  it('looks events up by access key id and time range, page after page', async () => {
    const { requests, log } = await eventHistory();

    await log.callsWith(KEY, FROM, TO);

    expect(requests).toHaveLength(2);
    const [first, second] = requests.map((request) => JSON.parse(request.body.toString('utf8')) as Record<string, unknown>);
    expect(first).toEqual({
      LookupAttributes: [{ AttributeKey: 'AccessKeyId', AttributeValue: KEY }],
      StartTime: FROM.getTime() / 1000,
      EndTime: TO.getTime() / 1000,
      MaxResults: 50,
    });
    expect(second).toMatchObject({ NextToken: 'page-2' });
  });

  it('keeps each call’s name, source, time, IP, user agent and refusal, and nothing it was sent', async () => {
    const { log } = await eventHistory();

    const calls = await log.callsWith(KEY, FROM, TO);

    expect(calls).toEqual([
      {
        eventId: 'e-1',
        eventName: 'GetSecretValue',
        eventSource: 'secretsmanager.amazonaws.com',
        eventTime: new Date('2026-11-30T01:10:00Z'),
        sourceIp: '203.0.113.7',
        userAgent: 'aws-cli/2.15',
        errorCode: 'AccessDenied',
      },
      {
        eventId: 'e-2',
        eventName: 'DescribeSecret',
        eventSource: 'secretsmanager.amazonaws.com',
        eventTime: new Date('2026-11-30T01:20:00Z'),
        sourceIp: '10.0.0.9',
        userAgent: 'aws-sdk-js/3 taskbound-probe',
      },
    ]);
    expect(JSON.stringify(calls)).not.toContain('do-not-copy-me');
  });
});

describe('CloudTrailUseLog', () => {
  const mockCloudTrail = () => mockClient(CloudTrailClient);
  let cloudTrail: ReturnType<typeof mockCloudTrail>;
  beforeEach(() => {
    cloudTrail = mockCloudTrail();
  });
  afterEach(() => cloudTrail.restore());
  const log = (maxEvents?: number) =>
    new CloudTrailUseLog({
      cloudTrail: new CloudTrailClient({ region: 'us-east-1', credentials: CREDENTIALS }),
      ...(maxEvents ? { maxEvents } : {}),
    });

  it('tolerates a raw record it cannot read, keeping the call', async () => {
    cloudTrail
      .on(LookupEventsCommand)
      .resolves({ Events: [{ EventId: 'e-1', EventName: 'ListBuckets', EventTime: FROM, CloudTrailEvent: '{not json' }] });

    expect(await log().callsWith(KEY, FROM, TO)).toEqual([
      { eventId: 'e-1', eventName: 'ListBuckets', eventSource: 'unknown', eventTime: FROM },
    ]);
  });

  it('stops reading after its cap: a credential this busy is alarm enough', async () => {
    const page = (token?: string) => ({
      Events: Array.from({ length: 50 }, (_, index) => ({ EventId: `e-${token}-${index}`, EventName: 'ListBuckets', EventTime: FROM })),
      ...(token ? { NextToken: token } : {}),
    });
    cloudTrail.on(LookupEventsCommand).resolves(page('more'));

    const calls = await log(120).callsWith(KEY, FROM, TO);

    expect(calls).toHaveLength(120);
    expect(cloudTrail.commandCalls(LookupEventsCommand)).toHaveLength(3);
  });

  it('lets throttling surface, so the sweep retries the read', async () => {
    cloudTrail.on(LookupEventsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    await expect(log().callsWith(KEY, FROM, TO)).rejects.toMatchObject({ name: 'ThrottlingException' });
  });
});
