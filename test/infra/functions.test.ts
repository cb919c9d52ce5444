// Tests: each engine function as its own construct: exactly the environment its composition
// root reads, exactly its capabilities (in the default modes and in the scale modes), and the
// reserved concurrency they add up to. Also what makes the stacks redeployable (no retained fixed
// names, a named archive).
import { App, Stack, RemovalPolicy, type CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EngineHandler } from '../../lib/bundling';
import { loadConfig, reservedConcurrencyOf } from '../../lib/config';
import { Capability } from '../../lib/constructs/capabilities';
import { quotaShare } from '../../lib/constructs/functions/environment';
import { SESSION_MINTING_ACTIONS } from '../../lib/constructs/issued-credential-boundary';
import { archiveName, ARCHIVE_NAME_MAX_CHARS } from '../../lib/naming';
import { buildTaskboundApp, type TaskboundApp } from '../../lib/taskbound-app';
import { ENGINE_SHAPES, type EngineRole } from '../../lambdas/composition/aws-config';
import { retainedFixedNames } from './retained-names';
import { synthesizedApp, type SynthesizedApp } from './synthesized-app';

let synth: SynthesizedApp;
/** The scale modes (docs/scale.md §8), with operators so every function exists. */
let scaled: TaskboundApp & { readonly engineTemplate: Template };
beforeAll(() => {
  synth = synthesizedApp();
  const built = buildTaskboundApp({
    app: new App({
      context: {
        taskbound: {
          deliveryMode: 'dynamodb-kms',
          expiry: 'due-index',
          operatorPrincipalArns: ['arn:aws:iam::111122223333:role/security-operators'],
        },
      },
    }),
    codeFor: () => lambda.Code.fromInline('export const handler = async () => ({});'),
  });
  scaled = { ...built, engineTemplate: Template.fromStack(built.engine) };
}, 240_000);

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
type Built = Pick<SynthesizedApp, 'engine' | 'engineTemplate'>;
const functionOf = (handler: EngineHandler, app: Built = synth) => {
  const found = Object.values(app.engineTemplate.toJSON().Resources as Resources).find(
    (resource) => resource.Type === 'AWS::Lambda::Function' && resource.Properties.Description === `Taskbound ${handler}`,
  );
  if (!found) throw new Error(`no function for ${handler}`);
  return found.Properties;
};
const variablesOf = (handler: EngineHandler, app: Built = synth) =>
  (functionOf(handler, app).Environment as { Variables: Record<string, unknown> }).Variables;
const environmentOf = (handler: EngineHandler, app: Built = synth) => Object.keys(variablesOf(handler, app)).sort();
const capabilitiesOf = (handler: EngineHandler, app: Built = synth) => {
  const fn = handler === 'operator-api' ? app.engine.operatorEndpoint.function : app.engine.functions[handler];
  return (fn?.node.children ?? [])
    .filter((child) => child instanceof Capability)
    .map((child) => child.constructor.name)
    .sort();
};

const POWERTOOLS = ['POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'];
/** What every engine function reads in either mode (lambdas/composition/aws-config.ts, the revoking set). */
const ANY_ENGINE_FUNCTION = [
  'ACCOUNT_ID',
  'AGENT_ROLE_PREFIX',
  'AGENT_ROLE_MAX_SESSION_SECONDS',
  'CANARY_SECRET_NAME',
  'DELIVERY_KMS_KEY_ARN',
  'DELIVERY_MODE',
  'ENGINE_ROLE_ARNS',
  'EVENT_BUS_NAME',
  'EXPIRY_MODE',
  'INSTANCE_NAME',
  'QUOTA_SHARE',
  'TABLE_NAME',
  ...POWERTOOLS,
];
/** In the default modes (secrets-manager, schedule): a revoking function knows where schedules are, to cancel them... */
const REVOKING_ENV = [...ANY_ENGINE_FUNCTION, 'SCHEDULER_GROUP'].sort();
/** ...an expiring one also what arming one again needs (use-cases/expire-grant.ts re-arms an early expiry)... */
const EXPIRING_ENV = [...REVOKING_ENV, 'EXPIRE_FUNCTION_ARN', 'SCHEDULER_DLQ_ARN', 'SCHEDULER_ROLE_ARN'].sort();
/** ...and an issuing one the boundary it creates grant users under. */
const ISSUING_ENV = [...EXPIRING_ENV, 'PERMISSIONS_BOUNDARY_ARN'].sort();
/** In the scale modes (dynamodb-kms, due-index): the delivery table, and no Scheduler setting for anyone. */
const SCALED_REVOKING_ENV = [...ANY_ENGINE_FUNCTION, 'DELIVERY_TABLE_NAME'].sort();
const SCALED_ISSUING_ENV = [...SCALED_REVOKING_ENV, 'PERMISSIONS_BOUNDARY_ARN'].sort();
const ISSUING_FUNCTIONS = ['task-started', 'operator-api'] as const;
const EXPIRING_FUNCTIONS = ['expire-grant', 'ttl-expiry-stream'] as const;
const REVOKING_FUNCTIONS = ['task-ended', 'credential-leaked', 'agent-status', 'revoke-requested', 'prove-revocation', 'sweep'] as const;
const ENGINE_FUNCTIONS: EngineHandler[] = [...ISSUING_FUNCTIONS, ...EXPIRING_FUNCTIONS, ...REVOKING_FUNCTIONS];
const ALERTS = ['SLACK_SECRET_ARN', 'TABLE_NAME', ...POWERTOOLS].sort();
/** The issuing-only variables a function that never issues nor arms must not receive. */
const ISSUING_ONLY = ['PERMISSIONS_BOUNDARY_ARN', 'SCHEDULER_ROLE_ARN', 'EXPIRE_FUNCTION_ARN', 'SCHEDULER_DLQ_ARN'];

describe('each function’s environment', () => {
  it('is exactly what an issuing function reads for task-started and operator-api: the boundary and the schedule target included', () => {
    for (const handler of ISSUING_FUNCTIONS) expect(environmentOf(handler), handler).toEqual(ISSUING_ENV);
    // The example policy's longest task is an hour: sessions are asked for up to that (domain/policy.ts longestRoleSessionSeconds).
    expect(variablesOf('task-started')).toMatchObject({
      DELIVERY_MODE: 'secrets-manager',
      EXPIRY_MODE: 'schedule',
      AGENT_ROLE_MAX_SESSION_SECONDS: '3600',
    });
  });

  it('is what an expiring function reads for expire-grant and ttl-expiry-stream: the schedule target, and no boundary', () => {
    for (const handler of EXPIRING_FUNCTIONS) expect(environmentOf(handler), handler).toEqual(EXPIRING_ENV);
  });

  it('gives the revoking functions and the sweep none of the variables only issuing or arming reads', () => {
    for (const handler of REVOKING_FUNCTIONS) {
      expect(environmentOf(handler), handler).toEqual(REVOKING_ENV);
      for (const name of ISSUING_ONLY) expect(environmentOf(handler), `${handler} ${name}`).not.toContain(name);
    }
  });

  it('sets no variable an engine function’s composition does not read', () => {
    const reads = (role: EngineRole) => new Set([...Object.keys(ENGINE_SHAPES[role]), ...POWERTOOLS]);
    const roleOf = (handler: EngineHandler): EngineRole =>
      (ISSUING_FUNCTIONS as readonly string[]).includes(handler)
        ? 'issuing'
        : (EXPIRING_FUNCTIONS as readonly string[]).includes(handler)
          ? 'expiring'
          : 'revoking';
    for (const app of [synth, scaled]) {
      for (const handler of ENGINE_FUNCTIONS)
        expect(
          environmentOf(handler, app).filter((name) => !reads(roleOf(handler)).has(name)),
          handler,
        ).toEqual([]);
    }
  });

  it('names the delivery table and no Scheduler setting in the scale modes, the boundary still only for the issuing functions', () => {
    for (const handler of ISSUING_FUNCTIONS) expect(environmentOf(handler, scaled), handler).toEqual(SCALED_ISSUING_ENV);
    for (const handler of [...EXPIRING_FUNCTIONS, ...REVOKING_FUNCTIONS])
      expect(environmentOf(handler, scaled), handler).toEqual(SCALED_REVOKING_ENV);
    expect(variablesOf('task-started', scaled)).toMatchObject({ DELIVERY_MODE: 'dynamodb-kms', EXPIRY_MODE: 'due-index' });
    expect(environmentOf('slack-interactions', scaled)).toEqual([...SCALED_ISSUING_ENV, 'SLACK_SECRET_ARN'].sort());
    expect(environmentOf('grant-decision', scaled)).toEqual(environmentOf('grant-decision'));
    for (const handler of ['alerts', 'alarm-to-slack', 'digest'] as const)
      expect(environmentOf(handler, scaled), handler).toEqual(environmentOf(handler));
  });

  it('is only the table and the bus for the function that refuses bus decisions', () => {
    expect(environmentOf('grant-decision')).toEqual(['EVENT_BUS_NAME', 'TABLE_NAME', ...POWERTOOLS].sort());
  });

  it('adds the Slack secret to an issuing function’s for Slack’s interaction endpoint', () => {
    expect(environmentOf('slack-interactions')).toEqual([...ISSUING_ENV, 'SLACK_SECRET_ARN'].sort());
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
    // Only Task Started opens grants (the transaction that checks the agent's standing); approvals issue opened ones.
    expect(capabilitiesOf('task-started')).toEqual([...issuing, 'OpenGrants'].sort());
    expect(capabilitiesOf('operator-api')).toEqual(issuing);
    expect(capabilitiesOf('slack-interactions')).toEqual([...issuing, 'ReadSlackSecret'].sort());
  });

  it('let a bus decision only be read against its grant and answered', () => {
    expect(capabilitiesOf('grant-decision')).toEqual(['PublishGrantEvents', 'UseGrantStore']);
  });

  it('let the revoking functions revoke and cancel expiry, the expiry functions re-arm it, and the sweep read CloudTrail and scan the live grants', () => {
    const revoking = ['DeliverCredentials', 'PublishGrantEvents', 'RevokeCredentials', 'RevokeDeliveries', 'UseGrantStore'];
    for (const handler of ['task-ended', 'credential-leaked', 'agent-status', 'revoke-requested'] as const) {
      expect(capabilitiesOf(handler), handler).toEqual([...revoking, 'CancelExpiry'].sort());
    }
    // An expiry that fired early is armed again (use-cases/expire-grant.ts): CreateSchedule and the scheduler role.
    for (const handler of ['expire-grant', 'ttl-expiry-stream'] as const)
      expect(capabilitiesOf(handler), handler).toEqual([...revoking, 'ScheduleExpiry'].sort());
    expect(capabilitiesOf('sweep')).toEqual([...revoking, 'CancelExpiry', 'LookUpCredentialUse', 'ScanLiveGrants'].sort());
  });

  it('deliver as delivery items and schedule nothing in the scale modes; revokers delete both secrets and items', () => {
    const issuing = ['DeliverCredentialItems', 'IssueCredentials', 'PublishGrantEvents', 'UseGrantStore'];
    expect(capabilitiesOf('task-started', scaled)).toEqual([...issuing, 'OpenGrants'].sort());
    expect(capabilitiesOf('operator-api', scaled)).toEqual(issuing);
    expect(capabilitiesOf('slack-interactions', scaled)).toEqual([...issuing, 'ReadSlackSecret'].sort());
    expect(capabilitiesOf('grant-decision', scaled)).toEqual(['PublishGrantEvents', 'UseGrantStore']);
    // Delivery secrets stay revocable: brokered secrets rotate, and deliveries written before a switch of mode are deleted.
    const revoking = [
      'DeliverCredentialItems',
      'PublishGrantEvents',
      'RevokeCredentials',
      'RevokeDeliveries',
      'RevokeDeliveryItems',
      'UseGrantStore',
    ].sort();
    for (const handler of [
      'task-ended',
      'credential-leaked',
      'agent-status',
      'revoke-requested',
      'expire-grant',
      'ttl-expiry-stream',
    ] as const) {
      expect(capabilitiesOf(handler, scaled), handler).toEqual(revoking);
    }
    expect(capabilitiesOf('sweep', scaled)).toEqual([...revoking, 'LookUpCredentialUse', 'ScanLiveGrants'].sort());
  });

  it('have the due-index readers invoke the expire-grant function, and no engine role may touch Scheduler or pass it a role', () => {
    const expireGrant = scaled.engine.getLogicalId(scaled.engine.functions['expire-grant'].node.defaultChild as lambda.CfnFunction);
    const readers = Object.values(scaled.engineTemplate.toJSON().Resources as Resources).filter((resource) =>
      String(resource.Properties.Description ?? '').includes('due-index shards'),
    );
    const targets = readers.flatMap((rule) => rule.Properties.Targets as { Arn: unknown }[]);
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) expect(target.Arn).toEqual({ 'Fn::GetAtt': [expireGrant, 'Arn'] });
    expect(JSON.stringify(scaled.engineTemplate.findResources('AWS::IAM::Policy'))).not.toMatch(
      /scheduler:|PassedToService.{0,10}scheduler/,
    );
  });

  it('let the alerts only read the Slack secret (and keep approval threads)', () => {
    expect(capabilitiesOf('alerts')).toEqual(['KeepApprovalThreads', 'ReadSlackSecret']);
    expect(capabilitiesOf('alarm-to-slack')).toEqual(['ReadSlackSecret']);
    expect(capabilitiesOf('digest')).toEqual(['ReadSlackSecret']);
  });
});

describe('cdk-nag acknowledgements of `*`', () => {
  type Statement = { Action: string | string[]; Resource: unknown };
  const roleOf = (handler: EngineHandler) => {
    const fn = handler === 'operator-api' ? synth.engine.operatorEndpoint.function : synth.engine.functions[handler];
    if (!fn) throw new Error(`no function for ${handler}`);
    return fn.engineRole;
  };
  /** Each action the role's policies grant on `*` alone: what its `Resource::*` finding is about. */
  const actionsOnAnyResource = (handler: EngineHandler) => {
    const roleId = synth.engine.getLogicalId(roleOf(handler).node.defaultChild as CfnElement);
    return Object.values(synth.engineTemplate.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${roleId}"`))
      .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((statement) => [statement.Resource].flat().includes('*'))
      .flatMap((statement) => [statement.Action].flat());
  };
  const anyResourceReason = (handler: EngineHandler): string =>
    roleOf(handler)
      .node.metadata.filter((entry) => entry.type === 'aws:cdk:acknowledged-rules')
      .map((entry) => (entry.data as Record<string, string | undefined>)['Annotation::AwsSolutions-IAM5[Resource::*]'])
      .find((reason) => reason !== undefined) ?? '';

  // A reviewer reads the reason to learn why each `*` is there: one left out is a wildcard accepted unexplained,
  // and one named that the role does not hold is a reason given in advance for a grant not yet made.
  it.each(ENGINE_FUNCTIONS)('%s: the reason for its `*` names every action it holds on `*`, and no other', (handler) => {
    const held = new Set(actionsOnAnyResource(handler));
    const reason = anyResourceReason(handler);
    for (const action of held) expect(reason, action).toContain(action);
    const named = new Set(reason.match(/\b[a-z0-9]+:[A-Z][A-Za-z]+\b/g) ?? []);
    expect([...named].filter((action) => !held.has(action))).toEqual([]);
  });
});

describe('reserved concurrency', () => {
  it('adds up to 161 by default (10 per issuing function, 20 per revoking one, 1 for the sweep), so the quota must be at least 261', () => {
    expect(reservedConcurrencyOf(loadConfig({}))).toMatchObject({ total: 161, requiredQuota: 261 });
    expect(
      reservedConcurrencyOf(loadConfig({ taskbound: { operatorPrincipalArns: ['arn:aws:iam::111122223333:role/ops'] } })),
    ).toMatchObject({ total: 171, requiredQuota: 271 });
    expect(reservedConcurrencyOf(loadConfig({ taskbound: { reservedConcurrency: false } }))).toMatchObject({
      total: 1,
      requiredQuota: 101,
    });
    expect(reservedConcurrencyOf(loadConfig({ taskbound: { reservedConcurrency: { issuing: 2, revoking: 3 } } }))).toMatchObject({
      total: 26,
      requiredQuota: 126,
    });
  });

  it('is what the template reserves, and synth says so with the quota it needs', () => {
    const reserved = Object.values(synth.engineTemplate.findResources('AWS::Lambda::Function'))
      .map((resource) => (resource.Properties.ReservedConcurrentExecutions as number | undefined) ?? 0)
      .reduce((sum, value) => sum + value, 0);
    expect(reserved).toBe(171);
    Annotations.fromStack(synth.engine).hasWarning(
      '/TaskboundEngine',
      Match.stringLikeRegexp('reserve 171 concurrent executions.*at least 271'),
    );
  });

  it("is the quota share each engine function paces itself by: its group's reservations, or the account concurrency without them", () => {
    const issuing: readonly string[] = ['task-started', 'slack-interactions', 'operator-api'];
    for (const handler of [...ENGINE_FUNCTIONS, 'slack-interactions'] as const) {
      // With operators: three issuing functions of 10; seven revoking functions of 20 and the sweep's 1.
      expect(variablesOf(handler).QUOTA_SHARE, handler).toBe(issuing.includes(handler) ? '30' : '141');
    }
    expect(quotaShare(loadConfig({}), 'task-started')).toBe(20);
    expect(quotaShare(loadConfig({}), 'task-ended')).toBe(141);
    expect(quotaShare(loadConfig({ taskbound: { reservedConcurrency: false, lambdaConcurrencyQuota: 200 } }), 'task-started')).toBe(200);
    expect(quotaShare(loadConfig({ 'taskbound:quotaShare': '20' }), 'task-ended')).toBe(20);
    expect(() => loadConfig({ taskbound: { quotaShare: 0 } })).toThrow(/quotaShare/);
  });

  it('is refused at synth, with the fix, when it exceeds the quota the deployer states', () => {
    expect(() => loadConfig({ taskbound: { lambdaConcurrencyQuota: 260 } })).toThrow(/reservedConcurrency: .*at least 261.*Service Quotas/);
    expect(() => loadConfig({ taskbound: { lambdaConcurrencyQuota: 261 } })).not.toThrow();
  });
});

describe('redeploying after a destroy', () => {
  it('finds no resource retained on delete under a fixed name in either stack', () => {
    expect(retainedFixedNames(synth.stateTemplate.toJSON())).toEqual([]);
    expect(retainedFixedNames(synth.engineTemplate.toJSON())).toEqual([]);
    // The stack's own suffix names them instead.
    synth.stateTemplate.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: { 'Fn::Join': ['', ['taskbound-engine/slack-', Match.anyValue()]] },
    });
    synth.engineTemplate.hasResourceProperties('AWS::Scheduler::ScheduleGroup', {
      Name: { 'Fn::Join': ['', ['taskbound-expiry-', Match.anyValue()]] },
    });
    synth.engineTemplate.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: { 'Fn::Join': ['', ['/aws/events/taskbound-signals-', Match.anyValue()]] },
    });
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
