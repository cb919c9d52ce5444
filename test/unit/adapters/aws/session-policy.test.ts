import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnissuableRequestError } from '../../../../lambdas/domain/errors';
import type { PolicyStatement } from '../../../../lambdas/domain/policy';
import { compileTaskPolicy, DENY_EVERYTHING } from '../../../../lambdas/adapters/aws/session-policy';

const PULL: PolicyStatement = {
  Effect: 'Allow',
  Action: ['codecommit:GitPull'],
  Resource: 'arn:aws:codecommit:us-east-1:111122223333:web',
};
const STRIPE = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:stripe-key';

function bucketStatement(index: number): PolicyStatement {
  return {
    Effect: 'Allow',
    Action: ['s3:GetObject', 's3:ListBucket'],
    Resource: [`arn:aws:s3:::bucket-number-${index}`, `arn:aws:s3:::bucket-number-${index}/*`],
  };
}

describe('compileTaskPolicy', () => {
  it('writes the statements and exactly GetSecretValue on the brokered secrets, minified', () => {
    const policy = compileTaskPolicy({ statements: [PULL], brokeredSecretArns: [STRIPE] }, 'aws-sts-session');

    expect(policy.document).toBe(
      '{"Version":"2012-10-17","Statement":[' +
        '{"Effect":"Allow","Action":["codecommit:GitPull"],"Resource":"arn:aws:codecommit:us-east-1:111122223333:web"},' +
        `{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":["${STRIPE}","${STRIPE}-??????"]}]}`,
    );
    expect(policy.chars).toBe(policy.document.length);
  });

  it('writes a statement that several scopes share once, and each secret once', () => {
    const policy = compileTaskPolicy(
      { statements: [PULL, { ...PULL }], brokeredSecretArns: [STRIPE, STRIPE, `${STRIPE}-2`] },
      'aws-iam-access-key',
    );

    const statements = JSON.parse(policy.document).Statement;
    expect(statements).toHaveLength(2);
    expect(statements[1]).toEqual({
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: [STRIPE, `${STRIPE}-??????`, `${STRIPE}-2`, `${STRIPE}-2-??????`],
    });
  });

  it('keeps conditions and Sids as the policy author wrote them', () => {
    const conditioned: PolicyStatement = { Sid: 'OnlyTagged', ...PULL, Condition: { StringEquals: { 'aws:ResourceTag/team': 'web' } } };

    const statements = JSON.parse(
      compileTaskPolicy({ statements: [conditioned], brokeredSecretArns: [] }, 'aws-sts-session').document,
    ).Statement;

    expect(statements).toEqual([conditioned]);
  });

  it('represents "nothing allowed" as an explicit deny of everything, never as no policy', () => {
    const policy = compileTaskPolicy({ statements: [], brokeredSecretArns: [] }, 'aws-sts-session');

    expect(JSON.parse(policy.document)).toEqual({ Version: '2012-10-17', Statement: [DENY_EVERYTHING] });
  });

  it('refuses a scope set over 2,048 characters with the size and the limit, cutting nothing', () => {
    const statements = Array.from({ length: 20 }, (_, index) => bucketStatement(index));

    for (const kind of ['aws-sts-session', 'aws-iam-access-key'] as const) {
      const attempt = () => compileTaskPolicy({ statements, brokeredSecretArns: [] }, kind);
      expect(attempt).toThrow(UnissuableRequestError);
      expect(attempt).toThrow(/compile to a \d{4}-character policy, over the 2048 characters .* nothing was cut/);
    }
  });

  it('accepts a policy of exactly 2,048 characters and refuses one of 2,049', () => {
    const base = compileTaskPolicy(
      { statements: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/' }], brokeredSecretArns: [] },
      'aws-sts-session',
    );
    const fill = 2048 - base.chars;
    const exact = { Effect: 'Allow' as const, Action: 's3:GetObject', Resource: `arn:aws:s3:::b/${'x'.repeat(fill)}` };

    expect(compileTaskPolicy({ statements: [exact], brokeredSecretArns: [] }, 'aws-sts-session').chars).toBe(2048);
    expect(() =>
      compileTaskPolicy({ statements: [{ ...exact, Resource: `${exact.Resource}x` }], brokeredSecretArns: [] }, 'aws-sts-session'),
    ).toThrow(UnissuableRequestError);
  });

  it('refuses characters IAM does not accept in a policy', () => {
    const statement: PolicyStatement = { ...PULL, Condition: { StringEquals: { 'aws:ResourceTag/team': 'ウェブ' } } };

    expect(() => compileTaskPolicy({ statements: [statement], brokeredSecretArns: [] }, 'aws-sts-session')).toThrow(
      /characters IAM does not accept/,
    );
  });

  it('either yields valid JSON within the limit that grants every statement, or refuses', () => {
    const statement = fc.record({
      Effect: fc.constantFrom('Allow' as const, 'Deny' as const),
      Action: fc.array(fc.stringMatching(/^[a-z0-9]{1,12}:[A-Za-z*]{1,20}$/), { minLength: 1, maxLength: 4 }),
      Resource: fc.stringMatching(/^arn:aws:s3:::[a-z0-9-]{1,40}$/),
    });
    fc.assert(
      fc.property(
        fc.array(statement, { maxLength: 20 }),
        fc.array(fc.constantFrom(STRIPE, `${STRIPE}-b`), { maxLength: 3 }),
        (statements, secrets) => {
          let compiled;
          try {
            compiled = compileTaskPolicy({ statements, brokeredSecretArns: secrets }, 'aws-sts-session');
          } catch (error) {
            return error instanceof UnissuableRequestError;
          }
          const written = JSON.parse(compiled.document).Statement as unknown[];
          return (
            compiled.document.length <= 2048 &&
            statements.every((input) => written.some((output) => JSON.stringify(output) === JSON.stringify(input)))
          );
        },
      ),
    );
  });
});
