// Local engine, host: the Lambda context a handler sees when the local engine invokes it.
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID } from '../../constants';

/** A handler as the local engine invokes it: the deployed Lambda handler itself. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each handler parses its own event
export type LocalHandler = (event: any, context: Context, options: { signal: AbortSignal }) => Promise<unknown>;

export function localLambdaContext(functionName: string): Context {
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `taskbound-local-${functionName}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:${LOCAL_ACCOUNT_ID}:function:taskbound-local-${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/taskbound-local-${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
