// Handler: a grant's one-time expiry schedule fired (payload `{ "grantId": ... }`) → expire-grant;
// or, in the `due-index` expiry mode, the per-minute rule's fan-out (`{ "dueShard": n }`) → expire-due.
import * as z from 'zod';
import { GRANT_ID_PATTERN } from '../domain/ids';
import { expireGrant } from '../use-cases/expire-grant';
import { expireDueShard } from '../use-cases/expire-due';
import { awsExpiringEngine } from '../composition/aws-engine';
import type { DepsProvider } from '../composition/event-handler';
import { logger } from '../composition/logger';
import { handlerChain } from '../composition/handler-chain';
import { inRevocationLaneEach } from '../composition/revocation-lane';

const expiryPayload = z.union([
  z.strictObject({ grantId: z.string().regex(GRANT_ID_PATTERN) }),
  /** One reader of the due-index fan-out (lib/constructs/due-expiry.ts); the store checks the shard exists. */
  z.strictObject({ dueShard: z.int().min(0).max(255) }),
]);

export const makeExpireGrantHandler = (getDeps: DepsProvider) =>
  handlerChain().handler(async (payload: unknown) => {
    // A malformed payload throws: the schedule's retry policy and DLQ keep it visible.
    const parsed = expiryPayload.parse(payload);
    if ('dueShard' in parsed) {
      const report = await expireDueShard(await getDeps(), parsed.dueShard);
      logger.info('due shard read', { ...report });
      // Errors leave their grants due; failing the invocation makes them visible (DLQ, alarm). Refused revocations are the sweep's.
      if (report.errors > 0) throw new Error(`expiry from due shard ${report.shard} failed for ${report.errors} grant(s)`);
      return report;
    }
    const { grantId } = parsed;
    const result = await expireGrant(await getDeps(), grantId);
    logger.info('expiry handled', { grantId, outcome: result.outcome });
    return { outcome: result.outcome };
  });

export const handler = inRevocationLaneEach(makeExpireGrantHandler(awsExpiringEngine));
