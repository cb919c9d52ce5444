// Handler: the digest schedule → one Slack message summarising the last DIGEST_HOURS: grants,
// approvals, revocation latency, leaks, and any finding (standing privilege, credentials still
// valid after notice, use after revocation, broken audit chains, suspensions).
import { postDigest, type HealthDeps } from '../use-cases/post-health';
import type { DigestDeps } from '../use-cases/build-digest';
import { awsDigest } from '../composition/aws-engine';
import { AlertNotDeliveredError, handlerChain } from '../composition/handler-chain';
import { logger } from '../composition/logger';

export const makeDigestHandler = (getDeps: () => Promise<HealthDeps & DigestDeps & { readonly hours: number }>) =>
  handlerChain().handler(async () => {
    const deps = await getDeps();
    const result = await postDigest(deps, deps.hours);
    if (result.outcome === 'failed') throw new AlertNotDeliveredError(`digest not delivered: ${result.error}`);
    logger.info('digest posted', { hours: deps.hours, grants: result.grants });
    return { posted: true, grants: result.grants };
  });

export const handler = makeDigestHandler(awsDigest);
