// Local engine: the STS endpoint (awsQuery protocol, as @aws-sdk/client-sts speaks it).
// GetCallerIdentity answers only a correctly signed request with a live local credential.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../ports';
import type { LocalCredentialAuthority } from './credential-authority';
import { LOCAL_ACCOUNT_ID } from '../../constants';
import type { AwsRequest, AwsResponse, AwsService } from './protocol';
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

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[char]};`);
}

/** AWS's query-protocol ErrorResponse, which the SDK parses into a named exception. */
export function stsError(code: string, message: string): AwsResponse {
  return {
    status: STATUS_BY_CODE[code] ?? 403,
    headers: { 'content-type': 'text/xml' },
    body:
      `<ErrorResponse xmlns="${XML_NAMESPACE}"><Error><Type>Sender</Type><Code>${escapeXml(code)}</Code>` +
      `<Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}

function callerIdentity(arn: string, userId: string): AwsResponse {
  return {
    status: 200,
    headers: { 'content-type': 'text/xml' },
    body:
      `<GetCallerIdentityResponse xmlns="${XML_NAMESPACE}"><GetCallerIdentityResult>` +
      `<Arn>${escapeXml(arn)}</Arn><UserId>${escapeXml(userId)}</UserId><Account>${LOCAL_ACCOUNT_ID}</Account>` +
      `</GetCallerIdentityResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
  };
}

/** Query parameters and form-encoded body parameters, as STS reads them. */
function actionOf(request: AwsRequest): string | undefined {
  const form = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')
    ? new URLSearchParams(request.body.toString('utf8'))
    : new URLSearchParams();
  return form.get('Action') ?? request.query.get('Action') ?? undefined;
}

export interface StsServiceOptions {
  readonly authority: LocalCredentialAuthority;
  readonly clock: Clock;
}

/**
 * The local STS. A request is authenticated before its action is looked at, in AWS's order:
 * the signature's form, the key and token (unknown or revoked: InvalidClientTokenId; expired:
 * ExpiredToken), then the signature itself (SignatureDoesNotMatch).
 */
export function createStsService(options: StsServiceOptions): AwsService {
  const { authority, clock } = options;
  return {
    name: 'sts',
    matches: (request) => request.signingService === 'sts',
    async handle(request) {
      const parsed = parseSigV4(request);
      if (!parsed.ok) return stsError(parsed.code, parsed.message);
      const check = authority.authenticate(parsed.auth.accessKeyId, parsed.auth.sessionToken);
      if (check.status === 'rejected') return stsError(check.code, REJECTION_MESSAGES[check.code]);
      const verified = await verifyParsedSigV4(request, parsed.auth, { now: clock.now(), secretFor: () => check.credential.secretAccessKey });
      if (!verified.ok) return stsError(verified.code, verified.message);
      const action = actionOf(request);
      if (!action) return stsError('MissingAction', 'Missing Action');
      if (action !== 'GetCallerIdentity') return stsError('InvalidAction', `Could not find operation ${action} for version ${API_VERSION}`);
      return callerIdentity(check.credential.principalArn, check.credential.userId);
    },
  };
}
