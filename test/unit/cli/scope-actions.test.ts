import { describe, expect, it } from 'vitest';
import { scopeActions } from '../../../cli/scope-actions';
import { parsePolicy } from '../../../lambdas/domain/policy-file';
import { TEST_POLICY_YAML } from '../../helpers/test-policy';

/** The test policy plus a scope with a wildcard, an unknown service and a Deny, and a privileged NotAction scope. */
const policy = parsePolicy(
  TEST_POLICY_YAML.replace(
    'agents:\n',
    `  browse:
    action: read
    credential: aws-sts-session
    statements:
      - { Effect: Allow, Action: ["secretsmanager:List*", "nosuchsvc:Do*"], Resource: "*" }
      - { Effect: Deny, Action: [secretsmanager:ListSecrets], Resource: "*" }
  everything-but:
    action: deploy
    credential: aws-sts-session
    privileged: true
    statements:
      - { Effect: Allow, NotAction: ["iam:*"], Resource: "*" }
agents:
`,
  ),
  'test.policy.yaml',
);

describe('scopeActions', () => {
  it("expands a wildcard from AWS's catalog and keeps what it cannot expand as a pattern, with a note", async () => {
    const { actions, notes } = await scopeActions(policy);

    expect(actions.browse).toEqual(['nosuchsvc:Do*', 'secretsmanager:ListSecretVersionIds']);
    expect(notes).toContain('scope browse: nosuchsvc:Do* names a service the catalog does not know; compared as a pattern');
  });

  it('grants GetSecretValue to a scope that brokers secrets, and leaves out what a Deny on every resource takes back', async () => {
    const { actions } = await scopeActions(policy);

    expect(actions.refund).toEqual(['secretsmanager:GetSecretValue']);
    expect(actions.browse).not.toContain('secretsmanager:ListSecrets');
    expect(actions['repo-read']).toEqual(['codecommit:GitPull']);
  });

  it('leaves a NotAction statement out of the comparison and says so', async () => {
    const { actions, notes } = await scopeActions(policy);

    expect(actions['everything-but']).toEqual([]);
    expect(notes).toContain('scope everything-but: a NotAction statement grants every action but some; it is not compared');
  });
});
