// CDK construct: the `taskbound` event bus, its resource policy and its archive. Anyone in
// the account (and the listed producer accounts) may send inbound events; only the engine's
// own roles may speak as the engine.
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { TaskboundConfig } from '../config';
import { ENGINE_SOURCE, engineRoleArnPattern, SLACK_SOURCE } from '../naming';

export interface EngineBusProps {
  readonly config: TaskboundConfig;
}

/** The bus, a policy that reserves the engine's sources for the engine, and a replayable archive. */
export class EngineBus extends Construct {
  readonly bus: events.EventBus;

  constructor(scope: Construct, id: string, props: EngineBusProps) {
    super(scope, id);
    const { config } = props;
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: config.busName, description: 'Taskbound: task events in, grant events out' });

    // A forged `Revocation Verified` or Slack approval would be believed downstream: deny
    // those sources to every principal outside the engine's role path, in any account.
    this.bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheEngineSpeaksAsTheEngine',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: {
          StringEquals: { 'events:source': [ENGINE_SOURCE, SLACK_SOURCE] },
          ArnNotLike: { 'aws:PrincipalArn': engineRoleArnPattern(config) },
        },
      }),
    );
    if (config.producerAccounts.length > 0) {
      this.bus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'ProducerAccountsSendTaskEvents',
          principals: config.producerAccounts.map((account) => new iam.AccountPrincipal(account)),
          actions: ['events:PutEvents'],
          resources: [this.bus.eventBusArn],
        }),
      );
    }
    // No pattern: every event on the bus is archived, so any incident can be replayed.
    new events.CfnArchive(this, 'Archive', {
      sourceArn: this.bus.eventBusArn,
      description: 'Every Taskbound event, for replay',
      retentionDays: config.archiveRetentionDays,
    });
  }
}
