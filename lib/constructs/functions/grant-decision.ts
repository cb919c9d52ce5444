// CDK construct: grant-decision, which refuses a decision sent on the bus: it reads the grant
// it names, records the refusal and answers `Grant Decision Refused`. Nothing that issues.
import type { Construct } from 'constructs';
import { PublishGrantEvents, UseGrantStore } from '../capabilities';
import { TaskboundFunction } from '../taskbound-function';
import { engineFunctionProps, functionId, grantsTo, type EngineWiring } from './engine-function';
import { refusalEnvironment } from './environment';

export class GrantDecisionFunction extends TaskboundFunction {
  constructor(scope: Construct, wiring: EngineWiring) {
    super(scope, functionId('grant-decision'), engineFunctionProps(wiring, 'grant-decision', { environment: refusalEnvironment(wiring) }));
    const grants = grantsTo(this.engineRole, wiring);
    new UseGrantStore(this, grants);
    new PublishGrantEvents(this, grants);
  }
}
