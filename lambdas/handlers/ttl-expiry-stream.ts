// Handler: the backstop for expiry. DynamoDB's TTL deletes a grant's expiry marker at (or
// after) its expiry; the stream record, filtered to TTL deletes, expires the grant.
import * as z from 'zod';
import { expireGrant } from '../use-cases/expire-grant';
import { awsExpiringEngine } from '../composition/aws-engine';
import type { DepsProvider } from '../composition/event-handler';
import { logger } from '../composition/logger';
import { handlerChain } from '../composition/handler-chain';
import { inRevocationLaneEach } from '../composition/revocation-lane';

const ttlDelete = z.looseObject({
  eventName: z.literal('REMOVE'),
  userIdentity: z.looseObject({ type: z.literal('Service'), principalId: z.literal('dynamodb.amazonaws.com') }),
  dynamodb: z.looseObject({ OldImage: z.looseObject({ sk: z.object({ S: z.literal('EXPIRY') }), grantId: z.object({ S: z.string() }) }) }),
});
const streamEvent = z.object({ Records: z.array(z.unknown()) });

export const makeTtlExpiryStreamHandler = (getDeps: DepsProvider) =>
  handlerChain().handler(async (event: unknown) => {
    const deps = await getDeps();
    let expired = 0;
    for (const record of streamEvent.parse(event).Records) {
      // Only TTL deletes of expiry markers count: a user deleting an item must not expire anything.
      const parsed = ttlDelete.safeParse(record);
      if (!parsed.success) continue;
      await expireGrant(deps, parsed.data.dynamodb.OldImage.grantId.S);
      expired++;
    }
    logger.info('ttl expiry batch handled', { expired });
    return { expired };
  });

export const handler = inRevocationLaneEach(makeTtlExpiryStreamHandler(awsExpiringEngine));
