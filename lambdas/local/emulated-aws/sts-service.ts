// Local engine, emulated AWS: the STS endpoint (awsQuery protocol, as @aws-sdk/client-sts speaks it),
// with GetCallerIdentity, the one action anything calls. It answers only a correctly signed request
// with a live local credential. Responses are built with the SDK's own XML builder.
import { randomUUID } from 'node:crypto';
import { XmlNode } from '@aws-sdk/xml-builder';
import * as z from 'zod';
import type { Clock } from '../../ports';
import { accountOfArn, type LocalCredentialAuthority } from './credential-authority';
import { xmlError, type AwsRequest, type AwsResponse, type AwsService } from './protocol';
import { parseSigV4, verifyParsedSigV4 } from './sigv4';

const XML_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
const API_VERSION = '2011-06-15';

const REJECTION_MESSAGES = {
  InvalidClientTokenId: 'The security token included in the request is invalid.',
  ExpiredToken: 'The security token included in the request is expired',
} as const;

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  IncompleteSignature: 400,
  InvalidAction: 400,
  MissingAction: 400,
};

/** AWS's query-protocol ErrorResponse, which the SDK parses into a named exception. */
export function stsError(code: string, message: string): AwsResponse {
  return xmlError(STATUS_BY_CODE[code] ?? 403, code, message, XML_NAMESPACE);
}

/** The caller's identity; its account is the one its ARN names (a spoke grant's credential names the spoke's). */
function callerIdentity(arn: string, userId: string): AwsResponse {
  const result = new XmlNode('GetCallerIdentityResult', [
    XmlNode.of('Arn', arn),
    XmlNode.of('UserId', userId),
    XmlNode.of('Account', accountOfArn(arn)),
  ]);
  // The request id in the body is the one in the header, as on AWS.
  const requestId = randomUUID();
  const metadata = new XmlNode('ResponseMetadata', [XmlNode.of('RequestId', requestId)]);
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: new XmlNode('GetCallerIdentityResponse', [result, metadata]).addAttribute('xmlns', XML_NAMESPACE).toString(),
  };
}

/** The query protocol's envelope: the action and the API version (GetCallerIdentity takes no parameters). */
const queryInput = z.object({ Action: z.string().min(1).max(128), Version: z.string().max(32).optional() });

/** Query parameters and form-encoded body parameters, as STS reads them. */
function parametersOf(request: AwsRequest): Record<string, string> {
  const form = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')
    ? new URLSearchParams(request.body.toString('utf8'))
    : new URLSearchParams();
  return { ...Object.fromEntries(request.query), ...Object.fromEntries(form) };
}

export interface StsServiceOptions {
  readonly authority: LocalCredentialAuthority;
  readonly clock: Clock;
  /** What a signature's time is judged by (the machine's clock); `clock` when absent. */
  readonly signatureClock?: Clock;
}

/**
 * The local STS. A request is authenticated before its action is looked at, in AWS's order:
 * the signature's form, the key and token (unknown or revoked: InvalidClientTokenId; expired:
 * ExpiredToken), then the signature itself (SignatureDoesNotMatch).
 */
export function createStsService(options: StsServiceOptions): AwsService {
  const { authority, clock } = options;
  const signatureClock = options.signatureClock ?? clock;
  return {
    name: 'sts',
    matches: (request) => request.signingService === 'sts',
    async handle(request) {
      const parsed = parseSigV4(request);
      if (!parsed.ok) return stsError(parsed.code, parsed.message);
      const check = authority.authenticate(parsed.auth.accessKeyId, parsed.auth.sessionToken);
      if (check.status === 'rejected') return stsError(check.code, REJECTION_MESSAGES[check.code]);
      const verified = await verifyParsedSigV4(request, parsed.auth, {
        now: signatureClock.now(),
        secretFor: () => check.credential.secretAccessKey,
      });
      if (!verified.ok) return stsError(verified.code, verified.message);
      const input = queryInput.safeParse(parametersOf(request));
      if (!input.success) return stsError('MissingAction', 'Missing Action');
      const { Action: action, Version: version = API_VERSION } = input.data;
      if (action !== 'GetCallerIdentity' || version !== API_VERSION) {
        return stsError('InvalidAction', `Could not find operation ${action} for version ${version}`);
      }
      return callerIdentity(check.credential.principalArn, check.credential.userId);
    },
  };
}
