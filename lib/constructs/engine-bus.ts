// CDK construct: the `taskbound` event bus, its resource policy and its archive. Anyone in
// the account (and the listed producer accounts) may send inbound events; only the engine's
// own roles, named exactly, may speak as the engine.
import { Aws } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { TaskboundConfig } from '../config';
import { CLI_SOURCE, ENGINE_SOURCE, engineRoleArn, engineRoleArns, SLACK_SOURCE } from '../naming';

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

    // A forged `Revocation Verified` or Slack approval would be believed downstream: only the
    // engine's exact roles may send those sources, in any account. `events:source` is
    // multivalued (one value per entry of a PutEvents batch): `ForAnyValue:` makes one
    // forged entry enough to refuse the whole call; a plain StringEquals would never match.
    const reserve = (sid: string, source: string, roleArns: string[]) =>
      this.bus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid,
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['events:PutEvents'],
          resources: [this.bus.eventBusArn],
          conditions: { 'ForAnyValue:StringEquals': { 'events:source': [source] }, ArnNotEquals: { 'aws:PrincipalArn': roleArns } },
        }),
      );
    reserve('OnlyTheEngineSpeaksAsTheEngine', ENGINE_SOURCE, engineRoleArns(config));
    reserve('OnlyTheSlackFunctionSpeaksAsSlack', SLACK_SOURCE, [engineRoleArn(config, 'slack-interactions')]);
    if (config.operatorPrincipalArns.length > 0) {
      // While bus decisions from the CLI source are still believed, only the named operators may send them.
      this.bus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'OnlyOperatorsSpeakAsTheCli',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['events:PutEvents'],
          resources: [this.bus.eventBusArn],
          conditions: { 'ForAnyValue:StringEquals': { 'events:source': [CLI_SOURCE] }, ArnNotLike: { 'aws:PrincipalArn': config.operatorPrincipalArns } },
        }),
      );
    }
    if (config.producerAccounts.length > 0) {
      // Producer accounts send task events, never as a source some handler trusts.
      this.bus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'TrustedSourcesOnlyFromThisAccount',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['events:PutEvents'],
          resources: [this.bus.eventBusArn],
          conditions: { 'ForAnyValue:StringEquals': { 'events:source': [ENGINE_SOURCE, SLACK_SOURCE, CLI_SOURCE] }, StringNotEquals: { 'aws:PrincipalAccount': Aws.ACCOUNT_ID } },
        }),
      );
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
