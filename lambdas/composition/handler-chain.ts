// Composition: the one middy chain every Lambda entry point starts from. Logging (Powertools
// Logger with the invocation's context, keys reset between invocations) and metrics (what the
// invocation recorded, published as EMF when it ends, even on error) are wired here, once.
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from './logger';
import { metrics } from './metrics';

/** Publishes the metrics an invocation recorded; most record none, and then nothing is written. */
const publishRecordedMetrics = (): middy.MiddlewareObj => {
  const publish = async () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: publish, onError: publish };
};

/** A middy handler with the shared logging and metrics middleware; add parsing and the handler. */
export const handlerChain = <TEvent = unknown, TResult = unknown>() =>
  middy<TEvent, TResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishRecordedMetrics());

/**
 * An alert, alarm or digest that could not be delivered: thrown so the event is retried and, at
 * last, dead-lettered, never dropped. It lives here, not in handlers/alerts.ts, so the handlers
 * that throw it do not import (and build at cold start) the alerts handler.
 */
export class AlertNotDeliveredError extends Error {
  override readonly name = 'AlertNotDeliveredError';
}
