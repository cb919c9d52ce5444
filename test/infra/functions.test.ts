// Tests: each engine function as its own construct: exactly the environment its composition
// root reads, exactly its capabilities, and the reserved concurrency they add up to. Also what
// makes the stacks redeployable (no retained fixed names, a named archive).
import { App, Stack, RemovalPolicy } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EngineHandler } from '../../lib/bundling';
import { loadConfig, reservedConcurrencyOf } from '../../lib/config';
import { Capability } from '../../lib/constructs/capabilities';
import { SESSION_MINTING_ACTIONS } from '../../lib/constructs/issued-credential-boundary';
import { archiveName, ARCHIVE_NAME_MAX_CHARS } from '../../lib/naming';
import { retainedFixedNames } from './retained-names';
import { synthesizedApp, type SynthesizedApp } from './synthesized-app';

let synth: SynthesizedApp;
beforeAll(() => {
  synth = synthesizedApp();
}, 180_000);

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
const functionOf = (handler: EngineHandler) => {
  const found = Object.values(synth.engineTemplate.toJSON().Resources as Resources).find(
    (resource) => resource.Type === 'AWS::Lambda::Function' && resource.Properties.Description === `Taskbound ${handler}`,
  );
  if (!found) throw new Error(`no function for ${handler}`);
  return found.Properties;
};
const environmentOf = (handler: EngineHandler) => Object.keys((functionOf(handler).Environment as { Variables: Record<string, unknown> }).Variables).sort();
const capabilitiesOf = (handler: EngineHandler) => {
  const fn = handler === 'operator-api' ? synth.engine.operatorEndpoint.function : synth.engine.functions[handler];
  return (fn?.node.children ?? [])
    .filter((child) => child instanceof Capability)
    .map((child) => child.constructor.name)
    .sort();
};

const POWERTOOLS = ['POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'];
/** What lambdas/composition/aws-engine.ts's engine schema reads. */
const ENGINE = [
  'ACCOUNT_ID',
  'AGENT_ROLE_PREFIX',
  'CANARY_SECRET_NAME',
  'DELIVERY_KMS_KEY_ARN',
  'ENGINE_ROLE_ARNS',
  'EVENT_BUS_NAME',
  'EXPIRE_FUNCTION_ARN',
  'INSTANCE_NAME',
  'PERMISSIONS_BOUNDARY_ARN',
  'SCHEDULER_DLQ_ARN',
  'SCHEDULER_GROUP',
  'SCHEDULER_ROLE_ARN',
  'TABLE_NAME',
  ...POWERTOOLS,
].sort();
const ALERTS = ['SLACK_SECRET_ARN', 'TABLE_NAME', ...POWERTOOLS].sort();

describe('each function’s environment', () => {
  it('is the engine’s configuration for the functions that issue or revoke, and no Slack setting', () => {
    const engineFunctions: EngineHandler[] = ['task-started', 'operator-api', 'task-ended', 'expire-grant', 'ttl-expiry-stream', 'credential-leaked', 'agent-status', 'revoke-requested', 'sweep'];
    for (const handler of engineFunctions) expect(environmentOf(handler), handler).toEqual(ENGINE);
  });

  it('is only the table and the bus for the function that refuses bus decisions', () => {
    expect(environmentOf('grant-decision')).toEqual(['EVENT_BUS_NAME', 'TABLE_NAME', ...POWERTOOLS].sort());
  });

  it('adds the Slack secret to the engine’s for Slack’s interaction endpoint', () => {
    expect(environmentOf('slack-interactions')).toEqual([...ENGINE, 'SLACK_SECRET_ARN'].sort());
  });

  it('is only the table, the Slack secret and logging for the alerts, plus the period for the digest', () => {
    expect(environmentOf('alerts')).toEqual(ALERTS);
    expect(environmentOf('alarm-to-slack')).toEqual(ALERTS);
    expect(environmentOf('digest')).toEqual([...ALERTS, 'DIGEST_HOURS'].sort());
    expect((functionOf('digest').Environment as { Variables: Record<string, unknown> }).Variables.DIGEST_HOURS).toBe('24');
  });
});

describe('each function’s capabilities', () => {
  it('let the issuing functions issue, deliver and schedule expiry, and nothing that revokes another’s credential', () => {
    const issuing = ['DeliverCredentials', 'IssueCredentials', 'PublishGrantEvents', 'ScheduleExpiry', 'UseGrantStore'];
    expect(capabilitiesOf('task-started')).toEqual(issuing);
    expect(capabilitiesOf('operator-api')).toEqual(issuing);
    expect(capabilitiesOf('slack-interactions')).toEqual([...issuing, 'ReadSlackSecret'].sort());
  });

  it('let a bus decision only be read against its grant and answered', () => {
    expect(capabilitiesOf('grant-decision')).toEqual(['PublishGrantEvents', 'UseGrantStore']);
  });

  it('let the revoking functions revoke and cancel expiry, the expiry functions re-arm it, and the sweep read CloudTrail', () => {
    const revoking = ['DeliverCredentials', 'PublishGrantEvents', 'RevokeCredentials', 'RevokeDeliveries', 'UseGrantStore'];
    for (const handler of ['task-ended', 'credential-leaked', 'agent-status', 'revoke-requested'] as const) {
      expect(capabilitiesOf(handler), handler).toEqual([...revoking, 'CancelExpiry'].sort());
    }
    // An expiry that fired early is armed again (use-cases/expire-grant.ts): CreateSchedule and the scheduler role.
    for (const handler of ['expire-grant', 'ttl-expiry-stream'] as const) expect(capabilitiesOf(handler), handler).toEqual([...revoking, 'ScheduleExpiry'].sort());
    expect(capabilitiesOf('sweep')).toEqual([...revoking, 'CancelExpiry', 'LookUpCredentialUse'].sort());
  });

  it('let the alerts only read the Slack secret (and keep approval threads)', () => {
    expect(capabilitiesOf('alerts')).toEqual(['KeepApprovalThreads', 'ReadSlackSecret']);
    expect(capabilitiesOf('alarm-to-slack')).toEqual(['ReadSlackSecret']);
    expect(capabilitiesOf('digest')).toEqual(['ReadSlackSecret']);
  });
});

describe('reserved concurrency', () => {
  it('adds up to 141 by default (10 per issuing function, 20 per revoking one, 1 for the sweep), so the quota must be at least 241', () => {
    expect(reservedConcurrencyOf(loadConfig({}))).toMatchObject({ total: 141, requiredQuota: 241 });
    expect(reservedConcurrencyOf(loadConfig({ taskbound: { operatorPrincipalArns: ['arn:aws:iam::111122223333:role/ops'] } }))).toMatchObject({ total: 151, requiredQuota: 251 });
    expect(reservedConcurrencyOf(loadConfig({ taskbound: { reservedConcurrency: false } }))).toMatchObject({ total: 1, requiredQuota: 101 });
    expect(reservedConcurrencyOf(loadConfig({ taskbound: { reservedConcurrency: { issuing: 2, revoking: 3 } } }))).toMatchObject({ total: 23, requiredQuota: 123 });
  });

  it('is what the template reserves, and synth says so with the quota it needs', () => {
    const reserved = Object.values(synth.engineTemplate.findResources('AWS::Lambda::Function'))
      .map((resource) => (resource.Properties.ReservedConcurrentExecutions as number | undefined) ?? 0)
      .reduce((sum, value) => sum + value, 0);
    expect(reserved).toBe(151);
    Annotations.fromStack(synth.engine).hasWarning('/TaskboundEngine', Match.stringLikeRegexp('reserve 151 concurrent executions.*at least 251'));
  });

  it('is refused at synth, with the fix, when it exceeds the quota the deployer states', () => {
    expect(() => loadConfig({ taskbound: { lambdaConcurrencyQuota: 240 } })).toThrow(/reservedConcurrency: .*at least 241.*Service Quotas/);
    expect(() => loadConfig({ taskbound: { lambdaConcurrencyQuota: 241 } })).not.toThrow();
  });
});

describe('redeploying after a destroy', () => {
  it('finds no resource retained on delete under a fixed name in either stack', () => {
    expect(retainedFixedNames(synth.stateTemplate.toJSON())).toEqual([]);
    expect(retainedFixedNames(synth.engineTemplate.toJSON())).toEqual([]);
    // The stack's own suffix names them instead.
    synth.stateTemplate.hasResourceProperties('AWS::SecretsManager::Secret', { Name: { 'Fn::Join': ['', ['taskbound-engine/slack-', Match.anyValue()]] } });
    synth.engineTemplate.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: { 'Fn::Join': ['', ['taskbound-expiry-', Match.anyValue()]] } });
    synth.engineTemplate.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: { 'Fn::Join': ['', ['/aws/events/taskbound-signals-', Match.anyValue()]] } });
  });

  it('would find a retained secret with a fixed name (the check can fail)', () => {
    const stack = new Stack(new App(), 'Probe');
    new secretsmanager.Secret(stack, 'Fixed', { secretName: 'fixed/name', removalPolicy: RemovalPolicy.RETAIN });
    expect(retainedFixedNames(Template.fromStack(stack).toJSON())).toEqual([expect.stringMatching(/^Fixed\w+\.Name = fixed\/name$/)]);
  });

  it('names the bus archive explicitly, within EventBridge’s 48 characters for the longest instance name', () => {
    synth.stateTemplate.hasResourceProperties('AWS::Events::Archive', { ArchiveName: 'taskbound-events-archive' });
    const longest = loadConfig({ taskbound: { instanceName: 'a'.repeat(20) } });
    expect(archiveName(longest).length).toBeLessThanOrEqual(ARCHIVE_NAME_MAX_CHARS);
  });
});

describe('the issued-credential boundary', () => {
  it('denies minting any other session, sts:GetSessionToken included, with the list the spoke’s agent roles use', () => {
    const deny = synth.stateful.boundary.statements.find((statement) => statement.Sid === 'NoChainedSessions');
    expect(deny).toMatchObject({ Effect: 'Deny', Resource: '*' });
    expect(deny?.Action).toEqual([...SESSION_MINTING_ACTIONS]);
    expect(deny?.Action).toContain('sts:GetSessionToken');
  });
});
