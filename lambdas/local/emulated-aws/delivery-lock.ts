// Local engine, emulated AWS: the lock on a delivery the engine has staged but not locked yet. On AWS
// the engine creates `taskbound/<agent>/<task>` with its credential under the delivery key, then
// locks it with PutResourcePolicy; in between, a runtime that relies on that resource policy is
// answered AccessDeniedException (docs/contract.md §5). Locally there are no IAM principals and
// resource policies are not enforced, so this keeps that one rule: until a delivery has a resource
// policy, only the engine's own key, correctly signed, may read or describe it.
import type { Clock } from '../../ports';
import { LOCAL_ACCOUNT_ID } from '../../constants';
import type { AwsRequest } from './protocol';
import { parseSigV4, verifyParsedSigV4 } from './sigv4';

/** Every delivery secret's name starts with this (docs/contract.md §5). */
export const DELIVERY_SECRET_PREFIX = 'taskbound/';

/** What the lock needs of a secret. */
export interface LockedSecret {
  readonly name: string;
  readonly arn: string;
  readonly resourcePolicy?: string;
}

export interface DeliveryLock {
  /**
   * AWS's AccessDeniedException message when `request` may not perform `action`
   * (`secretsmanager:GetSecretValue`, `secretsmanager:DescribeSecret`) on `secret`, else undefined.
   */
  refusal(request: AwsRequest, action: string, secret: LockedSecret): Promise<string | undefined>;
}

export interface DeliveryLockOptions {
  /** The key the local engine signs its own calls with (host/sdk-clients.ts). */
  readonly engineKey: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The clock a signature's date is checked against (15 minutes either way, as on AWS). */
  readonly signatureClock: Clock;
  /** The principal of a credential the engine issued (an assumed role's session, an IAM user); undefined for any other key. */
  readonly principalOf?: (accessKeyId: string, sessionToken: string | undefined) => Promise<string | undefined>;
}

/**
 * Who signed a request: the engine, or whom the refusal names: an issued credential's principal, else (locally a
 * runtime's key stands for no principal) an IAM user named after the access key id.
 */
type Caller = { readonly engine: true } | { readonly engine: false; readonly principal: string };

/** A delivery with no resource policy yet, which on AWS a runtime relying on that policy cannot read. */
export function isUnlockedDelivery(secret: LockedSecret): boolean {
  return secret.name.startsWith(DELIVERY_SECRET_PREFIX) && secret.resourcePolicy === undefined;
}

export function createDeliveryLock(options: DeliveryLockOptions): DeliveryLock {
  // A BatchGetSecretValue asks once per secret: its caller is worked out once per request.
  const callers = new WeakMap<AwsRequest, Promise<Caller>>();
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
  return {
    async refusal(request, action, secret) {
      if (!isUnlockedDelivery(secret)) return undefined;
      let caller = callers.get(request);
      if (!caller) {
        caller = callerOf(request);
        callers.set(request, caller);
      }
      const known = await caller;
      if (known.engine) return undefined;
      return `User: ${known.principal} is not authorized to perform: ${action} on resource: ${secret.arn} because no identity-based policy allows the ${action} action`;
    },
  };
}
