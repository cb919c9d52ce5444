// Handler: a grant's one-time expiry schedule fired (payload `{ "grantId": ... }`) → expire-grant.
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { z } from 'zod';
import { GRANT_ID_PATTERN } from '../domain/ids';
import { expireGrant } from '../use-cases/expire-grant';
import { awsEngine } from './aws-engine';
import type { DepsProvider } from './event-handler';
import { logger } from './logger';

const expiryPayload = z.strictObject({ grantId: z.string().regex(GRANT_ID_PATTERN) });

export const makeExpireGrantHandler = (getDeps: DepsProvider) =>
  middy()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (payload: unknown) => {
      // A malformed payload throws: the schedule's retry policy and DLQ keep it visible.
      const { grantId } = expiryPayload.parse(payload);
      const result = await expireGrant(await getDeps(), grantId);
      logger.info('expiry handled', { grantId, outcome: result.outcome });
      return { outcome: result.outcome };
    });

export const handler = makeExpireGrantHandler(awsEngine);
