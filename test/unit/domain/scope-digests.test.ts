import { describe, expect, it } from 'vitest';
import type { PolicyStatement } from '../../../lambdas/domain/policy';
import { narrowedStatements, scopeStatementDigests, statementDigests } from '../../../lambdas/domain/scope-digests';
import { testPolicy } from '../../helpers/test-policy';

const BUCKET = 'arn:aws:s3:::reports/*';
const readWrite: PolicyStatement = { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: BUCKET };

describe('statementDigests', () => {
  it('gives a statement one short digest per action and resource, marked with its effect', () => {
    const digests = statementDigests(readWrite);

    expect(digests).toHaveLength(2);
    expect(digests.every((digest) => /^A[A-Za-z0-9_-]{11}$/.test(digest))).toBe(true);
    expect(statementDigests({ ...readWrite, Effect: 'Deny' }).every((digest) => digest.startsWith('D'))).toBe(true);
  });

  it('digests alike what IAM cannot tell apart: a label, key order, a list of one, repeats, action case', () => {
    const same: PolicyStatement = { Resource: [BUCKET, BUCKET], Sid: 'Reports', Action: ['S3:PUTOBJECT', 's3:GetObject'], Effect: 'Allow' };

    expect(new Set(statementDigests(same))).toEqual(new Set(statementDigests(readWrite)));
    expect(statementDigests({ Effect: 'Allow', Action: 's3:GetObject', Resource: BUCKET })).toEqual([statementDigests(readWrite)[0]]);
  });

  it('digests differently a resource in another case, a condition, or NotResource', () => {
    const base = statementDigests({ Effect: 'Allow', Action: 's3:GetObject', Resource: BUCKET });
    const others = [
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::Reports/*' },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: BUCKET, Condition: { Bool: { 'aws:SecureTransport': 'true' } } },
      { Effect: 'Allow', Action: 's3:GetObject', NotResource: BUCKET },
    ] satisfies PolicyStatement[];

    for (const other of others) expect(statementDigests(other)).not.toEqual(base);
  });

  it('digests a statement of more than eight action-resource pairs whole, bounding the grant item', () => {
    const wide: PolicyStatement = {
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      Resource: ['arn:aws:s3:::a/*', 'arn:aws:s3:::b/*', 'arn:aws:s3:::c/*'],
    };

    expect(statementDigests(wide)).toHaveLength(1);
    expect(statementDigests({ ...wide, Resource: ['arn:aws:s3:::a/*', 'arn:aws:s3:::b/*'] })).toHaveLength(6);
  });

  it("digests each of a policy's scopes once", () => {
    const scope = testPolicy().scopes['repo-write']!;

    expect(scopeStatementDigests(scope)).toBe(scopeStatementDigests(scope));
  });
});

describe('narrowedStatements', () => {
  const issued = { 'repo-read': statementDigests(readWrite), logs: statementDigests({ Effect: 'Deny', Action: 's3:*', Resource: BUCKET }) };

  it('names the scope that lost an Allow pair', () => {
    const today = { ...issued, 'repo-read': statementDigests({ ...readWrite, Action: 's3:GetObject' }) };

    expect(narrowedStatements(issued, today)).toMatch(/^scope "repo-read" no longer allows 1 of the action-resource pairs/);
  });

  it('names the scope that gained a Deny', () => {
    const today = { ...issued, 'repo-read': [...issued['repo-read'], ...statementDigests({ ...readWrite, Effect: 'Deny' })] };

    expect(narrowedStatements(issued, today)).toBe('scope "repo-read" has 2 Deny statement(s) the grant was not issued');
  });

  it('lets a Deny go, an Allow come, and a pair move between the scopes the grant holds', () => {
    const today = {
      'repo-read': statementDigests({ Effect: 'Allow', Action: 's3:GetObject', Resource: BUCKET }),
      logs: statementDigests({ Effect: 'Allow', Action: ['s3:PutObject', 's3:ListBucket'], Resource: BUCKET }),
    };

    expect(narrowedStatements(issued, today)).toBeUndefined();
  });
});
