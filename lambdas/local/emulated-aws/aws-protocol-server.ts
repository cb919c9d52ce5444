// Local engine, emulated AWS: one loopback HTTP server that speaks the AWS protocols an agent runtime
// uses. It parses each request once and hands it to the first service that claims it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jsonError, xmlError, type AwsRequest, type AwsResponse, type AwsService, type OversizedBody } from './protocol';
import { CREDENTIAL_SCOPE } from '../../constants';

export interface AwsProtocolServerOptions {
  readonly host?: string;
  readonly port?: number;
  readonly services: readonly AwsService[];
  /** What `GET /healthz` reports; undefined means not ready yet (503). */
  readonly health?: () => Record<string, unknown> | undefined;
  /** Largest request body accepted (EventBridge's 256 KB entries, batched, fit easily). */
  readonly maxBodyBytes?: number;
  /** Told of every signed request and its answer (the record of what each credential did). */
  readonly onCall?: (request: AwsRequest, response: AwsResponse) => void;
  /** Unsigned loopback reads besides /healthz; answers undefined for a path it does not serve. */
  readonly localRead?: (path: string) => Promise<AwsResponse | undefined>;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The largest request body accepted when the options name none. */
const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;

/** The body, or only its size when it is over `limit` (it is read to the end, but not kept). */
function readBody(req: IncomingMessage, limit: number): Promise<{ readonly body?: Buffer; readonly bytes: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? { bytes: size } : { body: Buffer.concat(chunks), bytes: size }));
    req.on('error', reject);
  });
}

/** A body over the limit: refused by the service it was for when that service records its refusals, else 413 here. */
function tooLarge(req: IncomingMessage, options: AwsProtocolServerOptions, body: OversizedBody): Promise<AwsResponse> | AwsResponse {
  const request = toAwsRequest(req, Buffer.alloc(0));
  const service = options.services.find((candidate) => candidate.refuseTooLarge !== undefined && candidate.matches(request));
  return service?.refuseTooLarge
    ? service.refuseTooLarge(request, body)
    : errorInProtocol(req.headers, 413, 'RequestEntityTooLarge', 'request body too large');
}

function toAwsRequest(req: IncomingMessage, body: Buffer): AwsRequest {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const scope = CREDENTIAL_SCOPE.exec(headers.authorization ?? '');
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers,
    body,
    ...(headers['x-amz-target'] ? { target: headers['x-amz-target'] } : {}),
    ...(scope ? { accessKeyId: scope[1], signingService: scope[2] } : {}),
  };
}

function send(res: ServerResponse, response: AwsResponse): void {
  res.writeHead(response.status, { 'x-amzn-requestid': crypto.randomUUID(), ...response.headers });
  res.end(response.body);
}

/** Loopback names and addresses: the only hosts a request to the local engine may name. */
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * DNS rebinding: a web page on `evil.example` whose name later resolves to 127.0.0.1 reaches this
 * port from the developer's browser, but its requests still say `Host: evil.example`. Only a
 * loopback name or address with this server's own port is answered.
 */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  const match = /^(.+):(\d+)$/.exec(host ?? '');
  return match !== null && Number(match[2]) === port && LOOPBACK_HOST.test(match[1]!);
}

/** What the local engine is, for a runtime that called a service it does not emulate. */
const EMULATED =
  'The local engine emulates EventBridge PutEvents, Secrets Manager, STS and DynamoDB (docs/contract.md §6); call other services on AWS.';

/** Lower-cased request headers, as Node parses them (before the request is read) or as an `AwsRequest` holds them. */
type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** Whether the caller speaks a JSON protocol (`X-Amz-Target`, or a JSON body); else the XML ones (query, REST-XML). */
const speaksJson = (headers: Headers) => Boolean(headers['x-amz-target']) || /json/i.test(String(headers['content-type'] ?? ''));

/**
 * An error in the protocol the request came in, so an SDK parses it into a named error: JSON for
 * JSON protocols, else the XML `ErrorResponse` that botocore and the JS SDK parse for both the query
 * and the REST-XML protocols (STS, S3, IAM, SQS). AWS names some codes differently in the two
 * (`MissingAuthenticationTokenException` in JSON, `MissingAuthenticationToken` in a query's XML).
 */
function errorInProtocol(headers: Headers, status: number, code: string, message: string, xmlCode = code): AwsResponse {
  return speaksJson(headers) ? jsonError(status, code, message) : xmlError(status, xmlCode, message);
}

/** A request no local service handles: the SDK shows what the engine emulates instead of a bare "400 Bad Request". */
function unhandled(request: AwsRequest): AwsResponse {
  const what = request.target ?? `${request.signingService ?? 'an unsigned service'} ${request.method} ${request.path}`;
  return errorInProtocol(request.headers, 400, 'UnknownOperationException', `No local service handles ${what}. ${EMULATED}`);
}

/** The SigV4 service each JSON-protocol target must be signed for, as AWS checks it. */
const SIGNING_SERVICE_BY_TARGET: ReadonlyArray<readonly [string, string]> = [
  ['AWSEvents.', 'events'],
  ['secretsmanager.', 'secretsmanager'],
  ['DynamoDB_20120810.', 'dynamodb'],
  ['TrentService.', 'kms'],
];

/**
 * Locally a signature's value is not checked (only STS's and the operator's), but its credential
 * scope is plain text: a request signed for another service than its target's (a hand-rolled
 * signer, `curl --aws-sigv4` with the wrong name) is refused here as AWS would refuse it, instead of
 * working until it is deployed.
 */
function wrongSigningService(request: AwsRequest): AwsResponse | undefined {
  const expected = SIGNING_SERVICE_BY_TARGET.find(([prefix]) => request.target?.startsWith(prefix))?.[1];
  if (!expected || request.signingService === expected) return undefined;
  return jsonError(400, 'InvalidSignatureException', `Credential should be scoped to correct service: '${expected}'. `);
}

/** An unsigned request, or one whose Authorization header is not a SigV4 signature with a credential scope. */
function unauthenticated(request: AwsRequest): AwsResponse {
  if (!request.headers.authorization) {
    const message = 'Request is missing a SigV4 Authorization header.';
    return errorInProtocol(request.headers, 403, 'MissingAuthenticationTokenException', message, 'MissingAuthenticationToken');
  }
  return errorInProtocol(
    request.headers,
    400,
    'IncompleteSignatureException',
    'The Authorization header is not a SigV4 signature: expected AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, SignedHeaders=…, Signature=….',
    'IncompleteSignature',
  );
}

async function answer(req: IncomingMessage, options: AwsProtocolServerOptions, port: number): Promise<AwsResponse> {
  if (!isLoopbackHost(req.headers.host, port)) {
    const message = `The local engine answers only requests to a loopback address with its port (127.0.0.1:${port} or localhost:${port}).`;
    return errorInProtocol(req.headers, 403, 'AccessDeniedException', message, 'AccessDenied');
  }
  if (req.method === 'GET' && req.url === '/healthz') {
    const health = options.health?.();
    return health
      ? { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(health) }
      : { status: 503, headers: { 'content-type': 'application/json' }, body: '{"ready":false}' };
  }
  const local = req.method === 'GET' ? await options.localRead?.(new URL(req.url ?? '/', 'http://localhost').pathname) : undefined;
  if (local) return local;
  const limitBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const { body, bytes } = await readBody(req, limitBytes);
  if (!body) return tooLarge(req, options, { bytes, limitBytes });
  const request = toAwsRequest(req, body);
  if (!request.headers.authorization?.startsWith('AWS4-HMAC-SHA256 ') || !request.accessKeyId) return unauthenticated(request);
  const misdirected = wrongSigningService(request);
  if (misdirected) return misdirected;
  const service = options.services.find((candidate) => candidate.matches(request));
  if (!service) return unhandled(request);
  const response = await service.handle(request);
  options.onCall?.(request, response);
  return response;
}

/** Starts the server; resolves once it listens. Port 0 picks a free port. */
export function startAwsProtocolServer(options: AwsProtocolServerOptions): Promise<RunningServer> {
  // The port, once listening: asking the socket for it on every request is a system call each time.
  let port = 0;
  const server: Server = createServer((req, res) => {
    answer(req, options, port).then(
      (response) => send(res, response),
      () => send(res, errorInProtocol(req.headers, 500, 'InternalFailure', 'The local engine failed to process the request.')),
    );
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      const listening = server.address() as AddressInfo;
      port = listening.port;
      const { address } = listening;
      resolve({
        url: `http://${address}:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
