// CDK construct: the functions an expiry reaches (expire-grant from its schedule or, with
// `expiry: due-index`, from the per-minute shard readers; ttl-expiry-stream from the table's TTL
// deletions). They revoke, and an expiry that fired early is armed again (use-cases/expire-grant.ts),
// so in the `schedule` mode they schedule as well as cancel.
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import type { EngineHandler } from '../../bundling';
import { expireFunctionName } from '../../naming';
import {
  grantDelivering,
  grantRevokingDeliveries,
  grantScheduling,
  PublishGrantEvents,
  RevokeCredentials,
  UseGrantStore,
} from '../capabilities';
import { TaskboundFunction, type TaskboundFunctionProps } from '../taskbound-function';
import { engineFunctionProps, functionId, grantsTo, type EngineWiring } from './engine-function';
import { expiringEnvironment } from './environment';

class ExpiringFunction extends TaskboundFunction {
  protected constructor(
    scope: Construct,
    handler: EngineHandler,
    wiring: EngineWiring,
    own: Partial<Pick<TaskboundFunctionProps, 'timeout' | 'functionName'>>,
  ) {
    super(scope, functionId(handler), engineFunctionProps(wiring, handler, { environment: expiringEnvironment(wiring, handler), ...own }));
    const grants = grantsTo(this.engineRole, wiring);
    new UseGrantStore(this, grants);
    new PublishGrantEvents(this, grants);
    new RevokeCredentials(this, grants);
    grantRevokingDeliveries(this, grants);
    grantDelivering(this, grants);
    grantScheduling(this, grants);
  }
}

/** expire-grant: named, so the scheduler role and each schedule can name it before it exists (no cycle). */
export class ExpireGrantFunction extends ExpiringFunction {
  constructor(scope: Construct, wiring: EngineWiring) {
    super(scope, 'expire-grant', wiring, { functionName: expireFunctionName(wiring.config) });
  }
}

/** ttl-expiry-stream: the grant table's stream, filtered to TTL deletions of expiry markers. */
export class TtlExpiryStreamFunction extends ExpiringFunction {
  constructor(scope: Construct, wiring: EngineWiring) {
    super(scope, 'ttl-expiry-stream', wiring, { timeout: Duration.minutes(2) });
    this.addEventSource(
      new DynamoEventSource(wiring.state.table, {
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: 100,
        bisectBatchOnError: true,
        retryAttempts: 10,
        onFailure: new SqsDlq(wiring.deadLetterQueues['ttl-expiry-stream']),
        // Only TTL deletions of expiry markers: DynamoDB is the deleting principal, sk is EXPIRY.
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual('REMOVE'),
            userIdentity: { type: lambda.FilterRule.isEqual('Service'), principalId: lambda.FilterRule.isEqual('dynamodb.amazonaws.com') },
            dynamodb: { Keys: { sk: { S: lambda.FilterRule.isEqual('EXPIRY') } } },
          }),
        ],
      }),
    );
  }
}
