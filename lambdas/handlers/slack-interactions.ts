// Handler (Lambda Function URL): Slack button clicks → signature verified → decided at once as
// the person the policy maps the Slack user to. Answers 401 to anything Slack did not sign.
import type { APIGatewayProxyStructuredResultV2 as UrlResponse, Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { awsSlackInteractions, type SlackInteractionsDeps } from '../composition/aws-engine';
import { parseSlackClick } from '../adapters/slack/interaction-payload';
import { verifySlackSignature } from '../adapters/slack/signature';
import { decideFromSlack } from '../use-cases/slack-decision';
import { logger } from '../composition/logger';
import { handlerChain } from '../composition/handler-chain';

const reply = (statusCode: number, text: string): UrlResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
});

export const makeSlackInteractionsHandler = (deps: SlackInteractionsDeps) =>
  handlerChain<LambdaFunctionURLEvent, UrlResponse>().handler(async (event: LambdaFunctionURLEvent): Promise<UrlResponse> => {
    const rawBody = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
    const signed = { timestamp: event.headers['x-slack-request-timestamp'], signature: event.headers['x-slack-signature'], rawBody };
    const verdict = verifySlackSignature(signed, await deps.signingSecret(), deps.clock.now(), deps.replay);
    if (!verdict.valid) {
      logger.warn('slack request refused', { reason: verdict.reason });
      return reply(401, 'request signature not valid');
    }
    const result = await decideFromSlack(await deps.engine(), deps.config, parseSlackClick(rawBody));
    logger.info('slack interaction handled', {
      outcome: result.outcome,
      grantId: result.grantId,
      person: result.person,
      reason: result.reason,
    });
    return reply(200, result.reply);
  });

let built: ReturnType<typeof makeSlackInteractionsHandler> | undefined;
/** Built on first use, so importing the factory (tests) needs no environment. */
export const handler = (event: LambdaFunctionURLEvent, context: Context) =>
  (built ??= makeSlackInteractionsHandler(awsSlackInteractions()))(event, context);
