// Local engine, emulated AWS: what stands in for IAM in front of the local Secrets Manager, for the
// credentials Taskbound issued. A revoked session is denied (AccessDeniedException, as the
// role's deny makes it in AWS), a dead key or expired session refused, and a live one may do only
// what its policy allows (its scopes); requests signed by anyone else pass as before.
import type { Clock } from '../../ports';
import type { PolicyStatement } from '../../domain/policy';
import type { LocalCredential, LocalCredentialAuthority } from './credential-authority';
import { evaluateLocally } from './local-policy-evaluation';
import { jsonError, type AwsRequest, type AwsResponse } from './protocol';
import { parseSigV4, verifyParsedSigV4 } from './sigv4';

/** What the service tells the gate: the resource IAM authorises the call on (read only when needed). */
export interface GateContext {
  resource(): Promise<string>;
}

/** Decides a request before the service runs it: a refusal, or undefined to let it through. */
export type RequestGate = (request: AwsRequest, context?: GateContext) => Promise<AwsResponse | undefined>;

/** Distinct policies are few (one per combination of scopes): parsed once each, not on every call. */
const PARSED_POLICIES_KEPT = 256;
const parsedPolicies = new Map<string, readonly PolicyStatement[]>();

function statementsOf(policy: string): readonly PolicyStatement[] {
  let statements = parsedPolicies.get(policy);
  if (!statements) {
    statements = (JSON.parse(policy) as { Statement: PolicyStatement[] }).Statement;
    if (parsedPolicies.size >= PARSED_POLICIES_KEPT) parsedPolicies.delete(parsedPolicies.keys().next().value as string);
    parsedPolicies.set(policy, statements);
  }
  return statements;
}

/** The credential's own policy, as IAM applies it: AccessDeniedException in AWS's words, or undefined. */
async function policyRefusal(
  credential: LocalCredential,
  request: AwsRequest,
  context: GateContext | undefined,
): Promise<AwsResponse | undefined> {
  if (credential.policy === undefined || !context) return undefined;
  const action = `secretsmanager:${(request.target ?? '').replace(/^secretsmanager\./, '')}`;
  const resource = await context.resource();
  const decision = evaluateLocally(statementsOf(credential.policy), action, resource);
  if (decision === 'allowed') return undefined;
  const holder = credential.kind === 'aws-sts-session' ? 'session policy' : 'identity-based policy';
  const why = decision === 'explicit-deny' ? `with an explicit deny in a ${holder}` : `because no ${holder} allows the ${action} action`;
  return jsonError(
    400,
    'AccessDeniedException',
    `User: ${credential.principalArn} is not authorized to perform: ${action} on resource: ${resource} ${why}`,
  );
}

/**
 * Requests signed by a credential the authority never issued pass untouched: locally there
 * are no IAM principals (the engine's own calls, a runtime's placeholder keys). An issued
 * credential must sign correctly, and is then judged as IAM would judge it.
 */
export function issuedCredentialGate(authority: LocalCredentialAuthority, signatureClock: Clock): RequestGate {
  return async (request, context) => {
    const parsed = parseSigV4(request);
    if (!parsed.ok) return undefined;
    const standing = await authority.standing(parsed.auth.accessKeyId, parsed.auth.sessionToken);
    if (standing.status === 'unknown') return undefined;
    if (standing.status === 'rejected') {
      return standing.code === 'ExpiredToken'
        ? jsonError(400, 'ExpiredTokenException', 'The security token included in the request is expired')
        : jsonError(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    const verified = await verifyParsedSigV4(request, parsed.auth, {
      now: signatureClock.now(),
      secretFor: () => standing.credential.secretAccessKey,
    });
    if (!verified.ok) return jsonError(400, 'InvalidSignatureException', verified.message);
    if (standing.status === 'denied') {
      const action = `secretsmanager:${(request.target ?? '').replace(/^secretsmanager\./, '')}`;
      return jsonError(
        400,
        'AccessDeniedException',
        `User: ${standing.credential.principalArn} is not authorized to perform: ${action} with an explicit deny in an identity-based policy`,
      );
    }
    return policyRefusal(standing.credential, request, context);
  };
}
