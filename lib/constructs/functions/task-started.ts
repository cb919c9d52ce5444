// CDK construct: task-started, which checks a task's request against the policy and issues
// the credential at once (or asks for approval): it issues, delivers and schedules expiry.
import type { Construct } from 'constructs';
import { grantDelivering, grantScheduling, IssueCredentials, OpenGrants, PublishGrantEvents, UseGrantStore } from '../capabilities';
import { TaskboundFunction } from '../taskbound-function';
import { engineFunctionProps, functionId, grantsTo, type EngineWiring } from './engine-function';
import { issuingEnvironment } from './environment';

export class TaskStartedFunction extends TaskboundFunction {
  constructor(scope: Construct, wiring: EngineWiring) {
    super(
      scope,
      functionId('task-started'),
      engineFunctionProps(wiring, 'task-started', { environment: issuingEnvironment(wiring, 'task-started') }),
    );
    const grants = grantsTo(this.engineRole, wiring);
    new UseGrantStore(this, grants);
    new OpenGrants(this, grants);
    new PublishGrantEvents(this, grants);
    new IssueCredentials(this, grants);
    grantDelivering(this, grants);
    grantScheduling(this, grants);
  }
}
