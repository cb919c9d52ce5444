// Handler: a grant's one-time expiry schedule fired (payload `{ "grantId": ... }`) → expire-grant.
import { z } from 'zod';
import { GRANT_ID_PATTERN } from '../domain/ids';
import { expireGrant } from '../use-cases/expire-grant';
import { awsEngine } from '../composition/aws-engine';
import type { DepsProvider } from '../composition/event-handler';
import { logger } from '../composition/logger';
import { handlerChain } from '../composition/handler-chain';

const expiryPayload = z.strictObject({ grantId: z.string().regex(GRANT_ID_PATTERN) });

export const makeExpireGrantHandler = (getDeps: DepsProvider) =>
  handlerChain()
    .handler(async (payload: unknown) => {
      // A malformed payload throws: the schedule's retry policy and DLQ keep it visible.
      const { grantId } = expiryPayload.parse(payload);
      const result = await expireGrant(await getDeps(), grantId);
      logger.info('expiry handled', { grantId, outcome: result.outcome });
      return { outcome: result.outcome };
    });

export const handler = makeExpireGrantHandler(awsEngine);
