// AWS emulator tier: the revoked-sessions deny's share of an agent role's inline policy quota,
// measured from the role's other inline policies in moto's IAM.
import { IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RoleInlinePolicyBudget } from '../../lambdas/adapters/aws/role-inline-policy-budget';
import { REVOKED_SESSIONS_POLICY_NAME } from '../../lambdas/adapters/aws/revoked-sessions-policy';
import { ROLE_INLINE_POLICY_MAX_CHARS } from '../../lambdas/adapters/aws/sts-session-issuer';
import { freshMoto, ROLE_PREFIX, type FreshMoto } from './moto-world';

describe('RoleInlinePolicyBudget on moto', () => {
  let moto: FreshMoto;
  let iam: IAMClient;
  let now: Date;

  beforeEach(async () => {
    moto = await freshMoto();
    iam = new IAMClient({ ...moto.engineConfig, maxAttempts: 1 });
    now = new Date('2030-01-01T00:00:00Z');
  });
  afterEach(() => iam.destroy());

  const budget = () => new RoleInlinePolicyBudget(iam, { now: () => now }, REVOKED_SESSIONS_POLICY_NAME);

  it("leaves the deny what the role's other inline policies do not use, white space not counted, the deny itself not counted", async () => {
    const role = `${ROLE_PREFIX}release-bot`;
    const scopes = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['codecommit:GitPull', 'codecommit:GitPush'], Resource: '*' }],
    };
    await moto.aws.iam.send(
      new PutRolePolicyCommand({ RoleName: role, PolicyName: 'scopes', PolicyDocument: JSON.stringify(scopes, null, 2) }),
    );
    await moto.aws.iam.send(
      new PutRolePolicyCommand({
        RoleName: role,
        PolicyName: REVOKED_SESSIONS_POLICY_NAME,
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] }),
      }),
    );

    expect(await budget().of(role)).toBe(ROLE_INLINE_POLICY_MAX_CHARS - JSON.stringify(scopes).length);
  });

  it('keeps a measurement for 15 minutes, then measures again', async () => {
    const role = `${ROLE_PREFIX}deploy-bot`;
    const measured = budget();
    const before = await measured.of(role);
    const extra = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*' }] };
    await moto.aws.iam.send(new PutRolePolicyCommand({ RoleName: role, PolicyName: 'extra', PolicyDocument: JSON.stringify(extra) }));

    expect(await measured.of(role)).toBe(before);
    now = new Date(now.getTime() + 15 * 60_000);
    expect(await measured.of(role)).toBe(before - JSON.stringify(extra).length);
  });

  it('gives a role that does not exist the whole quota (writing the deny will fail on the role itself)', async () => {
    expect(await budget().of(`${ROLE_PREFIX}ghost`)).toBe(ROLE_INLINE_POLICY_MAX_CHARS);
  });
});
