// Local engine, emulated AWS: the lock on a delivery the engine has staged but not locked yet. On AWS
// the engine creates `taskbound/<agent>/<task>` with its credential under the delivery key, then
// locks it with PutResourcePolicy; in between, a runtime that relies on that resource policy is
// answered AccessDeniedException (docs/contract.md §5). Locally there are no IAM principals and
// resource policies are not enforced, so this keeps that one rule: until a delivery has a resource
// policy, only the engine's own key, correctly signed, may read or describe it.
import { DELIVERY_SECRET_PREFIX } from '../../domain/ids';
import type { AwsRequest } from './protocol';
import type { Caller } from './request-caller';

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

/** A delivery with no resource policy yet, which on AWS a runtime relying on that policy cannot read. */
export function isUnlockedDelivery(secret: LockedSecret): boolean {
  return secret.name.startsWith(DELIVERY_SECRET_PREFIX) && secret.resourcePolicy === undefined;
}

/** The lock, telling the engine (its own key, correctly signed) from anyone else by `callerOf` (request-caller.ts). */
export function createDeliveryLock(callerOf: (request: AwsRequest) => Promise<Caller>): DeliveryLock {
  return {
    async refusal(request, action, secret) {
      if (!isUnlockedDelivery(secret)) return undefined;
      const known = await callerOf(request);
      if (known.engine) return undefined;
      return `User: ${known.principal} is not authorized to perform: ${action} on resource: ${secret.arn} because no identity-based policy allows the ${action} action`;
    },
  };
}
