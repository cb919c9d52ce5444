// Tests: the synthesized Taskbound stacks, construct by construct (one shared synthesis).
import { Capture, Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { grantTableCreateInput } from '../../lambdas/adapters/aws/grant-table-definition';
import { CREDENTIAL_INDEX, DUE_INDEX } from '../../lambdas/adapters/aws/grant-table';
import { ROUTES } from '../../lambdas/routes';
import { ENGINE_HANDLERS } from '../../lib/bundling';
import { ALARMED_SIGNALS, signalMetricName } from '../../lib/constructs/observability';
import { escalationFindings, roleStatements } from './iam-escalation';
import { synthesizedApp, type SynthesizedApp } from './synthesized-app';

let synth: SynthesizedApp;
beforeAll(() => {
  synth = synthesizedApp();
}, 120_000);

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
const resourcesOf = (template: SynthesizedApp['engineTemplate']) => template.toJSON().Resources as Resources;
const policiesOfRole = (roleId: string) =>
  Object.values(resourcesOf(synth.engineTemplate)).filter(
    (resource) => resource.Type === 'AWS::IAM::Policy' && JSON.stringify(resource.Properties.Roles).includes(roleId),
  );
const statementsOf = (handlerPascal: string) => {
  const roleId = Object.keys(resourcesOf(synth.engineTemplate)).find(
    (id) => id.startsWith(`${handlerPascal}Role`) && !id.includes('Policy'),
  );
  if (!roleId) throw new Error(`no role for ${handlerPascal}`);
  return policiesOfRole(roleId).flatMap(
    (policy) => (policy.Properties.PolicyDocument as { Statement: { Sid?: string; Action: unknown; Condition?: unknown }[] }).Statement,
  );
};
const sids = (handlerPascal: string) =>
  statementsOf(handlerPascal)
    .map((statement) => statement.Sid)
    .filter(Boolean)
    .sort();

describe('grants table', () => {
  it('is on-demand with PITR, deletion protection, TTL and a NEW_AND_OLD_IMAGES stream', () => {
    synth.stateTemplate.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      Replicas: [
        Match.objectLike({ DeletionProtectionEnabled: true, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
  });

  it('has exactly the indexes, keys and projections the store creates locally', () => {
    const indexes = new Capture();
    synth.stateTemplate.hasResourceProperties('AWS::DynamoDB::GlobalTable', { GlobalSecondaryIndexes: indexes });
    const expected = grantTableCreateInput('any').GlobalSecondaryIndexes ?? [];
    expect(indexes.asArray()).toEqual(expected.map(({ IndexName, KeySchema, Projection }) => ({ IndexName, KeySchema, Projection })));
    expect(indexes.asArray().map((index: { IndexName: string }) => index.IndexName)).toEqual(
      expect.arrayContaining([DUE_INDEX.name, CREDENTIAL_INDEX.name]),
    );
  });

  it('feeds ttl-expiry-stream only with TTL deletions of expiry markers, with a dead-letter destination', () => {
    const filters = new Capture();
    synth.engineTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FilterCriteria: { Filters: [{ Pattern: filters }] },
      BisectBatchOnFunctionError: true,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    expect(JSON.parse(filters.asString())).toEqual({
      eventName: ['REMOVE'],
      userIdentity: { type: ['Service'], principalId: ['dynamodb.amazonaws.com'] },
      dynamodb: { Keys: { sk: { S: ['EXPIRY'] } } },
    });
  });
});

describe('event bus', () => {
  it("reserves the engine's source for the engine's exact roles, with the multivalued-key operator", () => {
    synth.stateTemplate.hasResourceProperties('AWS::Events::EventBusPolicy', {
      Statement: Match.objectLike({
        Sid: 'cdk-OnlyTheEngineSpeaksAsTheEngine',
        Effect: 'Deny',
        Action: 'events:PutEvents',
        Condition: {
          'ForAnyValue:StringEquals': { 'events:source': ['taskbound'] },
          ArnNotEquals: { 'aws:PrincipalArn': Match.anyValue() },
        },
      }),
    });
  });

  it('archives every event for replay', () => {
    synth.stateTemplate.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 90, EventPattern: Match.absent() });
  });

  it("has one rule per route, with the route's pattern, its handler, a retry policy and a dead-letter queue", () => {
    const rules = synth.engineTemplate.findResources('AWS::Events::Rule', {
      Properties: { Description: Match.stringLikeRegexp('^Taskbound route ') },
    });
    expect(Object.keys(rules)).toHaveLength(ROUTES.length);
    for (const route of ROUTES) {
      const [rule] = Object.values(rules).filter(
        (candidate) => candidate.Properties.Description === `Taskbound route ${route.name} -> ${route.handler}`,
      );
      if (!rule) throw new Error(`no rule for route ${route.name}`);
      const engineAccount = route.pattern.source?.includes('taskbound') ? { account: [{ Ref: 'AWS::AccountId' }] } : {};
      expect(rule.Properties.EventPattern).toEqual({ ...JSON.parse(JSON.stringify(route.pattern)), ...engineAccount });
      const [target] = rule.Properties.Targets;
      expect(JSON.stringify(target.Arn)).toContain(
        route.handler.replace(/(^|-)([a-z])/g, (_m: string, _d: string, c: string) => c.toUpperCase()),
      );
      expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 });
      expect(target.DeadLetterConfig.Arn).toBeDefined();
    }
  });

  it('forwards AWS Health exposed-key events from the default bus', () => {
    synth.engineTemplate.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: Match.absent(),
      EventPattern: { source: ['aws.health'], detail: { eventTypeCode: ['AWS_RISK_CREDENTIALS_EXPOSED'] } },
      Targets: [Match.objectLike({ DeadLetterConfig: Match.anyValue() })],
    });
  });

  it('runs the sweep every 5 minutes', () => {
    synth.engineTemplate.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
  });

  it('reconciles orphans hourly through the sweep, with its own payload', () => {
    synth.engineTemplate.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ Input: JSON.stringify({ reconcileOrphans: true }), DeadLetterConfig: Match.anyValue() })],
    });
  });
});

describe('functions', () => {
  it('are arm64, Node.js 24, traced (each one’s environment: test/infra/functions.test.ts)', () => {
    const functions = synth.engineTemplate.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('^Taskbound ') },
    });
    expect(Object.keys(functions)).toHaveLength(ENGINE_HANDLERS.length);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({ Architectures: ['arm64'], Runtime: 'nodejs24.x', TracingConfig: { Mode: 'Active' } });
    }
  });

  it('bounds the concurrency of IAM-heavy functions and keeps sweeps from overlapping', () => {
    synth.engineTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Taskbound task-started',
      ReservedConcurrentExecutions: 10,
    });
    synth.engineTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Taskbound task-ended',
      ReservedConcurrentExecutions: 20,
    });
    synth.engineTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Taskbound sweep',
      ReservedConcurrentExecutions: 1,
    });
  });

  it('exposes slack-interactions through an unauthenticated function URL (Slack signatures are verified in code)', () => {
    synth.engineTemplate.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
  });
});

describe('least privilege', () => {
  it('lets issuers create users only with the boundary, assume only tagged agent roles and pass the scheduler role only to Scheduler', () => {
    const statements = statementsOf('TaskStarted');
    const bySid = Object.fromEntries(statements.map((statement) => [statement.Sid, statement]));
    expect(bySid.CreateBoundedUsers).toMatchObject({
      Action: ['iam:CreateUser', 'iam:PutUserPolicy'],
      Condition: { StringEquals: { 'iam:PermissionsBoundary': expect.anything() } },
    });
    expect(JSON.stringify(bySid.CreateBoundedUsers?.Condition)).toContain('IssuedCredentialsBoundary');
    expect(bySid.AssumeAgentRoles?.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/taskbound:managed': 'true' },
      StringLike: { 'sts:SourceIdentity': 'g-??????????????????????????' },
    });
    expect(bySid.PassSchedulerRole?.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
    expect(bySid.PublishGrantEvents?.Condition).toEqual({
      'ForAllValues:StringEquals': { 'events:source': ['taskbound'] },
      Null: { 'events:source': 'false' },
    });
    expect(bySid.RestrictDeliveryReaders?.Condition).toEqual({ Bool: { 'secretsmanager:BlockPublicPolicy': 'true' } });
    expect(bySid.CreateDeliverySecrets?.Condition).toEqual({ StringEquals: { 'secretsmanager:KmsKeyArn': expect.anything() } });
    expect(bySid.DeliveryKeyViaSecretsManager?.Condition).toEqual({ StringEquals: { 'kms:ViaService': expect.anything() } });
  });

  it('gives issuers only what kills their own credential, and revokers nothing that issues', () => {
    for (const issuer of ['TaskStarted', 'SlackInteractions', 'OperatorApi']) {
      expect(sids(issuer)).not.toContain('RevokeIssuedUsers');
      expect(sids(issuer)).not.toContain('ListIssuedUsers');
      expect(sids(issuer)).toEqual(expect.arrayContaining(['KillIssuedUsers', 'WriteRevokedSessionsDeny']));
    }
    expect(sids('TaskEnded')).not.toEqual(expect.arrayContaining(['CreateBoundedUsers']));
    expect(sids('TaskEnded')).not.toContain('AssumeAgentRoles');
    expect(sids('TaskEnded')).toEqual(
      expect.arrayContaining(['RevokeIssuedUsers', 'WriteRevokedSessionsDeny', 'RevokeDeliverySecrets', 'DeleteExpirySchedules']),
    );
  });

  it('lets revokers rotate exactly the brokered secrets marked rotateAfterUse', () => {
    const rotate = statementsOf('Sweep').find((statement) => statement.Sid === 'RotateBrokeredSecrets') as
      { Resource: string[] } | undefined;
    expect(rotate?.Resource).toEqual([
      'arn:aws:secretsmanager:us-east-1:111122223333:secret:stripe-key',
      'arn:aws:secretsmanager:us-east-1:111122223333:secret:stripe-key-??????',
    ]);
  });

  it('lets alerts read only the Slack secret (decision paths: test/infra/operator-endpoint.test.ts)', () => {
    expect(sids('Alerts')).toEqual(['ApprovalMessageThreads', 'ReadSlackSecret', 'WriteOwnLogs']);
  });

  it('has no statement in either stack that is a path to privilege escalation', () => {
    const findings = [synth.stateTemplate, synth.engineTemplate].flatMap((template) =>
      roleStatements(template.toJSON()).flatMap(escalationFindings),
    );
    expect(findings).toEqual([]);
    const withManagedPolicies = Object.values(resourcesOf(synth.engineTemplate)).filter(
      (resource) => resource.Type === 'AWS::IAM::Role' && resource.Properties.ManagedPolicyArns,
    );
    expect(withManagedPolicies).toEqual([]);
  });

  it("lets Scheduler assume its role only for this account's expiry schedules", () => {
    synth.engineTemplate.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': Match.anyValue() }, ArnLike: { 'aws:SourceArn': Match.anyValue() } },
          }),
        ],
      },
    });
  });
});

describe('observability', () => {
  it('alarms on every dead-letter queue, each alarmed grant event and sweep errors, all to the SNS topic', () => {
    const alarms = synth.engineTemplate.findResources('AWS::CloudWatch::Alarm');
    const metrics = Object.values(alarms).map(
      (alarm) => (alarm.Properties.MetricName ?? alarm.Properties.Metrics?.[0]?.MetricStat?.Metric?.MetricName) as string,
    );
    expect(metrics.filter((name) => name === 'ApproximateNumberOfMessagesVisible')).toHaveLength(
      Object.keys(synth.engine.deadLetterQueues).length,
    );
    for (const signal of ALARMED_SIGNALS) expect(metrics).toContain(signalMetricName(signal));
    expect(metrics).toContain('Errors');
    for (const alarm of Object.values(alarms)) expect(JSON.stringify(alarm.Properties.AlarmActions)).toContain('AlarmTopic');
  });

  it('counts grant events from the bus with metric filters', () => {
    synth.engineTemplate.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '"Revocation Failed"',
      MetricTransformations: [{ MetricName: 'RevocationFailedEvents', MetricNamespace: 'Taskbound', MetricValue: '1', DefaultValue: 0 }],
    });
  });

  it('encrypts the alarm topic and dead-letter queues and requires TLS', () => {
    synth.engineTemplate.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    synth.engineTemplate.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
    synth.engineTemplate.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it("publishes the contract's events as draft-4 JSON Schemas", () => {
    synth.engineTemplate.hasResourceProperties('AWS::EventSchemas::Schema', {
      SchemaName: 'taskbound@TaskStarted',
      Type: 'JSONSchemaDraft4',
    });
    synth.engineTemplate.hasResourceProperties('AWS::EventSchemas::Schema', { SchemaName: 'taskbound@RevocationVerified' });
  });
});

describe('outputs and keys', () => {
  it('outputs what the CLI and SDK need', () => {
    for (const output of ['EventBusName', 'EventBusArn', 'GrantTableName', 'DeliverySecretPrefix', 'SlackInteractionUrl'])
      synth.engineTemplate.hasOutput(output, {});
    synth.stateTemplate.hasOutput('PermissionsBoundaryArn', {});
  });

  it('rotates the delivery key and lets agent runtimes decrypt only through Secrets Manager', () => {
    synth.stateTemplate.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'RuntimeDecryptsItsAgentsDeliveries0',
            Action: 'kms:Decrypt',
            Condition: Match.objectLike({ ArnEquals: { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/agent-runtime' } }),
          }),
        ]),
      },
    });
  });
});
