import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventBridgeDecisionPublisher } from '../../../../lambdas/adapters/slack/eventbridge-decision-publisher';
import { startFakeSlack, type FakeSlack } from './fake-slack';

const decision = { source: 'taskbound.slack', detailType: 'Grant Decision', detail: { grantId: 'g-abcdefghijklmnopqrstuvwxyz', decision: 'approve' as const, approver: 'sre@example.com', reason: 'approved in Slack by U0SRE' }, time: new Date('2025-03-01T12:00:00Z') };

describe('eventBridgeDecisionPublisher', () => {
  let bus: FakeSlack;
  beforeAll(async () => {
    // Plays EventBridge's awsJson1.1 PutEvents on loopback.
    bus = await startFakeSlack(() => ({ status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] }) }));
  });
  afterAll(() => bus.close());
  const client = () => new EventBridgeClient({ endpoint: bus.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' }, maxAttempts: 1 });

  it('puts the decision on the named bus with its source and detail-type', async () => {
    await eventBridgeDecisionPublisher(client(), 'taskbound')(decision);
    const sent = JSON.parse(bus.posts.at(-1)?.body ?? '{}') as { Entries: Record<string, unknown>[] };
    expect(bus.posts.at(-1)?.headers['x-amz-target']).toBe('AWSEvents.PutEvents');
    expect(sent.Entries[0]).toMatchObject({ EventBusName: 'taskbound', Source: 'taskbound.slack', DetailType: 'Grant Decision' });
    expect(JSON.parse(String(sent.Entries[0]?.Detail))).toEqual(decision.detail);
  });

  it('throws when PutEvents answers 200 but failed the entry', async () => {
    bus.script({ status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'x' }] }) });
    await expect(eventBridgeDecisionPublisher(client(), 'taskbound')(decision)).rejects.toThrow('InternalFailure');
  });
});
