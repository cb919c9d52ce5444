// Tests: the envelope schemas the handlers parse with are Powertools Parser's own, field for
// field: the same JSON Schema, and the same verdict and output on valid and broken events. If a
// Powertools upgrade changes its schemas, this fails and ours are brought level.
import { EventBridgeSchema as PowertoolsEventBridge } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { SnsSchema as PowertoolsSns } from '@aws-lambda-powertools/parser/schemas/sns';
import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { EventBridgeSchema, SnsSchema } from '../../../lambdas/composition/lambda-event-schemas';

const eventBridgeEvent = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'Task Started',
  source: 'taskbound.runtime',
  account: '111122223333',
  time: '2026-01-01T00:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:ecs:us-east-1:111122223333:task/t'],
  detail: { taskId: 't-1' },
};

const snsEvent = {
  Records: [
    {
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: 'arn:aws:sns:us-east-1:111122223333:alarms:sub',
      Sns: {
        Type: 'Notification',
        MessageId: 'm-1',
        TopicArn: 'arn:aws:sns:us-east-1:111122223333:alarms',
        Subject: null,
        Message: '{"AlarmName":"a"}',
        Timestamp: '2026-01-01T00:00:00.000Z',
        SignatureVersion: '1',
        Signature: 'sig',
        SigningCertUrl: 'https://sns.us-east-1.amazonaws.com/cert.pem',
        UnsubscribeUrl: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
        MessageAttributes: { kind: { Type: 'String', Value: 'alarm' } },
      },
    },
  ],
};

const snsRecord = (sns: Record<string, unknown>) => ({
  Records: [{ ...snsEvent.Records[0], Sns: { ...snsEvent.Records[0]!.Sns, ...sns } }],
});

const verdict = (schema: z.ZodType, input: unknown) => {
  const result = schema.safeParse(input);
  return result.success
    ? { success: true, data: result.data }
    : { success: false, issues: result.error.issues.map(({ code, path, message }) => ({ code, path, message })) };
};

describe('the envelope schemas', () => {
  it('describe the same EventBridge event as Powertools', () => {
    expect(z.toJSONSchema(EventBridgeSchema)).toEqual(z.toJSONSchema(PowertoolsEventBridge));
  });

  it('describe the same SNS delivery as Powertools', () => {
    expect(z.toJSONSchema(SnsSchema)).toEqual(z.toJSONSchema(PowertoolsSns));
  });

  it.each([
    ['a valid event', eventBridgeEvent],
    ['a replayed event', { ...eventBridgeEvent, 'replay-name': 'r' }],
    ['a time that is not ISO', { ...eventBridgeEvent, time: 'yesterday' }],
    ['no source', { ...eventBridgeEvent, source: undefined }],
    ['resources that are not strings', { ...eventBridgeEvent, resources: [1] }],
    ['not an object', 'event'],
  ])('judge %s as Powertools does (EventBridge)', (_name, input) => {
    expect(verdict(EventBridgeSchema, input)).toEqual(verdict(PowertoolsEventBridge, input));
  });

  it.each([
    ['a valid delivery', snsEvent],
    ['no records', { Records: [] }],
    ['an unsubscribe URL that is not a URL', snsRecord({ UnsubscribeUrl: 'not a url' })],
    ['a type other than Notification', snsRecord({ Type: 'SubscriptionConfirmation' })],
    ['a timestamp that is not ISO', snsRecord({ Timestamp: 'now' })],
    ['another event source', { Records: [{ ...snsEvent.Records[0], EventSource: 'aws:sqs' }] }],
  ])('judge %s as Powertools does (SNS)', (_name, input) => {
    expect(verdict(SnsSchema, input)).toEqual(verdict(PowertoolsSns, input));
  });
});
