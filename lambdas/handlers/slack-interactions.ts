// Handler (Lambda Function URL): Slack button clicks → verified → `Grant Decision` on the bus.
// Answers 401 to anything Slack did not sign; the engine's rules decide what a click counts for.
import type { APIGatewayProxyStructuredResultV2 as UrlResponse, Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { awsSlackInteractions, type SlackInteractionsDeps } from '../composition/aws-engine';
import { verifySlackSignature } from '../adapters/slack/signature';
import { handleSlackInteraction } from '../adapters/slack/handle-interaction';
import { logger } from '../composition/logger';
import { handlerChain } from '../composition/handler-chain';

const reply = (statusCode: number, text: string): UrlResponse => ({ statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }) });

export const makeSlackInteractionsHandler = (deps: SlackInteractionsDeps) =>
  handlerChain<LambdaFunctionURLEvent, UrlResponse>()
    .handler(async (event: LambdaFunctionURLEvent): Promise<UrlResponse> => {
      const rawBody = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
      const signed = { timestamp: event.headers['x-slack-request-timestamp'], signature: event.headers['x-slack-signature'], rawBody };
      const verdict = verifySlackSignature(signed, await deps.signingSecret(), deps.clock.now(), deps.replay);
      if (!verdict.valid) {
        logger.warn('slack request refused', { reason: verdict.reason });
        return reply(401, 'request signature not valid');
      }
      const result = await handleSlackInteraction(deps, deps.config, rawBody);
      logger.info('slack interaction handled', result.outcome === 'refused' ? { outcome: result.outcome, reason: result.reason } : { outcome: result.outcome, grantId: result.decision.grantId, decision: result.decision.decision, approver: result.decision.approver });
      return reply(200, result.reply);
    });

let built: ReturnType<typeof makeSlackInteractionsHandler> | undefined;
/** Built on first use, so importing the factory (tests) needs no environment. */
export const handler = (event: LambdaFunctionURLEvent, context: Context) => (built ??= makeSlackInteractionsHandler(awsSlackInteractions()))(event, context);
