// CDK permissions (hub): the engine functions that issue or revoke may assume the spoke engine
// role of each account the policy names, and prove-revocation only the spoke's read-only prover role;
// no other role anywhere: an account without a scope in the policy cannot be reached, whatever roles
// exist there.
import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { accountsNamed, ENGINE_SESSION_NAME_PATTERN, spokeRoleArn, type SpokeRole } from '../../lambdas/domain/accounts';
import type { Policy } from '../../lambdas/domain/policy';
import type { TaskboundConfig } from '../config';

/**
 * `sts:AssumeRole` on exactly the spoke engine roles, only in a session named as the engine names its
 * own, and never setting a source identity (it would persist into the agent sessions started there);
 * none if the policy names no account.
 */
export const assumeSpokeEngineRoles = (config: TaskboundConfig, policy: Policy) => assumeSpokeRoles(config, policy, 'engine');

/** `sts:AssumeRole` on exactly the spokes' prover roles (read only), as {@link assumeSpokeEngineRoles}. */
export const assumeSpokeProverRoles = (config: TaskboundConfig, policy: Policy) => assumeSpokeRoles(config, policy, 'prover');

function assumeSpokeRoles(config: TaskboundConfig, policy: Policy, role: SpokeRole): iam.PolicyStatement[] {
  const roles = accountsNamed(policy).map((account) => spokeRoleArn(account, config.instanceName, role, Aws.PARTITION));
  if (roles.length === 0) return [];
  return [
    new iam.PolicyStatement({
      sid: role === 'prover' ? 'AssumeSpokeProverRoles' : 'AssumeSpokeEngineRoles',
      actions: ['sts:AssumeRole'],
      resources: roles,
      conditions: { StringLike: { 'sts:RoleSessionName': ENGINE_SESSION_NAME_PATTERN } },
    }),
  ];
}
