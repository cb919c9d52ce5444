// CDK construct: a dead-letter queue as the engine wants them all (encrypted, TLS-only,
// kept for the longest SQS allows so nothing is lost over a long weekend).
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** An SQS dead-letter queue: SSE, SSL-only, 14 days retention. */
export class DeadLetterQueue extends sqs.Queue {
  constructor(scope: Construct, id: string, removalPolicy: RemovalPolicy) {
    super(scope, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
  }
}
