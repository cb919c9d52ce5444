// Tests: the escalation checker itself flags what it must, so the template test can fail.
import { describe, expect, it } from 'vitest';
import { escalationFindings } from './iam-escalation';

describe('escalationFindings', () => {
  it('flags wildcard and escalation actions', () => {
    expect(escalationFindings({ Effect: 'Allow', Action: 'iam:*', Resource: 'arn:aws:iam::1:user/x' })).toEqual([
      expect.stringContaining('wildcard action iam:*'),
    ]);
    expect(escalationFindings({ Effect: 'Allow', Action: 'iam:CreatePolicyVersion', Resource: 'arn:aws:iam::1:policy/p' })).toEqual([
      expect.stringContaining('escalation action iam:createpolicyversion'),
    ]);
    expect(
      escalationFindings({ Effect: 'Allow', Action: ['iam:AttachUserPolicy'], Resource: 'arn:aws:iam::1:user/taskbound/*' }),
    ).toHaveLength(1);
  });

  it('flags user policies and role policies without the boundary condition', () => {
    expect(
      escalationFindings({ Effect: 'Allow', Action: ['iam:PutUserPolicy', 'iam:CreateUser'], Resource: 'arn:aws:iam::1:user/taskbound/*' }),
    ).toHaveLength(2);
    const bounded = { StringEquals: { 'iam:PermissionsBoundary': 'arn:aws:iam::1:policy/b' } };
    expect(
      escalationFindings({ Effect: 'Allow', Action: 'iam:PutUserPolicy', Resource: 'arn:aws:iam::1:user/taskbound/*', Condition: bounded }),
    ).toEqual([]);
  });

  it('flags PassRole without a service condition and AssumeRole without a tag condition', () => {
    expect(escalationFindings({ Effect: 'Allow', Action: 'iam:PassRole', Resource: 'arn:aws:iam::1:role/r' })).toHaveLength(1);
    expect(escalationFindings({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: 'arn:aws:iam::1:role/r' })).toHaveLength(1);
  });

  it('flags write actions on every resource but accepts resource-less reads', () => {
    expect(escalationFindings({ Effect: 'Allow', Action: 'secretsmanager:DeleteSecret', Resource: '*' })).toHaveLength(1);
    expect(escalationFindings({ Effect: 'Allow', Action: ['xray:PutTraceSegments', 'secretsmanager:ListSecrets'], Resource: '*' })).toEqual(
      [],
    );
  });

  it('ignores Deny statements', () => {
    expect(escalationFindings({ Effect: 'Deny', Action: '*', Resource: '*' })).toEqual([]);
  });
});
