import { describe, expect, it } from 'vitest';
import { startTask } from '../../../lambdas/use-cases/start-task';
import { decideGrant } from '../../../lambdas/use-cases/decide-grant';
import { sweepDueGrants } from '../../../lambdas/use-cases/sweep';
import { endTask } from '../../../lambdas/use-cases/end-task';
import { revokeUnentitledGrants } from '../../../lambdas/use-cases/revoke-unentitled';
import { grantIdFor } from '../../../lambdas/domain/ids';
import { parsePolicy } from '../../../lambdas/domain/policy-file';
import { fakeEngine, refundDecision as decision, refundStarted as transact, taskStarted } from '../../helpers/fake-engine';
import { TEST_POLICY_YAML } from '../../helpers/test-policy';

/** The test policy after an operator edited it and restarted the engine (a deploy, on AWS). */
const editedPolicy = (edit: (yaml: string) => string) => parsePolicy(edit(TEST_POLICY_YAML), 'edited.policy.yaml');
const deployStarted = { agentId: 'deploy-bot', taskId: 'ship-1', scopes: ['deploy-web'], requestedBy: 'dev@example.com' };
const deployDecision = (approver: string, decision: 'approve' | 'deny' = 'approve') => ({
  grantId: grantIdFor('deploy-bot', 'ship-1'),
  decision,
  approver,
  reason: 'checked',
});

describe('decideGrant', () => {
  it('needs two different eligible approvers; the owner and a repeat do not count', async () => {
    const engine = fakeEngine();
    expect((await startTask(engine, taskStarted(transact))).outcome).toBe('pending-approval');
    expect((await decideGrant(engine, decision('sre@example.com'))).outcome).toBe('refused');
    expect((await decideGrant(engine, decision('cfo@example.com'))).outcome).toBe('counted');
    expect((await decideGrant(engine, decision('cfo@example.com'))).outcome).toBe('refused');
    expect(engine.keys.issued.size).toBe(0);
    expect((await decideGrant(engine, decision('lead@example.com'))).outcome).toBe('issued');
    expect(engine.keys.issued.size).toBe(1);
    expect(engine.events.of('Grant Decision Refused')).toHaveLength(2);
    // The last approval reaches people only through the issue: it names that approver.
    expect(engine.events.of('Grant Issued').at(-1)?.detail).toMatchObject({ approver: 'lead@example.com' });
  });

  it('an approval after the window is refused and the request denied; the sweep closes silent ones', async () => {
    const engine = fakeEngine();
    await startTask(engine, taskStarted(transact));
    engine.clock.advance(3601_000);
    expect((await decideGrant(engine, decision('cfo@example.com'))).outcome).toBe('denied');
    await startTask(engine, taskStarted({ ...transact, taskId: 'refund-2' }));
    engine.clock.advance(3601_000);
    // Closed: the silent request, and the first denial's delivery secret after its hour.
    expect(await sweepDueGrants(engine)).toMatchObject({ closed: 2 });
    expect((await engine.store.get(grantIdFor('deploy-bot', 'refund-2')))?.state).toBe('denied');
    expect(engine.vault.secrets.has('taskbound/deploy-bot/refund-1')).toBe(false);
  });

  describe('when the policy changed while the request waited', () => {
    it('an approver taken out of the group can no longer approve, and the refusal is recorded', async () => {
      const engine = fakeEngine();
      await startTask(engine, taskStarted(deployStarted));
      const edited = {
        ...engine,
        policy: editedPolicy((yaml) =>
          yaml.replace('approverGroup: [lead@example.com, sre@example.com]', 'approverGroup: [cfo@example.com]'),
        ),
      };

      const result = await decideGrant(edited, deployDecision('lead@example.com'));

      expect(result).toMatchObject({ outcome: 'refused', reason: 'lead@example.com is not in the approver group for this grant' });
      expect(engine.sessions.issued.size).toBe(0);
      expect((await engine.store.get(grantIdFor('deploy-bot', 'ship-1')))?.audit.at(-1)?.action).toBe('decision-refused');
      expect((await decideGrant(edited, deployDecision('cfo@example.com'))).outcome).toBe('issued');
    });

    it("the agent's new owner may not approve a request made before they owned it", async () => {
      const engine = fakeEngine();
      await startTask(engine, taskStarted(deployStarted));
      const edited = { ...engine, policy: editedPolicy((yaml) => yaml.replace('owner: sre@example.com', 'owner: lead@example.com')) };

      const result = await decideGrant(edited, deployDecision('lead@example.com'));

      expect(result).toMatchObject({ outcome: 'refused' });
      expect(engine.sessions.issued.size).toBe(0);
    });

    it('an approval given by someone since taken out of the group no longer counts', async () => {
      const engine = fakeEngine();
      await startTask(engine, taskStarted(transact));
      expect((await decideGrant(engine, decision('cfo@example.com'))).outcome).toBe('counted');
      const edited = {
        ...engine,
        policy: editedPolicy((yaml) =>
          yaml
            .replace('[cfo@example.com, sre@example.com, lead@example.com]', '[ciso@example.com, sre@example.com, lead@example.com]')
            .replace('people:\n', 'people:\n  ciso@example.com: { awsPrincipals: ["arn:aws:iam::111122223333:role/ciso"] }\n'),
        ),
      };

      expect(await decideGrant(edited, decision('lead@example.com'))).toMatchObject({ outcome: 'counted', remaining: 1 });
      expect(engine.keys.issued.size).toBe(0);
      expect((await decideGrant(edited, decision('ciso@example.com'))).outcome).toBe('issued');
    });

    it('a request needing more approvals under the new policy waits for them', async () => {
      const engine = fakeEngine();
      await startTask(engine, taskStarted(deployStarted));
      const edited = {
        ...engine,
        policy: editedPolicy((yaml) =>
          yaml.replace(
            'deploy:   { mode: manual, approvers: 1, approverGroup: [lead@example.com, sre@example.com] }',
            'deploy:   { mode: manual, approvers: 2, approverGroup: [lead@example.com, cfo@example.com] }',
          ),
        ),
      };

      expect(await decideGrant(edited, deployDecision('lead@example.com'))).toMatchObject({ outcome: 'counted', remaining: 1 });
      expect(engine.sessions.issued.size).toBe(0);
    });

    it('a request of an agent the policy no longer lists is denied at the next decision, issuing nothing', async () => {
      const engine = fakeEngine();
      await startTask(engine, taskStarted(transact));
      const edited = { ...engine, policy: editedPolicy((yaml) => yaml.replace('refund, bucket-read-key]', 'bucket-read-key]')) };

      const result = await decideGrant(edited, decision('cfo@example.com'));

      expect(result.outcome).toBe('denied');
      expect(engine.keys.issued.size).toBe(0);
      expect(engine.events.of('Grant Denied').at(-1)?.detail).toMatchObject({ reason: expect.stringContaining('no longer allowed') });
    });
  });

  describe('a scope changed under the same name while its request waits', () => {
    const narrowedDeploy = (yaml: string) =>
      yaml
        .replace('Action: [codedeploy:CreateDeployment], Resource: "*"', 'Action: [codedeploy:GetDeployment], Resource: "*"')
        .replace(
          'deploy-web:\n    action: deploy\n    credential: aws-sts-session',
          'deploy-web:\n    action: deploy\n    credential: aws-iam-access-key',
        );

    it('is issued, and recorded, under the definition in force at its decision', async () => {
      const engine = fakeEngine();
      await startTask(engine, taskStarted(deployStarted));
      const edited = { ...engine, policy: editedPolicy(narrowedDeploy) };
      const grantId = grantIdFor('deploy-bot', 'ship-1');

      expect(await decideGrant(edited, deployDecision('lead@example.com'))).toMatchObject({ outcome: 'issued' });

      expect(engine.sessions.issued.size).toBe(0);
      expect(engine.keys.issued.get(grantId)?.request.statements).toEqual([
        { Effect: 'Allow', Action: ['codedeploy:GetDeployment'], Resource: '*' },
      ]);
      const issued = await engine.store.get(grantId);
      expect(issued?.credentialKind).toBe('aws-iam-access-key');
      expect(await revokeUnentitledGrants(edited)).toMatchObject({ revoked: 0 });
      // Its revocation goes to the kind it was issued: the key dies with its task.
      await endTask(edited, { agentId: 'deploy-bot', taskId: 'ship-1', outcome: 'succeeded' });
      expect(engine.keys.isLive(grantId)).toBe(false);
    });

    const widenedRefund = (yaml: string) =>
      yaml.replace('statements: []', 'statements: [{ Effect: Allow, Action: [s3:GetObject], Resource: "arn:aws:s3:::refunds/*" }]');

    it('stops counting approvals given before its scope was widened: the approvers saw less than would be issued', async () => {
      const engine = fakeEngine();
      await startTask(engine, taskStarted(transact));
      expect(await decideGrant(engine, decision('cfo@example.com'))).toMatchObject({ outcome: 'counted', remaining: 1 });
      const widened = { ...engine, policy: editedPolicy(widenedRefund) };

      expect(await decideGrant(widened, decision('lead@example.com'))).toMatchObject({ outcome: 'counted', remaining: 1 });
      expect(engine.keys.issued.size).toBe(0);
      const waiting = await engine.store.get(grantIdFor('deploy-bot', 'refund-1'));
      expect(waiting?.approvals.map((approval) => approval.approver)).toEqual(['lead@example.com']);
      expect(waiting?.audit.at(-1)?.detail).toMatchObject({
        earlierApprovalsDropped: 'its scopes now allow more than when the request was made',
      });

      expect(await decideGrant(widened, decision('cfo@example.com'))).toMatchObject({ outcome: 'issued' });
      expect(engine.keys.issued.get(grantIdFor('deploy-bot', 'refund-1'))?.request.statements).toHaveLength(1);
    });

    it('keeps counting approvals given before its scope was narrowed: they approved more than is issued', async () => {
      const engine = fakeEngine();
      await startTask(engine, taskStarted(transact));
      await decideGrant(engine, decision('cfo@example.com'));
      const secret = '\n      - { arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:stripe-key-AbCdEf", rotateAfterUse: true }';
      const narrowed = { ...engine, policy: editedPolicy((yaml) => yaml.replace(`secrets:${secret}`, 'secrets: []')) };

      expect(await decideGrant(narrowed, decision('lead@example.com'))).toMatchObject({ outcome: 'issued' });
      expect(engine.keys.issued.get(grantIdFor('deploy-bot', 'refund-1'))?.request.brokeredSecretArns).toEqual([]);
      expect((await engine.store.get(grantIdFor('deploy-bot', 'refund-1')))?.brokeredSecrets).toEqual([]);
    });
  });
});
