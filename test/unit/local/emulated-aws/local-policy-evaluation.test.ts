import { describe, expect, it } from 'vitest';
import { evaluateLocally } from '../../../../lambdas/local/emulated-aws/local-policy-evaluation';

const SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:stripe-key-AbCdEf';

describe('evaluateLocally', () => {
  it('allows what an Allow names, by action wildcard (any case) and resource pattern', () => {
    const allow = [
      {
        Effect: 'Allow' as const,
        Action: 'SecretsManager:Get*',
        Resource: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:stripe-key-??????',
      },
    ];
    expect(evaluateLocally(allow, 'secretsmanager:GetSecretValue', SECRET)).toBe('allowed');
    expect(evaluateLocally(allow, 'secretsmanager:DescribeSecret', SECRET)).toBe('implicit-deny');
    expect(evaluateLocally(allow, 'secretsmanager:GetSecretValue', `${SECRET}x`)).toBe('implicit-deny');
  });

  it("matches a policy's ARN in any account (locally there is one)", () => {
    const allow = [
      {
        Effect: 'Allow' as const,
        Action: 'secretsmanager:GetSecretValue',
        Resource: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:stripe-key-??????',
      },
    ];
    expect(evaluateLocally(allow, 'secretsmanager:GetSecretValue', SECRET)).toBe('allowed');
  });

  it('lets an explicit Deny win over an Allow, and reads NotAction and NotResource', () => {
    const statements = [
      { Effect: 'Allow' as const, NotAction: 'iam:*', Resource: '*' },
      { Effect: 'Deny' as const, Action: 'secretsmanager:*', NotResource: 'arn:aws:secretsmanager:*:*:secret:public-*' },
    ];
    expect(evaluateLocally(statements, 'secretsmanager:GetSecretValue', SECRET)).toBe('explicit-deny');
    expect(
      evaluateLocally(statements, 'secretsmanager:GetSecretValue', 'arn:aws:secretsmanager:us-east-1:000000000000:secret:public-x'),
    ).toBe('allowed');
    expect(evaluateLocally(statements, 'iam:ListUsers', '*')).toBe('implicit-deny');
  });

  it('reads a Condition the strict way: its Allow allows nothing, its Deny denies', () => {
    const condition = { Bool: { 'aws:SecureTransport': 'true' } };
    expect(evaluateLocally([{ Effect: 'Allow', Action: '*', Resource: '*', Condition: condition }], 's3:GetObject', '*')).toBe(
      'implicit-deny',
    );
    expect(
      evaluateLocally(
        [
          { Effect: 'Allow', Action: '*', Resource: '*' },
          { Effect: 'Deny', Action: '*', Resource: '*', Condition: condition },
        ],
        's3:GetObject',
        '*',
      ),
    ).toBe('explicit-deny');
  });
});
