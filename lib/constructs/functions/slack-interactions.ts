// CDK construct: slack-interactions, Slack's interactivity URL. It verifies Slack's signature
// itself, decides as the person the policy maps the Slack user to, and an approval issues there and then.
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { grantDelivering, grantScheduling, IssueCredentials, PublishGrantEvents, ReadSlackSecret, UseGrantStore } from '../capabilities';
import { TaskboundFunction } from '../taskbound-function';
import { engineFunctionProps, functionId, grantsTo, type EngineWiring } from './engine-function';
import { slackInteractionsEnvironment } from './environment';

export class SlackInteractionsFunction extends TaskboundFunction {
  /** Paste into the Slack app (Interactivity & Shortcuts → Request URL). */
  readonly url: lambda.FunctionUrl;

  constructor(scope: Construct, wiring: EngineWiring) {
    super(
      scope,
      functionId('slack-interactions'),
      engineFunctionProps(wiring, 'slack-interactions', { environment: slackInteractionsEnvironment(wiring) }),
    );
    const grants = grantsTo(this.engineRole, wiring);
    new UseGrantStore(this, grants);
    new PublishGrantEvents(this, grants);
    new IssueCredentials(this, grants);
    grantDelivering(this, grants);
    grantScheduling(this, grants);
    new ReadSlackSecret(this, grants);
    // Slack calls this URL directly; the handler verifies Slack's request signature itself.
    this.url = this.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
  }
}
