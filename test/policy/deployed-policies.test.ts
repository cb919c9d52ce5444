// Policy tier: every IAM document in the synthesized templates, judged by an independent IAM
// evaluator (@cloud-copilot/iam-simulate): the engine roles fail every escalation attempt yet
// can do their jobs, only the engine speaks as the engine on the bus (default and configured
// settings), the delivery key serves only runtimes through Secrets Manager, the boundary in the
// template is the one the engine computes, and the agent-role trust policy of docs/deploy.md
// admits only grant-shaped sessions from the issuing functions.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENGINE_HANDLERS, type EngineHandler } from '../../lib/bundling';
import { canaryStatement } from '../../lambdas/domain/canary';
import { boundaryStatements } from '../../lib/constructs/issued-credential-boundary';
import { ISSUING, REVOKING } from '../../lib/naming';
import { loadPolicyFile } from '../../lib/taskbound-app';
import { PROJECT_ROOT } from '../../lib/bundling';
import { ACCOUNT, CANARY_ARN_PATTERN, REGION } from './cfn';
import { escalationAttempts } from './escalation-attempts';
import { ALLOW_EVERYTHING, decide, type Decision, type Policies, type Request } from './simulate';
import { synthesizedPolicies } from './synthesized-policies';

const PRODUCER = '444455556666';
const defaults = synthesizedPolicies({});
const OPERATORS = `arn:aws:iam::${ACCOUNT}:role/security-operators`;
const configured = synthesizedPolicies({ instanceName: 'tbprod', agentRolePrefix: 'prod-agent-', producerAccounts: [PRODUCER] });
const withOperators = synthesizedPolicies({ operatorPrincipalArns: [OPERATORS] });

const GRANT = `g-${'a'.repeat(26)}`;
const AGENT_ROLE = `arn:aws:iam::${ACCOUNT}:role/taskbound-agent-release-bot`;
const MANAGED = { 'aws:ResourceTag/taskbound:managed': 'true' };
const ISSUED_USER = `arn:aws:iam::${ACCOUNT}:user/taskbound/taskbound-${GRANT}`;
const delivery = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:taskbound/${name}-AbCdEf`;
const sessionOf = (roleArn: string, session = 'fn') =>
  roleArn.replace(/^arn:aws:iam::(\d+):role\/(?:.*\/)?([^/]+)$/, `arn:aws:sts::$1:assumed-role/$2/${session}`);

/** The functions that finish grants, so give slots back: every issuing and revoking one. */
const appFunctionsUsingTheStore = () => [...ISSUING, ...REVOKING];

/** The operator endpoint's function exists only with operators configured; every other function in the defaults. */
const appFor = (handler: EngineHandler) => (handler === 'operator-api' ? withOperators : defaults);

/** A request by the handler's own Lambda session, judged by its role's policies (and a resource policy). */
const asEngine = (app: typeof defaults, handler: EngineHandler, request: Omit<Request, 'principal'>, resource?: Record<string, unknown>) =>
  decide(
    { principal: sessionOf(app.roleArnOf(handler)), ...request },
    { identity: app.identityOf(handler), ...(resource ? { resource } : {}) },
    app.roleArnOf(handler),
  );

/** Each request by the handler's session gets exactly its decision; a failure names the request. */
async function expectDecisions(
  app: typeof defaults,
  handler: EngineHandler,
  expected: readonly (readonly [Omit<Request, 'principal'>, Decision])[],
) {
  for (const [request, decision] of expected)
    expect(await asEngine(app, handler, request), `${request.action} on ${request.resource}`).toBe(decision);
}

describe('engine roles (synthesized)', () => {
  const targets = {
    boundaryArn: defaults.boundaryArn,
    keyArn: defaults.keyArn,
    slackSecretArn: defaults.slackSecretArn,
    tableArn: defaults.tableArn,
    schedulerRoleArn: `arn:aws:iam::${ACCOUNT}:role/taskbound-scheduler-${REGION}`,
  };

  it.each(ENGINE_HANDLERS)('%s fails every escalation attempt', async (handler) => {
    const attempts = escalationAttempts({ ...targets, ownRoleArn: appFor(handler).roleArnOf(handler) }).filter(
      (attempt) => !attempt.except?.includes(handler),
    );
    const allowed: string[] = [];
    for (const attempt of attempts) {
      const decision = await asEngine(appFor(handler), handler, {
        action: attempt.action,
        resource: attempt.resource,
        context: attempt.context ?? {},
      });
      if (decision === 'Allowed') allowed.push(`${attempt.name} (${attempt.action} on ${attempt.resource})`);
    }
    expect(attempts.length).toBeGreaterThanOrEqual(50);
    expect(allowed).toEqual([]);
  });

  // Positive controls: the same evaluator and the same resolved policies allow each role its job,
  // so "denied" above is the policies' doing, not a simulation that could never allow.
  it.each(ISSUING)(
    '%s assumes a tagged agent role with a grant as source identity, and creates bounded /taskbound/ users',
    async (handler) => {
      await expectDecisions(appFor(handler), handler, [
        [{ action: 'sts:AssumeRole', resource: AGENT_ROLE, context: { 'sts:SourceIdentity': GRANT, ...MANAGED } }, 'Allowed'],
        [{ action: 'sts:SetSourceIdentity', resource: AGENT_ROLE, context: { 'sts:SourceIdentity': GRANT, ...MANAGED } }, 'Allowed'],
        [
          { action: 'iam:CreateUser', resource: ISSUED_USER, context: { 'iam:PermissionsBoundary': appFor(handler).boundaryArn } },
          'Allowed',
        ],
      ]);
    },
  );

  it.each(ISSUING)('%s can kill what it just issued: delete the user, deny the session, and nothing wider', async (handler) => {
    await expectDecisions(appFor(handler), handler, [
      [{ action: 'iam:DeleteAccessKey', resource: ISSUED_USER }, 'Allowed'],
      [{ action: 'iam:DeleteUser', resource: ISSUED_USER }, 'Allowed'],
      [
        { action: 'iam:PutRolePolicy', resource: AGENT_ROLE, context: { 'iam:PermissionsBoundary': appFor(handler).boundaryArn } },
        'Allowed',
      ],
      // The deny's budget: the role's other inline policies, listed and read (role-inline-policy-budget.ts).
      [{ action: 'iam:ListRolePolicies', resource: AGENT_ROLE }, 'Allowed'],
      [{ action: 'iam:GetRolePolicy', resource: AGENT_ROLE }, 'Allowed'],
      [{ action: 'secretsmanager:RestoreSecret', resource: delivery('release-bot/t-1') }, 'Allowed'],
      [{ action: 'iam:ListUsers', resource: '*' }, 'ImplicitlyDenied'],
      [{ action: 'iam:DeleteUser', resource: `arn:aws:iam::${ACCOUNT}:user/alice` }, 'ImplicitlyDenied'],
    ]);
  });

  /** The functions that kill credentials: every revoking one but prove-revocation, which only proves them dead. */
  const KILLING = REVOKING.filter((handler) => handler !== 'prove-revocation');

  it.each(KILLING)(
    '%s revokes: /taskbound/ users, the session deny on bounded agent roles, deliveries (restoring one only to delete it)',
    async (handler) => {
      await expectDecisions(defaults, handler, [
        [{ action: 'iam:DeleteUser', resource: ISSUED_USER }, 'Allowed'],
        [{ action: 'iam:ListUsers', resource: '*' }, 'Allowed'],
        [{ action: 'iam:PutRolePolicy', resource: AGENT_ROLE, context: { 'iam:PermissionsBoundary': defaults.boundaryArn } }, 'Allowed'],
        [{ action: 'iam:ListRolePolicies', resource: AGENT_ROLE }, 'Allowed'],
        [{ action: 'secretsmanager:RestoreSecret', resource: delivery('release-bot/t-1') }, 'Allowed'],
        [{ action: 'secretsmanager:DeleteSecret', resource: delivery('release-bot/t-1') }, 'Allowed'],
        [{ action: 'sts:AssumeRole', resource: AGENT_ROLE, context: { 'sts:SourceIdentity': GRANT, ...MANAGED } }, 'ImplicitlyDenied'],
      ]);
    },
  );

  // BatchGetSecretValue is wildcard-only (iam-data); AWS then requires GetSecretValue on each secret it reads.
  it.each(KILLING)(
    '%s reads deliveries in batches (BatchGetSecretValue), and through it only what GetSecretValue allows',
    async (handler) => {
      await expectDecisions(defaults, handler, [
        [{ action: 'secretsmanager:BatchGetSecretValue', resource: '*' }, 'Allowed'],
        [{ action: 'secretsmanager:GetSecretValue', resource: delivery('release-bot/t-1') }, 'Allowed'],
        [
          { action: 'secretsmanager:GetSecretValue', resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/db-AbCdEf` },
          'ImplicitlyDenied',
        ],
        [{ action: 'secretsmanager:ListSecrets', resource: '*' }, 'Allowed'],
      ]);
    },
  );

  // A transaction is authorised item by item, as the action each item is (ConditionCheck: dynamodb:ConditionCheckItem).
  const tableItem = (action: string, partition: string) => ({
    action,
    resource: defaults.tableArn,
    context: { 'dynamodb:LeadingKeys': [partition] },
  });
  const AGENT_PARTITION = 'AGENT#release-bot';
  const GRANT_PARTITION = `GRANT#${GRANT}`;

  it("task-started opens a grant in one transaction: the grant and the slot put, the agent's standing checked", async () => {
    await expectDecisions(defaults, 'task-started', [
      [tableItem('dynamodb:PutItem', GRANT_PARTITION), 'Allowed'],
      [tableItem('dynamodb:PutItem', AGENT_PARTITION), 'Allowed'],
      [tableItem('dynamodb:ConditionCheckItem', AGENT_PARTITION), 'Allowed'],
      [tableItem('dynamodb:ConditionCheckItem', GRANT_PARTITION), 'ImplicitlyDenied'],
    ]);
  });

  it.each([...appFunctionsUsingTheStore()])(
    "%s frees a finished grant's slot (DeleteItem of an agent's item) but can delete no grant record",
    async (handler) => {
      await expectDecisions(appFor(handler), handler, [
        [tableItem('dynamodb:DeleteItem', AGENT_PARTITION), 'Allowed'],
        [tableItem('dynamodb:DeleteItem', GRANT_PARTITION), 'ImplicitlyDenied'],
        [tableItem('dynamodb:ConditionCheckItem', AGENT_PARTITION), handler === 'task-started' ? 'Allowed' : 'ImplicitlyDenied'],
      ]);
    },
  );

  it.each([...appFunctionsUsingTheStore()])(
    "%s may take and give back an agent role's deny lease (a PutItem and a DeleteItem of an item in the agent's partition)",
    async (handler) => {
      await expectDecisions(appFor(handler), handler, [
        [tableItem('dynamodb:PutItem', AGENT_PARTITION), 'Allowed'],
        [tableItem('dynamodb:DeleteItem', AGENT_PARTITION), 'Allowed'],
      ]);
    },
  );

  /** A grant's expiry schedule in the engine's group, as the issuing role's own statement names the group. */
  const scheduleOfGrant = () => {
    const statements = defaults
      .identityOf('task-started')
      .flatMap((document) => document.Statement as { Sid?: string; Resource?: string | string[] }[]);
    const manage = statements.find((statement) => statement.Sid === 'ManageExpirySchedules');
    const resource = [manage?.Resource ?? []].flat()[0];
    if (!resource?.endsWith('/*')) throw new Error('the issuing role names no expiry schedules');
    return resource.replace(/\*$/, `expire-${GRANT}`);
  };
  const SCHEDULER_ROLE = `arn:aws:iam::${ACCOUNT}:role/taskbound-scheduler-${REGION}`;
  const PASS_TO_SCHEDULER = { 'iam:PassedToService': 'scheduler.amazonaws.com' };

  // Exactly its own permissions (issue 13 item 5): a function that only revokes can create no user or
  // key and arm no schedule, whatever its code were made to call; it can still cancel one.
  it('prove-revocation proves a death and cannot kill or revive anyone: it reads the deny but cannot write (or empty) it', async () => {
    await expectDecisions(defaults, 'prove-revocation', [
      [{ action: 'iam:GetRolePolicy', resource: AGENT_ROLE }, 'Allowed'],
      [{ action: 'iam:ListAccessKeys', resource: ISSUED_USER }, 'Allowed'],
      [{ action: 'secretsmanager:GetSecretValue', resource: delivery('release-bot/t-1') }, 'Allowed'],
      [{ action: 'secretsmanager:DeleteSecret', resource: delivery('release-bot/t-1') }, 'Allowed'],
      [{ action: 'secretsmanager:RestoreSecret', resource: delivery('release-bot/t-1') }, 'Allowed'],
      [
        { action: 'iam:PutRolePolicy', resource: AGENT_ROLE, context: { 'iam:PermissionsBoundary': defaults.boundaryArn } },
        'ImplicitlyDenied',
      ],
      [{ action: 'iam:DeleteRolePolicy', resource: AGENT_ROLE }, 'ImplicitlyDenied'],
      [{ action: 'iam:DeleteAccessKey', resource: ISSUED_USER }, 'ImplicitlyDenied'],
      [{ action: 'iam:DeleteUser', resource: ISSUED_USER }, 'ImplicitlyDenied'],
      [{ action: 'iam:ListUsers', resource: '*' }, 'ImplicitlyDenied'],
      [{ action: 'secretsmanager:PutSecretValue', resource: delivery('release-bot/t-1') }, 'ImplicitlyDenied'],
      [{ action: 'secretsmanager:BatchGetSecretValue', resource: '*' }, 'ImplicitlyDenied'],
      [{ action: 'secretsmanager:ListSecrets', resource: '*' }, 'ImplicitlyDenied'],
      [{ action: 'scheduler:DeleteSchedule', resource: scheduleOfGrant() }, 'ImplicitlyDenied'],
    ]);
    // KMS asks the key policy too (its account statement hands the decision to the role's own policy).
    const viaSecretsManager = { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` };
    const withKey = (action: string) =>
      asEngine(defaults, 'prove-revocation', { action, resource: defaults.keyArn, context: viaSecretsManager }, defaults.keyPolicy);
    expect(await withKey('kms:Decrypt')).toBe('Allowed');
    expect(await withKey('kms:Encrypt')).toBe('ImplicitlyDenied');
    expect(await withKey('kms:GenerateDataKey')).toBe('ImplicitlyDenied');
  });

  it.each(['task-ended', 'credential-leaked', 'agent-status', 'revoke-requested', 'sweep'] as const)(
    '%s can neither issue (no user, key or user policy) nor arm an expiry (no CreateSchedule, no scheduler role to pass)',
    async (handler) => {
      await expectDecisions(defaults, handler, [
        [
          { action: 'iam:CreateUser', resource: ISSUED_USER, context: { 'iam:PermissionsBoundary': defaults.boundaryArn } },
          'ImplicitlyDenied',
        ],
        [{ action: 'iam:CreateAccessKey', resource: ISSUED_USER }, 'ImplicitlyDenied'],
        [
          { action: 'iam:PutUserPolicy', resource: ISSUED_USER, context: { 'iam:PermissionsBoundary': defaults.boundaryArn } },
          'ImplicitlyDenied',
        ],
        [{ action: 'scheduler:CreateSchedule', resource: scheduleOfGrant() }, 'ImplicitlyDenied'],
        [{ action: 'iam:PassRole', resource: SCHEDULER_ROLE, context: PASS_TO_SCHEDULER }, 'ImplicitlyDenied'],
        [{ action: 'scheduler:DeleteSchedule', resource: scheduleOfGrant() }, 'Allowed'],
      ]);
    },
  );

  const EXPIRING = ['expire-grant', 'ttl-expiry-stream'] as const;
  it.each(EXPIRING)('%s re-arms an early expiry (CreateSchedule, passing the scheduler role) but cannot issue', async (handler) => {
    await expectDecisions(defaults, handler, [
      [{ action: 'scheduler:CreateSchedule', resource: scheduleOfGrant() }, 'Allowed'],
      [{ action: 'iam:PassRole', resource: SCHEDULER_ROLE, context: PASS_TO_SCHEDULER }, 'Allowed'],
      [
        { action: 'iam:CreateUser', resource: ISSUED_USER, context: { 'iam:PermissionsBoundary': defaults.boundaryArn } },
        'ImplicitlyDenied',
      ],
      [{ action: 'iam:CreateAccessKey', resource: ISSUED_USER }, 'ImplicitlyDenied'],
    ]);
  });

  it('lets the revokers rotate the brokered secret by its full ARN (the -?????? suffix)', async () => {
    const stripe = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:stripe-key-Xy12Z9`;
    expect(await asEngine(defaults, 'sweep', { action: 'secretsmanager:RotateSecret', resource: stripe })).toBe('Allowed');
    expect(
      await asEngine(defaults, 'sweep', {
        action: 'secretsmanager:RotateSecret',
        resource: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:stripe-key-other-Xy12Z9`,
      }),
    ).toBe('ImplicitlyDenied');
  });

  // The engine rotates only brokered secrets (rotateAfterUse) and never describes a delivery: a revoker
  // that could rotate one could also attach a rotation function of its choosing to it.
  it.each(REVOKING)('%s may neither rotate nor describe a delivery secret', async (handler) => {
    await expectDecisions(defaults, handler, [
      [{ action: 'secretsmanager:RotateSecret', resource: delivery('release-bot/t-1') }, 'ImplicitlyDenied'],
      [{ action: 'secretsmanager:DescribeSecret', resource: delivery('release-bot/t-1') }, 'ImplicitlyDenied'],
    ]);
  });

  it("gives the scheduler's role nothing but invoking expire-grant and its dead-letter queue: every escalation attempt fails", async () => {
    const scheduler = defaults.roleNamed(`taskbound-scheduler-${REGION}`);
    const attempts = escalationAttempts({ ...targets, ownRoleArn: scheduler.arn });
    const as = (action: string, resource: string, context: Record<string, string | string[]> = {}) =>
      decide({ principal: sessionOf(scheduler.arn), action, resource, context }, { identity: scheduler.identity }, scheduler.arn);
    for (const attempt of attempts) expect(await as(attempt.action, attempt.resource, attempt.context), attempt.name).not.toBe('Allowed');
    expect(await as('lambda:InvokeFunction', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:taskbound-expire-grant`)).toBe('Allowed');
    expect(await as('lambda:InvokeFunction', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:taskbound-task-started`)).toBe(
      'ImplicitlyDenied',
    );
  });

  it.each(ENGINE_HANDLERS)('lets only Lambda assume the %s role', async (handler) => {
    const role = appFor(handler).roleNamed(`taskbound-${handler}-${REGION}`);
    const assume = (principal: string, identity = [ALLOW_EVERYTHING]) =>
      decide({ principal, action: 'sts:AssumeRole', resource: role.arn }, { identity, resource: role.trust });
    expect(await assume('lambda.amazonaws.com', [])).toBe('Allowed');
    expect(await assume(sessionOf(`arn:aws:iam::${ACCOUNT}:role/admin`))).not.toBe('Allowed');
    expect(await assume(sessionOf(AGENT_ROLE))).not.toBe('Allowed');
  });

  it('lets alerts read the Slack secret', async () => {
    expect(await asEngine(defaults, 'alerts', { action: 'secretsmanager:GetSecretValue', resource: defaults.slackSecretArn })).toBe(
      'Allowed',
    );
  });
});

describe('event bus (synthesized policy and engine permissions)', () => {
  const put = (app: typeof defaults, principal: string, sources: string[], identity = [ALLOW_EVERYTHING], roleArn?: string) =>
    decide(
      { principal, action: 'events:PutEvents', resource: app.busArn, context: { 'events:source': sources } },
      { identity, resource: app.busPolicy },
      roleArn,
    );

  it.each([...ISSUING, ...REVOKING, 'grant-decision' as const])(
    'lets %s publish as the engine: its PutEvents allow grants something',
    async (handler) => {
      const app = appFor(handler);
      expect(await put(app, sessionOf(app.roleArnOf(handler)), ['taskbound'], app.identityOf(handler), app.roleArnOf(handler))).toBe(
        'Allowed',
      );
    },
  );

  it('would grant nothing with a plain StringEquals on the multivalued events:source (why the engine uses ForAllValues)', async () => {
    const role = defaults.roleArnOf('task-ended');
    const plain = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'events:PutEvents',
          Resource: defaults.busArn,
          Condition: { StringEquals: { 'events:source': 'taskbound' } },
        },
      ],
    };
    expect(await put(defaults, sessionOf(role), ['taskbound'], [plain], role)).toBe('ImplicitlyDenied');
  });

  it('gives an engine role no other source, not even mixed into a batch', async () => {
    const role = defaults.roleArnOf('task-ended');
    expect(await put(defaults, sessionOf(role), ['taskbound', 'my.runtime'], defaults.identityOf('task-ended'), role)).not.toBe('Allowed');
    expect(await put(defaults, sessionOf(role), ['taskbound.slack'], defaults.identityOf('task-ended'), role)).not.toBe('Allowed');
  });

  it.each([
    ['an administrator of the account', `arn:aws:iam::${ACCOUNT}:role/admin`],
    ["a role under the engine's path that is not an engine role", `arn:aws:iam::${ACCOUNT}:role/taskbound-engine/impostor`],
    ['the alerts function', `arn:aws:iam::${ACCOUNT}:role/taskbound-engine/taskbound-alerts-${REGION}`],
  ])('denies %s the taskbound source, alone or inside a batch, whatever its own permissions', async (_who, roleArn) => {
    expect(await put(defaults, sessionOf(roleArn), ['taskbound'], [ALLOW_EVERYTHING], roleArn)).toBe('ExplicitlyDenied');
    expect(await put(defaults, sessionOf(roleArn), ['my.runtime', 'taskbound'], [ALLOW_EVERYTHING], roleArn)).toBe('ExplicitlyDenied');
    expect(await put(defaults, sessionOf(roleArn), ['my.runtime'], [ALLOW_EVERYTHING], roleArn)).toBe('Allowed');
  });

  it('keeps taskbound.slack from everyone but the Slack function, which no longer needs it (it decides, it does not publish decisions)', async () => {
    const slack = defaults.roleArnOf('slack-interactions');
    expect(await put(defaults, sessionOf(slack), ['taskbound.slack'], defaults.identityOf('slack-interactions'), slack)).toBe(
      'ImplicitlyDenied',
    );
    expect(await put(defaults, sessionOf(`arn:aws:iam::${ACCOUNT}:role/admin`), ['taskbound.slack'])).toBe('ExplicitlyDenied');
  });

  it('with operatorPrincipalArns configured, still reserves no CLI source: operators decide at the operator endpoint, not on the bus', async () => {
    expect(await put(withOperators, sessionOf(`arn:aws:iam::${ACCOUNT}:role/admin`), ['taskbound.cli'])).toBe('Allowed');
  });

  it('with default settings, leaves taskbound.cli to any principal of the account (decisions must not trust it)', async () => {
    expect(await put(defaults, sessionOf(`arn:aws:iam::${ACCOUNT}:role/admin`), ['taskbound.cli'])).toBe('Allowed');
  });

  it('with default settings, admits no other account at all', async () => {
    const outsider = `arn:aws:iam::${PRODUCER}:role/agent-runtime`;
    expect(await put(defaults, sessionOf(outsider), ['my.runtime'])).toBe('ImplicitlyDenied');
  });

  it('with producerAccounts configured, admits their runtimes for their own sources but never as the engine', async () => {
    const producer = `arn:aws:iam::${PRODUCER}:role/agent-runtime`;
    expect(await put(configured, sessionOf(producer), ['my.runtime'])).toBe('Allowed');
    expect(await put(configured, sessionOf(producer), ['taskbound'])).toBe('ExplicitlyDenied');
    expect(await put(configured, sessionOf(producer), ['my.runtime', 'taskbound'])).toBe('ExplicitlyDenied');
    // No operators configured: taskbound.cli is open inside the account, but never to another account.
    expect(await put(configured, sessionOf(producer), ['taskbound.cli'])).toBe('ExplicitlyDenied');
    expect(await put(configured, sessionOf(producer), ['my.runtime', 'taskbound.cli'])).toBe('ExplicitlyDenied');
    expect(await put(configured, sessionOf(producer), ['taskbound.slack'])).toBe('ExplicitlyDenied');
    expect(await put(configured, sessionOf(`arn:aws:iam::999988887777:role/x`), ['my.runtime'])).toBe('ImplicitlyDenied');
    const engineRole = configured.roleArnOf('task-ended');
    expect(engineRole).toBe(`arn:aws:iam::${ACCOUNT}:role/tbprod-engine/tbprod-task-ended-${REGION}`);
    expect(await put(configured, sessionOf(engineRole), ['taskbound'], configured.identityOf('task-ended'), engineRole)).toBe('Allowed');
    // The default stack's engine role name is nobody special in the configured stack.
    expect(
      await put(
        configured,
        sessionOf(defaults.roleArnOf('task-ended')),
        ['taskbound'],
        [ALLOW_EVERYTHING],
        defaults.roleArnOf('task-ended'),
      ),
    ).toBe('ExplicitlyDenied');
  });
});

describe('delivery key policy (synthesized)', () => {
  // The evaluator validates context keys against the SAR, which writes the encryption-context
  // key as a template (`kms:EncryptionContext:${EncryptionContextKey}`) it cannot match, and it
  // would drop the key. Renaming it, in the policy and in the request alike, to another
  // single-valued string key of kms:Decrypt (kms:RequestAlias) keeps every operator and value.
  const SECRET_CONTEXT = 'kms:EncryptionContext:SecretARN';
  const STAND_IN = 'kms:RequestAlias';
  const statements = (defaults.keyPolicy.Statement as Record<string, unknown>[]) ?? [];
  const anyone = statements.filter((statement) => JSON.stringify(statement.Principal) === JSON.stringify({ AWS: '*' }));
  const keyPolicy = JSON.parse(JSON.stringify(defaults.keyPolicy).replaceAll(SECRET_CONTEXT, STAND_IN)) as Record<string, unknown>;
  const decrypt = (roleArn: string, context: Record<string, string>) => {
    const renamed = Object.fromEntries(Object.entries(context).map(([key, value]) => [key === SECRET_CONTEXT ? STAND_IN : key, value]));
    return decide(
      { principal: sessionOf(roleArn), action: 'kms:Decrypt', resource: defaults.keyArn, context: renamed },
      { identity: [], resource: keyPolicy },
    );
  };
  const viaSecretsManager = { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com`, [SECRET_CONTEXT]: delivery('release-bot/t-1') };

  it("conditions the runtimes' decrypt on the delivery secret (the renamed key is really there)", () => {
    expect(JSON.stringify(anyone)).toContain(SECRET_CONTEXT);
    expect(JSON.stringify(defaults.keyPolicy)).not.toContain(STAND_IN);
  });

  it('names the account (to administer it; its use only by the engine roles) and the runtimes, no one else', () => {
    const account = statements.filter((statement) => !anyone.includes(statement));
    expect(account.map((statement) => statement.Sid)).toEqual([
      'AccountAdministersTheKeyNeverUsesIt',
      'EngineRolesUseItAsTheirPoliciesAllow',
    ]);
    for (const statement of account) expect(statement.Principal).toEqual({ AWS: `arn:aws:iam::${ACCOUNT}:root` });
    // One statement per runtime principal of the policy file.
    expect(anyone.map((statement) => statement.Sid)).toEqual([0, 1, 2, 3].map((index) => `RuntimeDecryptsItsAgentsDeliveries${index}`));
  });

  // The key policy decides alone for a principal it names; for the account it hands the decision to IAM.
  const withKey = (principal: string, action: string, context: Record<string, string> = {}, identity = [ALLOW_EVERYTHING]) => {
    const renamed = Object.fromEntries(Object.entries(context).map(([key, value]) => [key === SECRET_CONTEXT ? STAND_IN : key, value]));
    return decide(
      { principal: sessionOf(principal), action, resource: defaults.keyArn, context: renamed },
      { identity, resource: keyPolicy },
    );
  };
  const ADMIN = `arn:aws:iam::${ACCOUNT}:role/administrator`;

  it.each(['kms:Decrypt', 'kms:GenerateDataKey', 'kms:Encrypt', 'kms:ReEncryptFrom', 'kms:CreateGrant'])(
    'refuses %s to an administrator allowed everything by IAM, through Secrets Manager or not: the value is locked before any resource policy',
    async (action) => {
      // A grant is not made through Secrets Manager, nor under an encryption context.
      if (action !== 'kms:CreateGrant') expect(await withKey(ADMIN, action, viaSecretsManager)).toBe('ImplicitlyDenied');
      expect(await withKey(ADMIN, action)).toBe('ImplicitlyDenied');
    },
  );

  it.each(['kms:PutKeyPolicy', 'kms:DescribeKey', 'kms:EnableKeyRotation', 'kms:ScheduleKeyDeletion', 'kms:TagResource'])(
    'lets the account administer the key as its IAM policies allow (%s), so it can be managed and is never locked out',
    async (action) => {
      expect(await withKey(ADMIN, action)).toBe('Allowed');
      expect(await withKey(ADMIN, action, {}, [])).toBe('ImplicitlyDenied');
    },
  );

  it("lets a runtime decrypt its own agents' deliveries only, whatever its identity policy allows", async () => {
    const releaseRuntime = `arn:aws:iam::${ACCOUNT}:role/agent-runtime`;
    expect(await withKey(releaseRuntime, 'kms:Decrypt', viaSecretsManager, [])).toBe('Allowed');
    const deployDelivery = { ...viaSecretsManager, [SECRET_CONTEXT]: delivery('deploy-bot/t-1') };
    expect(await withKey(releaseRuntime, 'kms:Decrypt', deployDelivery)).toBe('ImplicitlyDenied');
    expect(await withKey(`arn:aws:iam::${ACCOUNT}:role/deploy-runtime`, 'kms:Decrypt', deployDelivery, [])).toBe('Allowed');
    // A prefix of another agent's id is not its id: `release-bot/` does not reach `release-bot-2/`.
    expect(await withKey(releaseRuntime, 'kms:Decrypt', { ...viaSecretsManager, [SECRET_CONTEXT]: delivery('release-bot-2/t-1') })).toBe(
      'ImplicitlyDenied',
    );
    expect(await withKey(releaseRuntime, 'kms:GenerateDataKey', viaSecretsManager)).toBe('ImplicitlyDenied');
  });

  it('lets each engine role use the key exactly as its own policy allows: issuing encrypts, revoking decrypts', async () => {
    const asRole = (handler: EngineHandler, action: string) =>
      decide(
        {
          principal: sessionOf(defaults.roleArnOf(handler)),
          action,
          resource: defaults.keyArn,
          context: { 'kms:ViaService': viaSecretsManager['kms:ViaService'] },
        },
        { identity: defaults.identityOf(handler), resource: keyPolicy },
        defaults.roleArnOf(handler),
      );
    expect(await asRole('task-started', 'kms:GenerateDataKey')).toBe('Allowed');
    expect(await asRole('prove-revocation', 'kms:Decrypt')).toBe('Allowed');
    expect(await asRole('prove-revocation', 'kms:GenerateDataKey')).toBe('ImplicitlyDenied');
    expect(await asRole('grant-decision', 'kms:Decrypt')).toBe('ImplicitlyDenied');
  });

  it('lets an agent runtime decrypt a delivery through Secrets Manager, and only so', async () => {
    expect(await decrypt(`arn:aws:iam::${ACCOUNT}:role/agent-runtime`, viaSecretsManager)).toBe('Allowed');
    expect(await decrypt(`arn:aws:iam::${ACCOUNT}:role/agent-runtime`, {})).toBe('ImplicitlyDenied');
    expect(
      await decrypt(`arn:aws:iam::${ACCOUNT}:role/agent-runtime`, {
        ...viaSecretsManager,
        [SECRET_CONTEXT]: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/db-AbCdEf`,
      }),
    ).toBe('ImplicitlyDenied');
  });

  it('gives a principal the policy file does not name nothing', async () => {
    expect(await decrypt(`arn:aws:iam::${ACCOUNT}:role/someone-else`, viaSecretsManager)).toBe('ImplicitlyDenied');
  });
});

describe('issued-credential boundary (synthesized)', () => {
  it('is exactly the document the engine computes from the policy file (the generated-policy tests use it)', () => {
    const { policy } = loadPolicyFile('examples/taskbound.policy.yaml', PROJECT_ROOT);
    const computed = boundaryStatements(policy, `arn:aws:iam::${ACCOUNT}:role/taskbound-agent-*`, [canaryStatement(CANARY_ARN_PATTERN)]);
    // CloudFormation (and CDK) write a one-element list as its element; IAM reads both alike.
    const unwrap = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.length === 1
          ? unwrap(value[0])
          : value.map(unwrap)
        : typeof value === 'object' && value !== null
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v)]))
          : value;
    expect(unwrap(defaults.boundary)).toEqual(unwrap({ Version: '2012-10-17', Statement: computed }));
  });
});

describe('agent-role trust policy (docs/deploy.md)', () => {
  const documented = /<!-- agent-role-trust-policy -->\s*```json\n([\s\S]+?)```/.exec(
    readFileSync(`${PROJECT_ROOT}/docs/deploy.md`, 'utf8'),
  )?.[1];
  const trust = JSON.parse((documented ?? '{}').replaceAll('ACCOUNT_ID', ACCOUNT).replaceAll('REGION', REGION)) as Record<string, unknown>;
  const assume = (handlerOrRole: EngineHandler | string, action: string, context: Record<string, string | string[]>) => {
    const isHandler = (ENGINE_HANDLERS as readonly string[]).includes(handlerOrRole);
    const roleArn = isHandler ? defaults.roleArnOf(handlerOrRole as EngineHandler) : handlerOrRole;
    const policies: Policies = {
      identity: isHandler ? defaults.identityOf(handlerOrRole as EngineHandler) : [ALLOW_EVERYTHING],
      resource: trust,
    };
    return decide({ principal: sessionOf(roleArn), action, resource: AGENT_ROLE, context: { ...MANAGED, ...context } }, policies, roleArn);
  };

  it('is in docs/deploy.md', () => {
    expect(documented).toBeDefined();
  });

  // The documented policy names the issuers of the default stack; the operator endpoint's role is
  // added by whoever configures operators (the IssuingRoleArns output lists exactly what to trust).
  it.each(ISSUING.filter((handler) => handler !== 'operator-api'))(
    'admits %s with a grant as source identity and the three session tags',
    async (handler) => {
      expect(await assume(handler, 'sts:AssumeRole', { 'sts:SourceIdentity': GRANT })).toBe('Allowed');
      expect(await assume(handler, 'sts:SetSourceIdentity', { 'sts:SourceIdentity': GRANT })).toBe('Allowed');
      expect(
        await assume(handler, 'sts:TagSession', { 'aws:TagKeys': ['taskbound:grant-id', 'taskbound:task-id', 'taskbound:agent-id'] }),
      ).toBe('Allowed');
    },
  );

  it('refuses a session without a grant-shaped source identity, even to the issuers', async () => {
    expect(await assume('task-started', 'sts:AssumeRole', {})).not.toBe('Allowed');
    expect(await assume('task-started', 'sts:AssumeRole', { 'sts:SourceIdentity': 'alice' })).not.toBe('Allowed');
    expect(await assume('task-started', 'sts:TagSession', { 'aws:TagKeys': ['taskbound:grant-id', 'admin'] })).not.toBe('Allowed');
  });

  it.each([
    ['a revoking function', `arn:aws:iam::${ACCOUNT}:role/taskbound-engine/taskbound-task-ended-${REGION}`],
    ['the function that refuses bus decisions', `arn:aws:iam::${ACCOUNT}:role/taskbound-engine/taskbound-grant-decision-${REGION}`],
    [
      'the operator endpoint of a stack without operators',
      `arn:aws:iam::${ACCOUNT}:role/taskbound-engine/taskbound-operator-api-${REGION}`,
    ],
    ['an administrator', `arn:aws:iam::${ACCOUNT}:role/admin`],
    ["a role under the engine's path", `arn:aws:iam::${ACCOUNT}:role/taskbound-engine/impostor`],
  ])('refuses %s, whatever its own permissions', async (_who, roleArn) => {
    expect(await assume(roleArn, 'sts:AssumeRole', { 'sts:SourceIdentity': GRANT })).not.toBe('Allowed');
  });
});
