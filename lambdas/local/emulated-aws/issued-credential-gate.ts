// Local engine, emulated AWS: what stands in for IAM in front of the local Secrets Manager, for the
// credentials Taskbound issued. A revoked session is denied (AccessDeniedException, as the
// role's deny makes it in AWS), a dead key or expired session refused; others pass as before.
import type { Clock } from '../../ports';
import type { LocalCredentialAuthority } from './credential-authority';
import { jsonError, type AwsRequest, type AwsResponse } from './protocol';
import { parseSigV4, verifyParsedSigV4 } from './sigv4';

/** Decides a request before the service runs it: a refusal, or undefined to let it through. */
export type RequestGate = (request: AwsRequest) => Promise<AwsResponse | undefined>;

/**
 * Requests signed by a credential the authority never issued pass untouched: locally there
 * are no IAM principals (the engine's own calls, a runtime's placeholder keys). An issued
 * credential must sign correctly, and is then judged as IAM would judge it.
 */
export function issuedCredentialGate(authority: LocalCredentialAuthority, clock: Clock): RequestGate {
  return async (request) => {
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
      now: clock.now(),
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
    return undefined;
  };
}
