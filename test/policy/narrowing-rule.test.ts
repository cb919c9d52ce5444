// Policy tier: the rule that keeps a live grant when its scope changed under the same name
// (lambdas/domain/scope-digests.ts) against the independent IAM evaluator (@cloud-copilot/iam-simulate).
// Whenever the rule calls an edited statement set "not narrower", every request the old set allowed,
// the new one allows too: the rule never keeps a credential the policy in force would not give.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PolicyStatement } from '../../lambdas/domain/policy';
import { narrowedStatements, statementDigests } from '../../lambdas/domain/scope-digests';
import { ACCOUNT } from './cfn';
import { decide } from './simulate';

const BUCKET = 'arn:aws:s3:::reports';
const REPO = `arn:aws:codecommit:us-east-1:${ACCOUNT}:web`;
const ACTIONS = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 'codecommit:GitPush', 'codecommit:GitPull'];
const ACTION_PATTERNS = [...ACTIONS, 's3:*', 's3:*Object', 'S3:getobject', '*'];
const RESOURCES = [`${BUCKET}/2026/a.csv`, `${BUCKET}/tmp/b.csv`, 'arn:aws:s3:::logs/c.log', REPO];
const RESOURCE_PATTERNS = [...RESOURCES, `${BUCKET}/*`, 'arn:aws:s3:::Reports/*', `${BUCKET}/2026/*`, 'arn:aws:s3:::*', '*'];
const CONDITIONS = [{ Bool: { 'aws:SecureTransport': 'true' } }, { Bool: { 'aws:SecureTransport': 'false' } }];
/** Every request the test asks about: each action on each resource of its service, over TLS and not. */
const REQUESTS = ACTIONS.flatMap((action) =>
  RESOURCES.filter((resource) => resource.split(':')[2] === action.split(':')[0]).flatMap((resource) =>
    ['true', 'false'].map((secure) => ({ action, resource, secure })),
  ),
);

const list = (values: readonly string[]) => fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: 3 });
const statementArbitrary: fc.Arbitrary<PolicyStatement> = fc
  .record({
    Effect: fc.constantFrom<'Allow' | 'Deny'>('Allow', 'Allow', 'Deny'),
    actions: list(ACTION_PATTERNS),
    notAction: fc.constantFrom(false, false, false, false, true),
    resources: list(RESOURCE_PATTERNS),
    notResource: fc.constantFrom(false, false, false, true),
    condition: fc.option(fc.constantFrom(...CONDITIONS), { freq: 3 }),
  })
  .map((one) => ({
    Effect: one.Effect,
    ...(one.notAction ? { NotAction: one.actions } : { Action: one.actions }),
    ...(one.notResource ? { NotResource: one.resources } : { Resource: one.resources }),
    ...(one.condition ? { Condition: one.condition } : {}),
  }));

type Edit = (statements: PolicyStatement[]) => PolicyStatement[];
const at = (statements: readonly PolicyStatement[], index: number) => index % Math.max(1, statements.length);
const replaced = (statements: PolicyStatement[], index: number, edit: (one: PolicyStatement) => PolicyStatement) =>
  statements.length === 0 ? statements : statements.map((one, i) => (i === at(statements, index) ? edit(one) : one));
const asList = (value: string | readonly string[] | undefined) =>
  value === undefined ? [] : typeof value === 'string' ? [value] : [...value];

/** The edits a platform engineer makes to a scope: many widen, many narrow, some only look different. */
const editArbitrary: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ index: fc.nat(), action: fc.constantFrom(...ACTION_PATTERNS) }).map(
    ({ index, action }): Edit =>
      (statements) =>
        replaced(statements, index, (one) => (one.Action !== undefined ? { ...one, Action: [...asList(one.Action), action] } : one)),
  ),
  fc.record({ index: fc.nat(), resource: fc.constantFrom(...RESOURCE_PATTERNS) }).map(
    ({ index, resource }): Edit =>
      (statements) =>
        replaced(statements, index, (one) =>
          one.Resource !== undefined ? { ...one, Resource: [...asList(one.Resource), resource] } : one,
        ),
  ),
  fc.record({ index: fc.nat(), resources: list(RESOURCE_PATTERNS) }).map(
    ({ index, resources }): Edit =>
      (statements) =>
        replaced(statements, index, (one) => (one.Resource !== undefined ? { ...one, Resource: resources } : one)),
  ),
  // Looks cosmetic, is not: an ARN's case matters.
  fc.nat().map(
    (index): Edit =>
      (statements) =>
        replaced(statements, index, (one) =>
          one.Resource !== undefined
            ? { ...one, Resource: asList(one.Resource).map((arn) => arn.replace(':::reports', ':::Reports')) }
            : one,
        ),
  ),
  fc.record({ index: fc.nat(), drop: fc.nat() }).map(
    ({ index, drop }): Edit =>
      (statements) =>
        replaced(statements, index, (one) => {
          const actions = asList(one.Action);
          return actions.length > 1 ? { ...one, Action: actions.filter((_, i) => i !== drop % actions.length) } : one;
        }),
  ),
  statementArbitrary.map((added): Edit => (statements) => [...statements, added]),
  fc.nat().map(
    (index): Edit =>
      (statements) =>
        statements.filter((_, i) => i !== at(statements, index)),
  ),
  fc.record({ index: fc.nat(), condition: fc.option(fc.constantFrom(...CONDITIONS)) }).map(
    ({ index, condition }): Edit =>
      (statements) =>
        replaced(statements, index, ({ Condition: _old, ...one }) => (condition ? { ...one, Condition: condition } : one)),
  ),
  fc.nat().map(
    (index): Edit =>
      (statements) =>
        replaced(statements, index, (one) => ({ ...one, Effect: one.Effect === 'Allow' ? 'Deny' : 'Allow' })),
  ),
  // Only cosmetic: a label, a list of one as a string, actions upper-cased and reversed, the statement split into its atoms.
  fc.nat().map(
    (index): Edit =>
      (statements) =>
        replaced(statements, index, (one) => ({
          Sid: 'Edited',
          ...one,
          ...(one.Action !== undefined
            ? {
                Action: asList(one.Action)
                  .map((action) => action.toUpperCase())
                  .reverse(),
              }
            : {}),
        })),
  ),
  fc.nat().map((index): Edit => (statements) => {
    if (statements.length === 0) return statements;
    const one = statements[at(statements, index)]!;
    if (one.Action === undefined) return statements;
    const split = asList(one.Action).map((action): PolicyStatement => ({ ...one, Action: action }));
    return [...statements.filter((_, i) => i !== at(statements, index)), ...split];
  }),
);

const keptByRule = (before: readonly PolicyStatement[], after: readonly PolicyStatement[]) =>
  narrowedStatements({ scope: before.flatMap(statementDigests) }, { scope: after.flatMap(statementDigests) }) === undefined;

/** The evaluator's answer for an access key whose user carries exactly `statements`. */
async function allows(statements: readonly PolicyStatement[], request: (typeof REQUESTS)[number]): Promise<boolean> {
  if (statements.length === 0) return false;
  const decision = await decide(
    {
      principal: `arn:aws:iam::${ACCOUNT}:user/taskbound/grant`,
      action: request.action,
      resource: request.resource,
      context: { 'aws:SecureTransport': request.secure },
    },
    { identity: [{ Version: '2012-10-17', Statement: statements }] },
  );
  return decision === 'Allowed';
}

describe('the narrowed-scope rule, checked by the IAM evaluator', () => {
  it('never calls an edit that takes a request away "not narrower"', async () => {
    let kept = 0;
    let judged = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(statementArbitrary, { minLength: 1, maxLength: 3 }),
        fc.array(editArbitrary, { minLength: 1, maxLength: 3 }),
        async (before, edits) => {
          const after = edits.reduce((statements, edit) => edit(statements), [...before]);
          judged++;
          if (!keptByRule(before, after)) return;
          kept++;
          for (const request of REQUESTS) {
            if (await allows(before, request)) {
              expect(await allows(after, request), `${request.action} on ${request.resource} (TLS ${request.secure})`).toBe(true);
            }
          }
        },
      ),
      { numRuns: 400, seed: 20261201 },
    );
    // The property is only as strong as the share of edits the rule keeps: most runs must reach the evaluator.
    expect(kept / judged).toBeGreaterThan(0.3);
  }, 120_000);

  it('keeps a statement only relabelled, reordered, upper-cased or split into its actions, and an action added', () => {
    const before: PolicyStatement[] = [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `${BUCKET}/*` }];
    const cosmetic: PolicyStatement[] = [
      { Sid: 'Put', Resource: [`${BUCKET}/*`], Action: 'S3:PUTOBJECT', Effect: 'Allow' },
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:DeleteObject'], Resource: `${BUCKET}/*` },
    ];

    expect(keptByRule(before, cosmetic)).toBe(true);
    expect(keptByRule(before, [{ ...before[0]!, Action: ['s3:GetObject'] }])).toBe(false);
    expect(keptByRule(before, [...before, { Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' }])).toBe(false);
  });
});
