// Local engine: DynamoDB on the one local endpoint. Requests (`DynamoDB_20120810.*`) are
// forwarded verbatim to the embedded store and its answer relayed byte for byte, so SDK
// clients and the AWS CLI pointed at the engine reach the same tables the engine uses.
import { jsonError, type AwsRequest, type AwsResponse, type AwsService } from './protocol';

/** Request headers the store reads: the protocol and the SigV4 parts it checks for presence. */
const FORWARDED_REQUEST_HEADERS = ['content-type', 'x-amz-target', 'authorization', 'x-amz-date', 'date', 'x-amz-security-token'];
/** Response headers the SDK reads; x-amz-crc32 is checked against the body, hence the byte-exact relay. */
const RELAYED_RESPONSE_HEADERS = ['content-type', 'x-amz-crc32', 'x-amzn-requestid'];

/** Creates the proxy to the store listening at `storeEndpoint` (see embedded-store.ts). */
export function createDynamoDbProxyService(storeEndpoint: string): AwsService {
  return {
    name: 'dynamodb',
    matches: (request: AwsRequest) => request.target?.startsWith('DynamoDB_20120810.') ?? false,
    async handle(request: AwsRequest): Promise<AwsResponse> {
      const headers: Record<string, string> = {};
      for (const name of FORWARDED_REQUEST_HEADERS) {
        const value = request.headers[name];
        if (value !== undefined) headers[name] = value;
      }
      let response: Response;
      try {
        response = await fetch(storeEndpoint, { method: 'POST', headers, body: request.body });
      } catch {
        return jsonError(500, 'InternalServerError', 'The embedded DynamoDB store is not reachable.');
      }
      const relayed: Record<string, string> = {};
      for (const name of RELAYED_RESPONSE_HEADERS) {
        const value = response.headers.get(name);
        if (value !== null) relayed[name] = value;
      }
      return { status: response.status, headers: relayed, body: Buffer.from(await response.arrayBuffer()) };
    },
  };
}
