// CDK construct: the `taskbound` event bus, its resource policy and its archive. Anyone in
// the account (and the listed producer accounts) may send inbound events; only the engine's
// own roles, named exactly, may speak as the engine.
import { Aws } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { TaskboundConfig } from '../config';
import { archiveName, ARCHIVE_NAME_MAX_CHARS, CLI_SOURCE, ENGINE_SOURCE, engineRoleArn, publisherRoleArns, SLACK_SOURCE } from '../naming';

export interface EngineBusProps {
  readonly config: TaskboundConfig;
}

/** The bus, a policy that reserves the engine's sources for the engine, and a replayable archive. */
export class EngineBus extends Construct {
  readonly bus: events.EventBus;

  constructor(scope: Construct, id: string, props: EngineBusProps) {
    super(scope, id);
    const { config } = props;
    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: config.busName,
      description: 'Taskbound: task events in, grant events out',
    });

    // A forged `Revocation Verified` would be believed downstream: only the engine's exact roles
    // may send its source, in any account (and `taskbound.slack` stays the Slack function's). `events:source` is
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
    reserve('OnlyTheEngineSpeaksAsTheEngine', ENGINE_SOURCE, publisherRoleArns(config));
    reserve('OnlyTheSlackFunctionSpeaksAsSlack', SLACK_SOURCE, [engineRoleArn(config, 'slack-interactions')]);
    if (config.producerAccounts.length > 0) {
      // Producer accounts send task events, never as a source some handler trusts.
      this.bus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'TrustedSourcesOnlyFromThisAccount',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['events:PutEvents'],
          resources: [this.bus.eventBusArn],
          conditions: {
            'ForAnyValue:StringEquals': { 'events:source': [ENGINE_SOURCE, SLACK_SOURCE, CLI_SOURCE] },
            StringNotEquals: { 'aws:PrincipalAccount': Aws.ACCOUNT_ID },
          },
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
    // No pattern: every event on the bus is archived, so any incident can be replayed. Named
    // explicitly: a name CloudFormation generates from the construct path can pass EventBridge's 48 characters.
    const name = archiveName(config);
    if (name.length > ARCHIVE_NAME_MAX_CHARS)
      throw new Error(`the bus archive's name ${name} is over EventBridge's ${ARCHIVE_NAME_MAX_CHARS} characters`);
    new events.CfnArchive(this, 'Archive', {
      archiveName: name,
      sourceArn: this.bus.eventBusArn,
      description: 'Every Taskbound event, for replay',
      retentionDays: config.archiveRetentionDays,
    });
  }
}
