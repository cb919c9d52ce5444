// Local engine, host: the Lambda context a handler sees when the local engine invokes it.
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID } from '../../constants';

/** A handler as the local engine invokes it: the deployed Lambda handler itself. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each handler parses its own event
export type LocalHandler = (event: any, context: Context, options: { signal: AbortSignal }) => Promise<unknown>;

/**
 * The functions the stack gives more than Lambda's 30 s (lib/stacks/engine-stack.ts), with the
 * same time here: a suspension of an agent's 1,000 live grants outlasts 30 s on a busy machine,
 * and a handler cut short is retried and finally dead-lettered with grants still live.
 */
const LONGER_TIMEOUTS_MS: Readonly<Record<string, number>> = {
  'agent-status': 120_000,
  'ttl-expiry-stream': 120_000,
  sweep: 240_000,
  digest: 120_000,
};

/** How long the local engine lets a handler run before its context says time is up. */
export function localTimeoutMs(functionName: string): number {
  return LONGER_TIMEOUTS_MS[functionName] ?? 30_000;
}

export function localLambdaContext(functionName: string): Context {
  const deadline = Date.now() + localTimeoutMs(functionName);
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
