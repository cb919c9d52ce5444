// Local engine, emulated AWS: DynamoDB on the one local endpoint. Requests (`DynamoDB_20120810.*`)
// are forwarded verbatim to the embedded store and its answer relayed byte for byte, so SDK
// clients and the AWS CLI pointed at the engine reach the same tables the engine uses. The
// emulated services' own tables (state-tables.ts: issued keys, secret values) are not AWS
// resources: to a caller of this endpoint they do not exist.
import { jsonError, type AwsRequest, type AwsResponse, type AwsService } from './protocol';
import { INTERNAL_TABLE_PREFIX } from './state-tables';

/** Request headers the store reads: the protocol and the SigV4 parts it checks for presence. */
const FORWARDED_REQUEST_HEADERS = ['content-type', 'x-amz-target', 'authorization', 'x-amz-date', 'date', 'x-amz-security-token'];
/** Response headers the SDK reads; x-amz-crc32 is checked against the body, hence the byte-exact relay. */
const RELAYED_RESPONSE_HEADERS = ['content-type', 'x-amz-crc32', 'x-amzn-requestid'];
const TARGET_PREFIX = 'DynamoDB_20120810.';
/** PartiQL names its tables inside the statement text. */
const PARTIQL_OPERATIONS = new Set(['ExecuteStatement', 'BatchExecuteStatement', 'ExecuteTransaction']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every table a request names: TableName, batch RequestItems keys, transaction items' TableName. */
function tablesNamed(body: Record<string, unknown>): string[] {
  const names: unknown[] = [body.TableName];
  if (isRecord(body.RequestItems)) names.push(...Object.keys(body.RequestItems));
  if (Array.isArray(body.TransactItems)) {
    for (const item of body.TransactItems)
      if (isRecord(item)) for (const part of Object.values(item)) if (isRecord(part)) names.push(part.TableName);
  }
  return names.filter((name): name is string => typeof name === 'string');
}

/** Whether a request reaches an emulated service's own table (which callers must not see). */
function reachesInternalTable(operation: string, body: Buffer): boolean {
  const text = body.toString('utf8');
  if (!text.includes(INTERNAL_TABLE_PREFIX)) return false;
  if (PARTIQL_OPERATIONS.has(operation)) return true;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  return isRecord(parsed) && tablesNamed(parsed).some((name) => name.startsWith(INTERNAL_TABLE_PREFIX));
}

/** ListTables without the internal tables (the body changes, so its checksum goes). */
function withoutInternalTables(body: Buffer, headers: Record<string, string>): Buffer {
  const parsed = JSON.parse(body.toString('utf8')) as { TableNames?: string[]; LastEvaluatedTableName?: string };
  parsed.TableNames = (parsed.TableNames ?? []).filter((name) => !name.startsWith(INTERNAL_TABLE_PREFIX));
  delete headers['x-amz-crc32'];
  return Buffer.from(JSON.stringify(parsed));
}

/** Creates the proxy to the store listening at `storeEndpoint` (see embedded-store.ts). */
export function createDynamoDbProxyService(storeEndpoint: string): AwsService {
  return {
    name: 'dynamodb',
    matches: (request: AwsRequest) => request.target?.startsWith(TARGET_PREFIX) ?? false,
    async handle(request: AwsRequest): Promise<AwsResponse> {
      const operation = (request.target ?? '').slice(TARGET_PREFIX.length);
      if (reachesInternalTable(operation, request.body)) {
        return jsonError(400, 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', 'Requested resource not found');
      }
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
      const body = Buffer.from(await response.arrayBuffer());
      const listed = operation === 'ListTables' && response.status === 200;
      return { status: response.status, headers: relayed, body: listed ? withoutInternalTables(body, relayed) : body };
    },
  };
}
