// Composition: the AWS envelopes the handlers parse (an EventBridge event, an SNS delivery),
// field for field the schemas of Powertools Parser 2.35 (`@aws-lambda-powertools/parser/schemas/
// eventbridge` and `/sns`), written here only for how they import zod. Powertools' files say
// `import { z } from 'zod'`, a namespace that zod re-exports: esbuild cannot tree-shake a
// re-exported namespace, so one such import put all of zod, every locale included, in each
// bundle (~285 KB). `import * as z` lets it keep only what is used. The Powertools Parser
// middleware still runs them; test/unit/composition/lambda-event-schemas.test.ts holds them
// equal to Powertools' own.
import * as z from 'zod';

/** Powertools' `EventBridgeSchema`. */
export const EventBridgeSchema = z.object({
  version: z.string(),
  id: z.string(),
  source: z.string(),
  account: z.string(),
  time: z.iso.datetime(),
  region: z.string(),
  resources: z.array(z.string()),
  'detail-type': z.string(),
  detail: z.unknown(),
  'replay-name': z.string().optional(),
});

const SnsMsgAttribute = z.object({
  Type: z.string(),
  Value: z.string(),
});

const SnsNotificationSchema = z.object({
  Subject: z.string().nullish(),
  TopicArn: z.string(),
  UnsubscribeUrl: z.url(),
  UnsubscribeURL: z.url().optional(),
  SigningCertUrl: z.url().optional(),
  SigningCertURL: z.url().optional(),
  Type: z.literal('Notification'),
  MessageAttributes: z.record(z.string(), SnsMsgAttribute).optional(),
  Message: z.string(),
  MessageId: z.string(),
  Signature: z.string().optional(),
  SignatureVersion: z.string().optional(),
  Timestamp: z.iso.datetime(),
});

const SnsRecordSchema = z.object({
  EventSource: z.literal('aws:sns'),
  EventVersion: z.string(),
  EventSubscriptionArn: z.string(),
  Sns: SnsNotificationSchema,
});

/** Powertools' `SnsSchema`: an SNS delivery to Lambda, one record at least. */
export const SnsSchema = z.object({
  Records: z.array(SnsRecordSchema).nonempty(),
});
