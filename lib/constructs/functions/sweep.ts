// CDK construct: sweep, every few minutes and on request: revokes what is due, proves
// revocations, looks up use after revocation in CloudTrail, and hourly reconciles orphans and
// revokes live grants the policy no longer allows.
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import {
  grantCancelling,
  grantDelivering,
  grantRevokingDeliveries,
  LookUpCredentialUse,
  PublishGrantEvents,
  RevokeCredentials,
  ScanLiveGrants,
  UseGrantStore,
} from '../capabilities';
import { TaskboundFunction } from '../taskbound-function';
import { engineFunctionProps, functionId, grantsTo, type EngineWiring } from './engine-function';
import { revokingEnvironment } from './environment';

export class SweepFunction extends TaskboundFunction {
  constructor(scope: Construct, wiring: EngineWiring) {
    super(
      scope,
      functionId('sweep'),
      engineFunctionProps(wiring, 'sweep', {
        environment: revokingEnvironment(wiring, 'sweep'),
        timeout: Duration.minutes(4),
        memorySize: 1024,
      }),
    );
    const grants = grantsTo(this.engineRole, wiring);
    new UseGrantStore(this, grants);
    new PublishGrantEvents(this, grants);
    new RevokeCredentials(this, grants);
    grantRevokingDeliveries(this, grants);
    grantDelivering(this, grants);
    grantCancelling(this, grants);
    new LookUpCredentialUse(this, grants);
    new ScanLiveGrants(this, grants);

    const { config, deadLetterQueues } = wiring;
    new events.Rule(scope, 'SweepSchedule', {
      description: `Taskbound: sweep every ${config.sweepRateMinutes} minutes`,
      schedule: events.Schedule.rate(Duration.minutes(config.sweepRateMinutes)),
      targets: [
        new targets.LambdaFunction(this, {
          deadLetterQueue: deadLetterQueues.sweep,
          retryAttempts: 2,
          maxEventAge: Duration.minutes(config.sweepRateMinutes),
        }),
      ],
    });
    // Orphan reconciliation lists every /taskbound/ user and delivery secret: hourly, not every sweep.
    new events.Rule(scope, 'OrphanReconciliationSchedule', {
      description: 'Taskbound: sweep with orphan reconciliation every hour',
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [
        new targets.LambdaFunction(this, {
          event: events.RuleTargetInput.fromObject({ reconcileOrphans: true }),
          deadLetterQueue: deadLetterQueues.sweep,
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
        }),
      ],
    });
  }
}
