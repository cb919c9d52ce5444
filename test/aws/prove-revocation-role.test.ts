// AWS emulator tier: prove-revocation run under its own role, not the engine key. The role's
// statements are the ones the engine stack synthesizes for the function (as the IAM-evaluator tier
// reads them), given to a moto IAM user; the deployed handler and its composition root sign with
// that user's key. A revoked session and two revoked keys (one with its delivery, one without),
// each killed by the engine and handed on with `proof: pending`, are proven dead with only what the
// role allows, and moto refuses the same key what would kill or revive a credential.
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  DeleteRolePolicyCommand,
  DeleteUserCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { REVOKED_SESSIONS_POLICY_NAME } from '../../lambdas/adapters/aws/revoked-sessions-policy';
import { grantIdFor } from '../../lambdas/domain/ids';
import { synthesizedPolicies } from '../policy/synthesized-policies';
import {
  asMotoEvaluates,
  closeWorld,
  eventBridgeEvent,
  openWorld,
  REGION,
  userWithKey,
  type AccessKey,
  type MotoWorld,
} from './moto-world';

afterEach(closeWorld);

type Statement = Parameters<typeof asMotoEvaluates>[0]['Statement'][number];

/** prove-revocation's role as the engine stack synthesizes it (every identity policy of the role), without some actions. */
function proverRole(without: readonly string[] = []) {
  const statements = synthesizedPolicies({})
    .identityOf('prove-revocation')
    .flatMap((document) => document.Statement as Statement[]);
  const kept = statements.map((statement) => ({
    ...statement,
    Action: [statement.Action ?? []].flat().filter((action) => !without.includes(action)),
  }));
  return asMotoEvaluates({ Statement: kept.filter((statement) => statement.Action.length > 0) });
}

const startTask = (world: MotoWorld, agentId: string, taskId: string, scopes: string[]) =>
  world.invoke(
    'task-started',
    eventBridgeEvent('Task Started', { taskId, agentId, purpose: `prover ${taskId}`, requestedBy: 'dev@example.com', scopes }),
  );

const endTask = (world: MotoWorld, agentId: string, taskId: string) =>
  world.invoke('task-ended', eventBridgeEvent('Task Ended', { taskId, agentId, outcome: 'succeeded', systemsTouched: [] }));

/** The `Grant Revoked` the kill published, as the bus hands it to prove-revocation. */
function handedOn(world: MotoWorld, grantId: string) {
  const revoked = world.accepted.find((event) => event.detail.grantId === grantId && event.detailType === 'Grant Revoked');
  expect(revoked?.detail).toMatchObject({ proof: 'pending' });
  return eventBridgeEvent('Grant Revoked', revoked?.detail, 'taskbound');
}

const signedBy = (world: MotoWorld, key: AccessKey) =>
  new IAMClient({ region: REGION, endpoint: world.endpoint, maxAttempts: 1, credentials: key });

describe('prove-revocation under its own role (moto)', () => {
  it('proves a revoked session and revoked keys dead with only its role, and is refused what would kill or revive', async () => {
    const world = await openWorld();
    const session = grantIdFor('release-bot', 'session');
    const keyWithDelivery = grantIdFor('deploy-bot', 'key');
    const keyWithoutDelivery = grantIdFor('deploy-bot', 'key-gone');
    expect(await startTask(world, 'release-bot', 'session', ['repo-read'])).toMatchObject({ outcome: 'issued' });
    expect(await startTask(world, 'deploy-bot', 'key', ['bucket-read-key'])).toMatchObject({ outcome: 'issued' });
    expect(await startTask(world, 'deploy-bot', 'key-gone', ['bucket-read-key'])).toMatchObject({ outcome: 'issued' });
    expect(await startTask(world, 'deploy-bot', 'live', ['bucket-read-key'])).toMatchObject({ outcome: 'issued' });
    // IAM has not enforced the kills yet: each kill's one probe is answered, so its proof is handed on.
    world.deniedSessionsStillWork.on = true;
    world.deletedKeysStillWork.on = true;
    for (const [agentId, taskId, grantId] of [
      ['release-bot', 'session', session],
      ['deploy-bot', 'key', keyWithDelivery],
      ['deploy-bot', 'key-gone', keyWithoutDelivery],
    ] as const)
      expect(await endTask(world, agentId, taskId)).toMatchObject({ grant: { grantId, state: 'revoked' } });
    world.deniedSessionsStillWork.on = false;
    world.deletedKeysStillWork.on = false;
    const proofs = [handedOn(world, session), handedOn(world, keyWithDelivery), handedOn(world, keyWithoutDelivery)];
    // One key's delivery gone (an operator cleaned up): its proof lists the user's keys instead.
    await world.aws.secrets.send(new DeleteSecretCommand({ SecretId: 'taskbound/deploy-bot/key-gone', ForceDeleteWithoutRecovery: true }));

    // The control: the same function under its role less the deny's read cannot prove the session, so the role's key is what signs.
    const lessThanItsRole = await world.proverSignedBy(
      await userWithKey(world.aws.iam, 'prove-revocation-without-deny-read', proverRole(['iam:GetRolePolicy'])),
    );
    await expect(lessThanItsRole(proofs[0])).rejects.toMatchObject({ name: 'AccessDenied' });

    const key = await userWithKey(world.aws.iam, 'prove-revocation', proverRole());
    const prove = await world.proverSignedBy(key);
    const before = world.calls.length;
    for (const [proof, grantId] of [
      [proofs[0], session],
      [proofs[1], keyWithDelivery],
      [proofs[2], keyWithoutDelivery],
    ] as const)
      expect(await prove(proof)).toMatchObject({ outcome: 'verified', grant: { grantId, state: 'verified' } });
    for (const grantId of [session, keyWithDelivery, keyWithoutDelivery])
      expect(world.eventsOf(grantId).at(-1)).toBe('Revocation Verified');
    const iamCalls = world.calls.slice(before).filter((call) => call.service === 'IAM');
    expect(iamCalls.map((call) => call.operation).sort()).toEqual(['GetRolePolicy', 'ListAccessKeys']);

    // What the role must not do, on the deny it read and on a user the engine issued and has not revoked.
    const prover = signedBy(world, key);
    const liveUser = `taskbound-${grantIdFor('deploy-bot', 'live')}`;
    const [liveKey] = (await world.aws.iam.send(new ListAccessKeysCommand({ UserName: liveUser }))).AccessKeyMetadata ?? [];
    const deny = { RoleName: 'taskbound-agent-release-bot', PolicyName: REVOKED_SESSIONS_POLICY_NAME };
    // A valid policy in the deny's place: the sessions it named would work again.
    const emptied = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:DescribeSecret', Resource: '*' }] };
    const { PolicyDocument: denyBefore } = await world.aws.iam.send(new GetRolePolicyCommand(deny));
    try {
      const refused = {
        PutRolePolicy: () => prover.send(new PutRolePolicyCommand({ ...deny, PolicyDocument: JSON.stringify(emptied) })),
        DeleteRolePolicy: () => prover.send(new DeleteRolePolicyCommand(deny)),
        DeleteAccessKey: () => prover.send(new DeleteAccessKeyCommand({ UserName: liveUser, AccessKeyId: liveKey?.AccessKeyId })),
        CreateAccessKey: () => prover.send(new CreateAccessKeyCommand({ UserName: liveUser })),
        DeleteUser: () => prover.send(new DeleteUserCommand({ UserName: liveUser })),
      };
      for (const [action, call] of Object.entries(refused)) await expect(call(), action).rejects.toMatchObject({ name: 'AccessDenied' });
    } finally {
      prover.destroy();
    }
    expect((await world.aws.iam.send(new GetRolePolicyCommand(deny))).PolicyDocument).toBe(denyBefore);
    const keysAfter = (await world.aws.iam.send(new ListAccessKeysCommand({ UserName: liveUser }))).AccessKeyMetadata ?? [];
    expect(keysAfter.map((metadata) => metadata.AccessKeyId)).toEqual([liveKey?.AccessKeyId]);
  });
});
