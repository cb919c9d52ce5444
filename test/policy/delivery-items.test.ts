// Policy tier: the `dynamodb-kms` delivery mode and the `due-index` expiry mode, synthesized and
// judged by the independent evaluator (@cloud-copilot/iam-simulate): only an agent's runtime
// principal reads its agent's delivery items (`dynamodb:LeadingKeys`) and decrypts them (the
// encryption context names the agent); engine roles that neither issue nor revoke do neither;
// issuing roles encrypt but cannot decrypt; only engine roles write items; nothing schedules.
import { describe, expect, it } from 'vitest';
import { ENGINE_HANDLERS, type EngineHandler } from '../../lib/bundling';
import { ISSUING, REVOKING } from '../../lib/naming';
import { ACCOUNT } from './cfn';
import { ALLOW_EVERYTHING, decide, type Decision } from './simulate';
import { synthesizedPolicies } from './synthesized-policies';

const app = synthesizedPolicies({ deliveryMode: 'dynamodb-kms', expiry: 'due-index' });
const table = app.deliveryTable!;
const runtime = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const RELEASE_RUNTIME = runtime('agent-runtime');
const DEPLOY_RUNTIME = runtime('deploy-runtime');
const sessionOf = (roleArn: string) => roleArn.replace(/^arn:aws:iam::(\d+):role\/(?:.*\/)?([^/]+)$/, 'arn:aws:sts::$1:assumed-role/$2/s');

// The evaluator checks context keys against the SAR, which writes the encryption-context key as
// a template (`kms:EncryptionContext:${EncryptionContextKey}`) it cannot match and would drop.
// As in deployed-policies.test.ts, the key is renamed in the policies and the request alike to
// another single-valued string key of kms:Decrypt/Encrypt (kms:RequestAlias), operators and values kept.
const AGENT_CONTEXT = 'kms:EncryptionContext:taskbound:agent-id';
const STAND_IN = 'kms:RequestAlias';
const renamed = <T>(document: T): T => JSON.parse(JSON.stringify(document).replaceAll(AGENT_CONTEXT, STAND_IN)) as T;
const keyPolicy = renamed(app.keyPolicy);

const isOneOf = (handlers: readonly string[], handler: string) => handlers.includes(handler);
/** Functions of the default deployment (the operator endpoint exists only with operators configured). */
const HANDLERS = ENGINE_HANDLERS.filter((handler) => handler !== 'operator-api');

/** A read of `agentId`'s item by `principal` (role ARN), judged with its identity policies and the table's. */
function getItem(
  principal: string,
  agentId: string,
  identity: readonly Record<string, unknown>[] = [],
  roleArn?: string,
): Promise<Decision> {
  return decide(
    { principal: sessionOf(principal), action: 'dynamodb:GetItem', resource: table.arn, context: { 'dynamodb:LeadingKeys': [agentId] } },
    { identity, resource: table.policy },
    roleArn,
  );
}

function kms(
  action: 'kms:Decrypt' | 'kms:Encrypt',
  principal: string,
  agentId: string,
  identity: readonly Record<string, unknown>[] = [],
  roleArn?: string,
): Promise<Decision> {
  return decide(
    { principal: sessionOf(principal), action, resource: app.keyArn, context: { [STAND_IN]: agentId } },
    { identity: identity.map(renamed), resource: keyPolicy },
    roleArn,
  );
}

const asHandler = (handler: EngineHandler) => ({
  principal: app.roleArnOf(handler),
  identity: app.identityOf(handler),
  roleArn: app.roleArnOf(handler),
});

describe('delivery items (synthesized, deliveryMode: dynamodb-kms)', () => {
  it('keys the policies on the agent: the renamed context key is really there, and the table has its resource policy', () => {
    expect(JSON.stringify(app.keyPolicy)).toContain(AGENT_CONTEXT);
    expect(JSON.stringify(table.policy)).toContain('dynamodb:LeadingKeys');
  });

  it("lets an agent's runtime read and decrypt its agent's items, with no identity policy of its own", async () => {
    expect(await getItem(RELEASE_RUNTIME, 'release-bot')).toBe('Allowed');
    expect(await kms('kms:Decrypt', RELEASE_RUNTIME, 'release-bot')).toBe('Allowed');
    expect(await getItem(DEPLOY_RUNTIME, 'deploy-bot')).toBe('Allowed');
    expect(await kms('kms:Decrypt', DEPLOY_RUNTIME, 'deploy-bot')).toBe('Allowed');
  });

  it("refuses another agent's runtime both the item and its decryption, even with an allow-everything identity policy", async () => {
    expect(await getItem(DEPLOY_RUNTIME, 'release-bot')).toBe('ImplicitlyDenied');
    expect(await kms('kms:Decrypt', DEPLOY_RUNTIME, 'release-bot')).toBe('ImplicitlyDenied');
    expect(await getItem(RELEASE_RUNTIME, 'deploy-bot')).toBe('ImplicitlyDenied');
    expect(await kms('kms:Decrypt', RELEASE_RUNTIME, 'deploy-bot')).toBe('ImplicitlyDenied');
    // A runtime cannot encrypt (forge a delivery) nor write items, whatever its own policies say about writing.
    expect(await kms('kms:Encrypt', RELEASE_RUNTIME, 'release-bot')).toBe('ImplicitlyDenied');
    const put = await decide(
      {
        principal: sessionOf(RELEASE_RUNTIME),
        action: 'dynamodb:PutItem',
        resource: table.arn,
        context: { 'dynamodb:LeadingKeys': ['release-bot'] },
      },
      { identity: [ALLOW_EVERYTHING], resource: table.policy },
    );
    expect(put).toBe('ExplicitlyDenied');
  });

  it('gives a principal the policy file does not name nothing', async () => {
    expect(await getItem(runtime('someone-else'), 'release-bot')).toBe('ImplicitlyDenied');
    expect(await kms('kms:Decrypt', runtime('someone-else'), 'release-bot')).toBe('ImplicitlyDenied');
  });

  it.each(HANDLERS.filter((handler) => !isOneOf(ISSUING, handler) && !isOneOf(REVOKING, handler)))(
    '%s (neither issues nor revokes) can neither read nor decrypt a delivery, nor write one',
    async (handler) => {
      const { principal, identity, roleArn } = asHandler(handler);
      expect(await getItem(principal, 'release-bot', identity, roleArn)).not.toBe('Allowed');
      expect(await kms('kms:Decrypt', principal, 'release-bot', identity, roleArn)).not.toBe('Allowed');
      expect(await kms('kms:Encrypt', principal, 'release-bot', identity, roleArn)).not.toBe('Allowed');
    },
  );

  it.each(HANDLERS.filter((handler) => isOneOf(ISSUING, handler)))(
    '%s encrypts and puts deliveries but cannot read or decrypt one',
    async (handler) => {
      const { principal, identity, roleArn } = asHandler(handler);
      expect(await kms('kms:Encrypt', principal, 'release-bot', identity, roleArn)).toBe('Allowed');
      const put = await decide(
        {
          principal: sessionOf(principal),
          action: 'dynamodb:PutItem',
          resource: table.arn,
          context: { 'dynamodb:LeadingKeys': ['release-bot'] },
        },
        { identity, resource: table.policy },
        roleArn,
      );
      expect(put).toBe('Allowed');
      expect(await kms('kms:Decrypt', principal, 'release-bot', identity, roleArn)).not.toBe('Allowed');
      expect(await getItem(principal, 'release-bot', identity, roleArn)).not.toBe('Allowed');
    },
  );

  it.each([...REVOKING])('%s reads a delivery back (to probe the credential dead), decrypts it and deletes it', async (handler) => {
    const { principal, identity, roleArn } = asHandler(handler);
    expect(await getItem(principal, 'release-bot', identity, roleArn)).toBe('Allowed');
    expect(await kms('kms:Decrypt', principal, 'release-bot', identity, roleArn)).toBe('Allowed');
    const remove = await decide(
      {
        principal: sessionOf(principal),
        action: 'dynamodb:DeleteItem',
        resource: table.arn,
        context: { 'dynamodb:LeadingKeys': ['release-bot'] },
      },
      { identity, resource: table.policy },
      roleArn,
    );
    expect(remove).toBe('Allowed');
  });
});

describe('expiry from the due index (synthesized, expiry: due-index)', () => {
  it.each(HANDLERS)('%s may not create or delete schedules', async (handler) => {
    const { principal, identity, roleArn } = asHandler(handler);
    for (const action of ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule']) {
      const decision = await decide(
        { principal: sessionOf(principal), action, resource: `arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule/taskbound-expiry/g-x` },
        { identity },
        roleArn,
      );
      expect(decision, action).not.toBe('Allowed');
    }
  });
});
