// Local engine, emulated AWS: the shape every AWS-protocol endpoint of the local engine implements.
// The HTTP server parses a request once; the first service that matches answers it.
import { randomUUID } from 'node:crypto';
import { XmlNode } from '@aws-sdk/xml-builder';

export interface AwsRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** The `X-Amz-Target` header (JSON protocols), e.g. `secretsmanager.GetSecretValue`. */
  readonly target?: string;
  /** From the SigV4 credential scope of the Authorization header, e.g. `sts`, `events`. */
  readonly signingService?: string;
  readonly accessKeyId?: string;
}

export interface AwsResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

export interface AwsService {
  readonly name: string;
  matches(request: AwsRequest): boolean;
  handle(request: AwsRequest): Promise<AwsResponse>;
  /**
   * Answers a request whose body was over the server's limit (`request` holds its method, path and
   * headers, and no body), for a service whose refusals are recorded; the server answers 413 itself otherwise.
   */
  refuseTooLarge?(request: AwsRequest, body: OversizedBody): Promise<AwsResponse>;
}

/** A request body the server did not keep: how large it was, and the limit it went over. */
export interface OversizedBody {
  readonly bytes: number;
  readonly limitBytes: number;
}

/** A JSON-protocol (awsJson1.0/1.1) error, as the SDK parses it. */
export function jsonError(status: number, code: string, message: string): AwsResponse {
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': code },
    body: JSON.stringify({ __type: code, message }),
  };
}

/**
 * A query- or REST-XML-protocol error (STS, IAM, S3, SQS): the `ErrorResponse` botocore and the JS SDK
 * parse into a named error, its request id the same in the body and the header, as on AWS.
 */
export function xmlError(status: number, code: string, message: string, namespace?: string): AwsResponse {
  const error = new XmlNode('Error', [XmlNode.of('Type', 'Sender'), XmlNode.of('Code', code), XmlNode.of('Message', message)]);
  const requestId = randomUUID();
  const root = new XmlNode('ErrorResponse', [error, XmlNode.of('RequestId', requestId)]);
  return {
    status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: (namespace ? root.addAttribute('xmlns', namespace) : root).toString(),
  };
}

export function jsonOk(payload: unknown): AwsResponse {
  return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(payload) };
}
