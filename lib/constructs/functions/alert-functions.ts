// CDK constructs: the Slack-facing functions that issue nothing: alerts (grant events to Slack,
// approval threads kept in the grant table), alarm-to-slack (CloudWatch alarms) and digest.
import { Duration } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { KeepApprovalThreads, ReadSlackSecret } from '../capabilities';
import { TaskboundFunction } from '../taskbound-function';
import { engineFunctionProps, functionId, grantsTo, type EngineWiring } from './engine-function';
import { alertsEnvironment, digestEnvironment } from './environment';

/** alerts: every grant event and agent suspension, routed to Slack. */
export class AlertsFunction extends TaskboundFunction {
  constructor(scope: Construct, wiring: EngineWiring) {
    super(scope, functionId('alerts'), engineFunctionProps(wiring, 'alerts', { environment: alertsEnvironment(wiring) }));
    const grants = grantsTo(this.engineRole, wiring);
    new ReadSlackSecret(this, grants);
    new KeepApprovalThreads(this, grants);
  }
}

/** alarm-to-slack: the alarm topic's messages, posted to Slack (subscribed in slack-health.ts). */
export class AlarmToSlackFunction extends TaskboundFunction {
  constructor(scope: Construct, wiring: EngineWiring) {
    super(scope, functionId('alarm-to-slack'), engineFunctionProps(wiring, 'alarm-to-slack', { environment: alertsEnvironment(wiring) }));
    new ReadSlackSecret(this, grantsTo(this.engineRole, wiring));
  }
}

/** digest: routine events summarised on a schedule (slack-health.ts grants it the table's scan). */
export class DigestFunction extends TaskboundFunction {
  constructor(scope: Construct, wiring: EngineWiring) {
    super(
      scope,
      functionId('digest'),
      engineFunctionProps(wiring, 'digest', { environment: digestEnvironment(wiring), timeout: Duration.minutes(2) }),
    );
    new ReadSlackSecret(this, grantsTo(this.engineRole, wiring));
  }
}
