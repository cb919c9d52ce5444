// Handler: the digest schedule → one Slack message summarising the last DIGEST_HOURS (default
// 24): grants, approvals, revocation latency, leaks, and any finding (standing privilege,
// credentials still valid after notice, use after revocation, broken audit chains, suspensions).
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { DynamoDbGrantStore } from '../adapters/aws/dynamodb-grant-store';
import { awsAlertDeps } from '../adapters/slack/aws-slack-deps';
import { digestMessage } from '../adapters/slack/health-messages';
import type { AlertDeps } from '../adapters/slack/send-alert';
import { systemClock } from '../adapters/system-clock';
import { buildDigest, type DigestDeps } from '../use-cases/build-digest';
import { AlertNotDeliveredError } from './alerts';
import { logger } from './logger';

const environmentSchema = z.object({ TABLE_NAME: z.string().min(3), DIGEST_HOURS: z.coerce.number().int().min(1).max(168).default(24) });

export const makeDigestHandler = (getDeps: () => Promise<DigestDeps & { readonly alerts: AlertDeps }>, hours: number) =>
  middy()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async () => {
      const deps = await getDeps();
      const report = await buildDigest(deps, hours);
      const routing = deps.alerts.routing;
      const channel = routing.severityChannels.info ?? routing.defaultChannel;
      const delivered = await deps.alerts.notifier.notify(digestMessage(report, hours), channel ? [channel] : []);
      if (!delivered.ok) throw new AlertNotDeliveredError(`digest not delivered: ${delivered.error}`);
      logger.info('digest posted', { since: report.since, grants: report.overall.grants.requested, standingPrivilege: report.overall.standingPrivilege.count });
      return { posted: true, grants: report.overall.grants.requested };
    });

function awsDigestDeps(env: NodeJS.ProcessEnv) {
  const settings = environmentSchema.parse(env);
  const alerts = awsAlertDeps(env);
  const store = new DynamoDbGrantStore({ client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: settings.TABLE_NAME });
  return { hours: settings.DIGEST_HOURS, deps: async () => ({ store, clock: systemClock, alerts: await alerts() }) };
}

let built: ReturnType<typeof makeDigestHandler> | undefined;
/** Built on first use: configuration is validated then, naming the variable that is wrong. */
export const handler = (event: unknown, context: Context) => {
  if (!built) {
    const { hours, deps } = awsDigestDeps(process.env);
    built = makeDigestHandler(deps, hours);
  }
  return built(event, context);
};
