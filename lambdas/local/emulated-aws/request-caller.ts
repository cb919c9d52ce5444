// Local engine, emulated AWS: who made a request, for the two resource policies the local engine keeps (the
// delivery lock, the bus's reserved sources). There are no IAM principals locally, but the engine's own key is
// known: a request that claims it and is correctly signed with its secret is the engine's. Any other caller is
// named as AWS would name it in a refusal.
import type { Clock } from '../../ports';
import { LOCAL_ACCOUNT_ID } from '../../constants';
import type { AwsRequest } from './protocol';
import { parseSigV4, verifyParsedSigV4 } from './sigv4';

export interface CallerOptions {
  /** The key the local engine signs its own calls with (host/sdk-clients.ts). */
  readonly engineKey: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The clock a signature's date is checked against (15 minutes either way, as on AWS). */
  readonly signatureClock: Clock;
  /** The principal of a credential the engine issued (an assumed role's session, an IAM user); undefined for any other key. */
  readonly principalOf?: (accessKeyId: string, sessionToken: string | undefined) => Promise<string | undefined>;
}

/**
 * The engine, or whom a refusal names: an issued credential's principal, else (locally a runtime's key stands
 * for no principal) an IAM user named after the access key id.
 */
export type Caller = { readonly engine: true } | { readonly engine: false; readonly principal: string };

/** Tells who made a request; asked again about the same request (a batch asks once per item), answers from memory. */
export function requestCaller(options: CallerOptions): (request: AwsRequest) => Promise<Caller> {
  const known = new WeakMap<AwsRequest, Promise<Caller>>();
  const callerOf = async (request: AwsRequest): Promise<Caller> => {
    const parsed = parseSigV4(request);
    if (!parsed.ok) return { engine: false, principal: 'anonymous' };
    const { accessKeyId } = parsed.auth;
    const principal = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/${accessKeyId}`;
    if (accessKeyId !== options.engineKey.accessKeyId) {
      const issued = await options.principalOf?.(accessKeyId, parsed.auth.sessionToken);
      return { engine: false, principal: issued ?? principal };
    }
    // Claiming the engine's key id is not enough: the request must be signed with its secret.
    const verified = await verifyParsedSigV4(request, parsed.auth, {
      now: options.signatureClock.now(),
      secretFor: () => options.engineKey.secretAccessKey,
    });
    return verified.ok ? { engine: true } : { engine: false, principal };
  };
  return (request) => {
    let caller = known.get(request);
    if (!caller) {
      caller = callerOf(request);
      known.set(request, caller);
    }
    return caller;
  };
}
