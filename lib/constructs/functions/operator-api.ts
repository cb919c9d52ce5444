// CDK construct: operator-api, behind the IAM-authenticated operator endpoint
// (operator-endpoint.ts). An approval by an authenticated person issues at once.
import { Duration } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { grantDelivering, grantScheduling, IssueCredentials, PublishGrantEvents, UseGrantStore } from '../capabilities';
import { TaskboundFunction } from '../taskbound-function';
import { engineFunctionProps, functionId, grantsTo, type EngineWiring } from './engine-function';
import { issuingEnvironment } from './environment';

export class OperatorApiFunction extends TaskboundFunction {
  constructor(scope: Construct, wiring: EngineWiring) {
    super(
      scope,
      functionId('operator-api'),
      engineFunctionProps(wiring, 'operator-api', {
        environment: issuingEnvironment(wiring, 'operator-api'),
        timeout: Duration.seconds(30),
      }),
    );
    const grants = grantsTo(this.engineRole, wiring);
    new UseGrantStore(this, grants);
    new PublishGrantEvents(this, grants);
    new IssueCredentials(this, grants);
    grantDelivering(this, grants);
    grantScheduling(this, grants);
  }
}
