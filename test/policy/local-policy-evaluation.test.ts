// Policy tier: the local engine's own reading of an issued credential's policy (what its emulated
// Secrets Manager lets a task credential do) against the independent IAM evaluator
// (@cloud-copilot/iam-simulate): the same decision for every example scope's compiled policy, and
// for generated policies; never looser where a statement carries a condition.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileTaskPolicy } from '../../lambdas/adapters/aws/session-policy';
import { canaryStatement } from '../../lambdas/domain/canary';
import type { PolicyStatement } from '../../lambdas/domain/policy';
import { evaluateLocally, type LocalDecision } from '../../lambdas/local/emulated-aws/local-policy-evaluation';
import { PROJECT_ROOT } from '../../lib/bundling';
import { loadPolicyFile } from '../../lib/taskbound-app';
import { ACCOUNT, CANARY_ARN_PATTERN, REGION } from './cfn';
import { ALLOW_EVERYTHING, decide, type Decision } from './simulate';

const { policy } = loadPolicyFile('examples/taskbound.policy.yaml', PROJECT_ROOT);
const SECRETS = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:`;
const AS_ORACLE: Record<LocalDecision, Decision> = {
  allowed: 'Allowed',
  'explicit-deny': 'ExplicitlyDenied',
  'implicit-deny': 'ImplicitlyDenied',
};

/** What a task credential may try in Secrets Manager: each brokered secret, the canary, deliveries, others, and the calls that name none. */
const REQUESTS = [
  ...['GetSecretValue', 'DescribeSecret', 'PutSecretValue', 'DeleteSecret', 'UpdateSecret'].flatMap((operation) =>
    ['stripe-key-Xy12Z9', 'stripe-key-Xy12Z', 'taskbound-engine/canary-AbCdEf', 'taskbound/deploy-bot/task-1-Qw12Er', 'prod/db-AbCdEf'].map(
      (name) => ({
        action: `secretsmanager:${operation}`,
        resource: `${SECRETS}${name}`,
      }),
    ),
  ),
  { action: 'secretsmanager:ListSecrets', resource: '*' },
  { action: 'secretsmanager:BatchGetSecretValue', resource: '*' },
  { action: 'secretsmanager:GetRandomPassword', resource: '*' },
];

/** The oracle's decision for a credential carrying `document`: a user's inline policy, or a session policy under an allow-all role. */
function oracle(document: Record<string, unknown>, kind: 'aws-sts-session' | 'aws-iam-access-key', action: string, resource: string) {
  return kind === 'aws-sts-session'
    ? decide(
        { principal: `arn:aws:sts::${ACCOUNT}:assumed-role/taskbound-agent-x/grant`, action, resource },
        { identity: [ALLOW_EVERYTHING], session: document },
      )
    : decide({ principal: `arn:aws:iam::${ACCOUNT}:user/taskbound/grant`, action, resource }, { identity: [document] });
}

describe('the local engine judges a task credential as IAM does', () => {
  it.each(Object.entries(policy.scopes))(
    "gives the %s scope the evaluator's decision on every Secrets Manager request",
    async (_name, scope) => {
      const statements =
        scope.credential === 'aws-sts-session' ? [...scope.statements, canaryStatement(CANARY_ARN_PATTERN)] : scope.statements;
      const { document } = compileTaskPolicy(
        { statements, brokeredSecretArns: scope.secrets.map((secret) => secret.arn) },
        scope.credential,
      );
      const parsed = JSON.parse(document) as { Statement: PolicyStatement[] };
      for (const { action, resource } of REQUESTS) {
        const local = evaluateLocally(parsed.Statement, action, resource);
        const expected = await oracle(parsed, scope.credential, action, resource);
        expect(AS_ORACLE[local], `${action} on ${resource}`).toBe(expected);
      }
    },
  );

  const actionPatterns = fc.constantFrom(
    'secretsmanager:*',
    'secretsmanager:Get*',
    'secretsmanager:*Secret',
    'secretsmanager:DescribeSecret',
    'SecretsManager:getsecretvalue',
    's3:*',
    '*',
  );
  const resourcePatterns = fc.constantFrom(
    '*',
    `${SECRETS}*`,
    `${SECRETS}stripe-key-??????`,
    `${SECRETS}taskbound/*`,
    `${SECRETS}prod/db-*`,
    `${SECRETS}Stripe-key-??????`,
  );
  const statement = fc.record({
    Effect: fc.constantFrom('Allow' as const, 'Deny' as const),
    actions: fc.array(actionPatterns, { minLength: 1, maxLength: 2 }),
    notAction: fc.boolean(),
    resources: fc.array(resourcePatterns, { minLength: 1, maxLength: 2 }),
    notResource: fc.boolean(),
  });

  it("gives generated policies (Allow and Deny, NotAction, NotResource, wildcards, case) the evaluator's decision", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(statement, { minLength: 1, maxLength: 3 }), fc.constantFrom(...REQUESTS), async (generated, request) => {
        const statements: PolicyStatement[] = generated.map((one) => ({
          Effect: one.Effect,
          ...(one.notAction ? { NotAction: one.actions } : { Action: one.actions }),
          ...(one.notResource ? { NotResource: one.resources } : { Resource: one.resources }),
        }));
        const document = { Version: '2012-10-17', Statement: statements };
        const expected = await oracle(document, 'aws-iam-access-key', request.action, request.resource);
        expect(AS_ORACLE[evaluateLocally(statements, request.action, request.resource)]).toBe(expected);
      }),
      { numRuns: 300, seed: 20261130 },
    );
  });

  it('never allows what a conditioned statement might refuse on AWS', async () => {
    const condition = { StringEquals: { 'aws:ResourceTag/team': 'payments' } };
    const statements: PolicyStatement[] = [
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: `${SECRETS}*`, Condition: condition },
    ];
    const request = { action: 'secretsmanager:GetSecretValue', resource: `${SECRETS}stripe-key-Xy12Z9` };
    expect(evaluateLocally(statements, request.action, request.resource)).toBe('implicit-deny');
    // The evaluator refuses it too without the tag: the local reading is the case where the condition fails.
    expect(await oracle({ Version: '2012-10-17', Statement: statements }, 'aws-iam-access-key', request.action, request.resource)).toBe(
      'ImplicitlyDenied',
    );
  });
});
