// Handler: the sweep, on its schedule or on `Sweep Requested` → sweep-due-grants.
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { sweepDueGrants } from '../use-cases/sweep';
import { awsEngine } from './aws-engine';
import type { DepsProvider } from './event-handler';
import { logger } from './logger';

export const makeSweepHandler = (getDeps: DepsProvider) =>
  middy()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async () => {
      const report = await sweepDueGrants(await getDeps());
      logger.info('sweep finished', { ...report });
      // Errors are counted per grant (each stays due); a sweep with errors fails loudly for the alarm.
      if (report.errors > 0) throw new Error(`sweep could not settle ${report.errors} grant(s)`);
      return report;
    });

export const handler = makeSweepHandler(awsEngine);
