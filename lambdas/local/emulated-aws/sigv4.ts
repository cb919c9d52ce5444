// Local engine, emulated AWS: verifies the SigV4 signature of an incoming request, the way AWS
// does, so a credential the local engine issued is only as good as its secret key. Only header
// authentication: the protocol server answers nothing without an Authorization header, and no
// caller of the local engine presigns URLs.
import { createHash, timingSafeEqual } from 'node:crypto';
import { NodeSha256 } from '../../adapters/aws/node-sha256';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsRequest } from './protocol';

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** AWS refuses a request signed more than 15 minutes away from its own clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const CREDENTIAL = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/;
const SIGNATURE = /^[0-9a-f]{64}$/;

/** What a request's SigV4 authentication says about itself, before any secret is involved. */
export interface SigV4Auth {
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
  readonly amzDate: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  readonly sessionToken?: string;
}

export type SigV4Failure = { readonly ok: false; readonly code: SigV4ErrorCode; readonly message: string };
export type SigV4ErrorCode = 'IncompleteSignature' | 'SignatureDoesNotMatch' | 'InvalidClientTokenId';

/** A request's authentication, read (by `parseSigV4`) or verified (by `verifySigV4`). */
export type SigV4Result = { readonly ok: true; readonly auth: SigV4Auth } | SigV4Failure;

export interface SigV4VerifyOptions {
  /** The secret key of an access key id; undefined when the key is unknown. */
  readonly secretFor: (accessKeyId: string) => string | undefined | Promise<string | undefined>;
  readonly now: Date;
}

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const incomplete = (message: string): SigV4Failure => ({ ok: false, code: 'IncompleteSignature', message });
const mismatch = (message = SIGNATURE_MISMATCH): SigV4Failure => ({ ok: false, code: 'SignatureDoesNotMatch', message });

export { NodeSha256 } from '../../adapters/aws/node-sha256';

function parseAmzDate(value: string): Date | undefined {
  const parts = AMZ_DATE.exec(value);
  if (!parts) return undefined;
  const [, year, month, day, hour, minute, second] = parts.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

const formatAmzDate = (date: Date): string =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

type AuthFields = { readonly ok: true; readonly fields: Readonly<Record<string, string>> } | SigV4Failure;

function headerAuthFields(authorization: string): AuthFields {
  if (!authorization.startsWith(`${ALGORITHM} `)) {
    return incomplete(`Unsupported AWS 'algorithm': '${authorization.split(' ')[0] ?? ''}'.`);
  }
  const fields: Record<string, string> = {};
  for (const part of authorization.slice(ALGORITHM.length + 1).split(',')) {
    const separator = part.indexOf('=');
    if (separator > 0) fields[part.slice(0, separator).trim()] = part.slice(separator + 1).trim();
  }
  for (const required of ['Credential', 'SignedHeaders', 'Signature']) {
    if (!fields[required]) return incomplete(`Authorization header requires '${required}' parameter.`);
  }
  return { ok: true, fields };
}

/** Reads the SigV4 authentication of a request's Authorization header. */
export function parseSigV4(request: AwsRequest): SigV4Result {
  const read = headerAuthFields(request.headers.authorization ?? '');
  if (!read.ok) return read;
  const { fields } = read;
  const credential = CREDENTIAL.exec(fields.Credential ?? '');
  if (!credential) return incomplete(`Credential should be scoped to a valid region, service and terminator 'aws4_request'.`);
  const [, accessKeyId, , region, service] = credential as unknown as [string, string, string, string, string];
  const signedHeaders = (fields.SignedHeaders ?? '').split(';');
  if (!signedHeaders.includes('host')) return incomplete(`'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.`);
  const signature = fields.Signature ?? '';
  if (!SIGNATURE.test(signature)) return mismatch();
  const amzDate = request.headers['x-amz-date'];
  if (!amzDate) return incomplete(`Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.`);
  if (!parseAmzDate(amzDate)) return incomplete(`Date must be in ISO-8601 'basic format'. Got '${amzDate}'.`);
  const sessionToken = request.headers['x-amz-security-token'];
  return {
    ok: true,
    auth: {
      accessKeyId,
      region,
      service,
      amzDate,
      signedHeaders,
      signature,
      ...(sessionToken ? { sessionToken } : {}),
    },
  };
}

/** AWS's clock rule: a signature is good 15 minutes either way of the service's clock. */
function timeFailure(auth: SigV4Auth, signedAt: Date, now: Date): SigV4Failure | undefined {
  const aheadMs = signedAt.getTime() - now.getTime();
  if (aheadMs > MAX_SKEW_MS) {
    const latest = formatAmzDate(new Date(now.getTime() + MAX_SKEW_MS));
    return mismatch(`Signature not yet current: ${auth.amzDate} is still later than ${latest} (${formatAmzDate(now)} + 15 min.)`);
  }
  if (-aheadMs > MAX_SKEW_MS) {
    const earliest = formatAmzDate(new Date(now.getTime() - MAX_SKEW_MS));
    return mismatch(`Signature expired: ${auth.amzDate} is now earlier than ${earliest} (${formatAmzDate(now)} - 15 min.)`);
  }
  return undefined;
}

function signedHeaderValues(request: AwsRequest, auth: SigV4Auth): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = request.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}

function queryParameters(query: URLSearchParams): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const key of new Set(query.keys())) {
    const values = query.getAll(key);
    params[key] = values.length === 1 ? (values[0] as string) : values;
  }
  return params;
}

async function expectedSignature(request: AwsRequest, auth: SigV4Auth, secretAccessKey: string, signedAt: Date): Promise<string> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey },
    region: auth.region,
    service: auth.service,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const headers = signedHeaderValues(request, auth);
  const toSign = {
    method: request.method,
    protocol: 'http:',
    hostname: headers.host ?? '',
    path: request.path,
    query: queryParameters(request.query),
    headers,
    body: request.body,
  };
  const options = {
    signingDate: signedAt,
    signingRegion: auth.region,
    signingService: auth.service,
    signableHeaders: new Set(auth.signedHeaders),
  };
  const signed = await signer.sign(toSign, options);
  return /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization ?? '')?.[1] ?? '';
}

function sameSignature(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(provided, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Verifies a request's SigV4 signature by recomputing it over the request's own signed
 * headers, date, region and service, and comparing in constant time. Expected failures
 * are returned with AWS's error codes and messages; none ever names the secret.
 */
export async function verifySigV4(request: AwsRequest, options: SigV4VerifyOptions): Promise<SigV4Result> {
  const parsed = parseSigV4(request);
  return parsed.ok ? verifyParsedSigV4(request, parsed.auth, options) : parsed;
}

/** As `verifySigV4`, for a caller that already read the request's authentication with `parseSigV4` (to look its key up). */
export async function verifyParsedSigV4(request: AwsRequest, auth: SigV4Auth, options: SigV4VerifyOptions): Promise<SigV4Result> {
  const signedAt = parseAmzDate(auth.amzDate) as Date;
  const late = timeFailure(auth, signedAt, options.now);
  if (late) return late;
  const secretAccessKey = await options.secretFor(auth.accessKeyId);
  if (secretAccessKey === undefined) {
    return { ok: false, code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' };
  }
  // The signer trusts a declared payload hash; AWS hashes what actually arrived.
  const declaredHash = request.headers['x-amz-content-sha256'];
  if (declaredHash !== undefined && declaredHash !== createHash('sha256').update(request.body).digest('hex')) return mismatch();
  const expected = await expectedSignature(request, auth, secretAccessKey, signedAt);
  return sameSignature(expected, auth.signature) ? { ok: true, auth } : mismatch();
}
