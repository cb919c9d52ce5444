// Local engine, emulated AWS: one loopback HTTP server that speaks the AWS protocols an agent runtime
// uses. It parses each request once and hands it to the first service that claims it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { XmlNode } from '@aws-sdk/xml-builder';
import { jsonError, type AwsRequest, type AwsResponse, type AwsService } from './protocol';
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

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
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

/**
 * A request no local service handles, answered in the protocol it came in, so an SDK shows the
 * message: JSON for JSON protocols (`X-Amz-Target`, or a JSON body), else the XML `ErrorResponse`
 * that botocore and the JS SDK parse for both the query and the REST-XML protocols (S3, IAM, SQS).
 */
function unhandled(request: AwsRequest): AwsResponse {
  const what = request.target ?? `${request.signingService ?? 'an unsigned service'} ${request.method} ${request.path}`;
  const message = `No local service handles ${what}. ${EMULATED}`;
  if (request.target || /json/i.test(request.headers['content-type'] ?? '')) return jsonError(400, 'UnknownOperationException', message);
  const error = new XmlNode('Error', [
    XmlNode.of('Type', 'Sender'),
    XmlNode.of('Code', 'UnknownOperationException'),
    XmlNode.of('Message', message),
  ]);
  return {
    status: 400,
    headers: { 'content-type': 'text/xml' },
    body: new XmlNode('ErrorResponse', [error, XmlNode.of('RequestId', crypto.randomUUID())]).toString(),
  };
}

async function answer(req: IncomingMessage, options: AwsProtocolServerOptions, port: number): Promise<AwsResponse> {
  if (!isLoopbackHost(req.headers.host, port)) {
    return jsonError(
      403,
      'AccessDeniedException',
      `The local engine answers only requests to a loopback address with its port (127.0.0.1:${port} or localhost:${port}).`,
    );
  }
  if (req.method === 'GET' && req.url === '/healthz') {
    const health = options.health?.();
    return health
      ? { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(health) }
      : { status: 503, headers: { 'content-type': 'application/json' }, body: '{"ready":false}' };
  }
  const local = req.method === 'GET' ? await options.localRead?.(new URL(req.url ?? '/', 'http://localhost').pathname) : undefined;
  if (local) return local;
  const body = await readBody(req, options.maxBodyBytes ?? 2 * 1024 * 1024);
  if (!body) return jsonError(413, 'RequestEntityTooLarge', 'request body too large');
  const request = toAwsRequest(req, body);
  if (!request.headers.authorization?.startsWith('AWS4-HMAC-SHA256 ') || !request.accessKeyId) {
    return jsonError(403, 'MissingAuthenticationTokenException', 'Request is missing a SigV4 Authorization header.');
  }
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
      () => send(res, jsonError(500, 'InternalFailure', 'The local engine failed to process the request.')),
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
