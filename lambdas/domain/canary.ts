// Domain: the session canary's one permission, shared by what issues sessions
// (lambdas/adapters/aws/sts-session-issuer.ts) and what bounds them (lib/ boundary and roles).
import type { PolicyStatement } from './policy';

/**
 * The canary permission every session policy carries (and the agent roles and the boundary
 * allow): describing the canary, so a refusal proves its revocation took. Secrets Manager
 * ARNs end in `-` and six random characters, so the name is matched.
 */
export function canaryStatement(canarySecretArnPattern: string): PolicyStatement {
  return { Effect: 'Allow', Action: 'secretsmanager:DescribeSecret', Resource: canarySecretArnPattern };
}
