// Test helpers: a policy exercising every action class, both credential kinds, approvals
// with one and two approvers, and a brokered secret rotated after use.
import { parsePolicy } from '../../lambdas/domain/policy-file';
import type { Policy } from '../../lambdas/domain/policy';

export const TEST_POLICY_YAML = `
version: 1
approvalTimeoutSeconds: 3600
approvals:
  read:     { mode: auto }
  write:    { mode: auto }
  deploy:   { mode: manual, approvers: 1, approverGroup: [lead@example.com, sre@example.com] }
  transact: { mode: manual, approvers: 2, approverGroup: [cfo@example.com, sre@example.com, lead@example.com] }
scopes:
  repo-read:
    action: read
    credential: aws-sts-session
    statements:
      - { Effect: Allow, Action: [codecommit:GitPull], Resource: "arn:aws:codecommit:us-east-1:111122223333:web" }
  repo-write:
    action: write
    credential: aws-sts-session
    statements:
      - { Effect: Allow, Action: [codecommit:GitPush], Resource: "arn:aws:codecommit:us-east-1:111122223333:web" }
  deploy-web:
    action: deploy
    credential: aws-sts-session
    statements:
      - { Effect: Allow, Action: [codedeploy:CreateDeployment], Resource: "*" }
  refund:
    action: transact
    credential: aws-iam-access-key
    statements: []
    secrets:
      - { arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:stripe-key-AbCdEf", rotateAfterUse: true }
  bucket-read-key:
    action: read
    credential: aws-iam-access-key
    statements:
      - { Effect: Allow, Action: [s3:GetObject], Resource: "arn:aws:s3:::reports/*" }
agents:
  release-bot:
    owner: lead@example.com
    purpose: Dependency updates for the web repos
    riskTier: medium
    runtimePrincipal: arn:aws:iam::111122223333:role/agent-runtime
    scopes: [repo-read, repo-write]
    maxTtlSeconds: 1800
    defaultTtlSeconds: 900
    maxConcurrentGrants: 2
  deploy-bot:
    owner: sre@example.com
    purpose: Deploys the web app
    riskTier: high
    runtimePrincipal: arn:aws:iam::111122223333:role/deploy-runtime
    scopes: [repo-read, deploy-web, refund, bucket-read-key]
    maxTtlSeconds: 3600
    defaultTtlSeconds: 600
    maxConcurrentGrants: 5
people:
  lead@example.com: { awsPrincipals: ["arn:aws:iam::111122223333:role/lead"], slackUserIds: [U0LEAD0001] }
  sre@example.com: { awsPrincipals: ["arn:aws:iam::111122223333:role/ops/sre"], slackUserIds: [U0SRE00001] }
  cfo@example.com: { awsPrincipals: ["arn:aws:iam::111122223333:user/cfo"], slackUserIds: [U0CFO00001] }
`;

export const testPolicy = (): Policy => parsePolicy(TEST_POLICY_YAML, 'test.policy.yaml');
