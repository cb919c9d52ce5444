// Handler (Lambda function URL, AuthType AWS_IAM): the operator endpoint. Lambda has already
// verified the caller's SigV4 signature and the URL's resource policy; this maps the caller's
// principal to one person of the policy and runs approve/deny/resume as that person.
import type { APIGatewayProxyStructuredResultV2 as UrlResponse, LambdaFunctionURLEvent } from 'aws-lambda';
import { personForPrincipal } from '../domain/people';
import { signedAtOf, type OperatorAnswer } from '../domain/operator-api';
import { handleOperatorRequest } from '../use-cases/operator-request';
import { awsIssuingEngine } from '../composition/aws-engine';
import type { DepsProvider } from '../composition/event-handler';
import { handlerChain } from '../composition/handler-chain';
import { logger } from '../composition/logger';

const json = (answer: OperatorAnswer): UrlResponse => ({
  statusCode: answer.status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(answer.body),
});

/** The caller's ARN as Lambda reports it for AWS_IAM auth (an assumed-role session, a user). */
function callerArn(event: LambdaFunctionURLEvent): string | undefined {
  const iam = (event.requestContext as { authorizer?: { iam?: { userArn?: unknown } } }).authorizer?.iam;
  return typeof iam?.userArn === 'string' ? iam.userArn : undefined;
}

export const makeOperatorApiHandler = (getDeps: DepsProvider) =>
  handlerChain<LambdaFunctionURLEvent, UrlResponse>().handler(async (event: LambdaFunctionURLEvent): Promise<UrlResponse> => {
    const deps = await getDeps();
    if (event.requestContext.http.method !== 'POST') {
      return {
        statusCode: 405,
        headers: { 'content-type': 'application/json', allow: 'POST' },
        body: JSON.stringify({ outcome: 'refused', reason: 'use POST' }),
      };
    }
    const principal = callerArn(event);
    const identification = principal
      ? personForPrincipal(deps.policy.people, principal)
      : { ok: false as const, reason: 'the request carries no IAM caller: the URL must use AuthType AWS_IAM' };
    const rawBody = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
    // Lambda verified the signature, X-Amz-Date included: when the request was signed is known.
    const signedAt = signedAtOf(event.headers?.['x-amz-date']);
    const caller = { identification, principal: principal ?? '(none)', ...(signedAt ? { signedAt } : {}) };
    const answer = await handleOperatorRequest(deps, caller, rawBody);
    logger.info('operator request handled', { status: answer.status, ...answer.body, principal });
    return json(answer);
  });

export const handler = makeOperatorApiHandler(awsIssuingEngine);
