// Local engine: EventBridge `PutEvents` (awsJson1.1, `AWSEvents.PutEvents`) in front of the
// local bus. Each entry is validated as EventBridge does and answered on its own; accepted
// entries are journaled by the bus before the response goes out.
//
// Bus names: only the local bus (`taskbound` unless configured), by name or ARN. An absent
// EventBusName or `default` is refused per entry: on AWS such an event lands on the default
// bus, where no Taskbound rule would ever see it, so silently accepting it here would hide a
// bug that shows only once deployed. Sources under `aws.` are accepted locally (AWS reserves
// them) so a developer can play an AWS Health exposure event.
import type { EventBus, BusEvent } from './event-bus';
import { jsonError, jsonOk, type AwsRequest, type AwsResponse, type AwsService } from './protocol';

const TARGET = 'AWSEvents.PutEvents';
const MAX_ENTRIES = 10;
/** The sum of the entries' sizes, computed as EventBridge documents it. */
const MAX_REQUEST_ENTRY_BYTES = 256 * 1024;
const EVENT_BUS_ARN = /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/(.+)$/;

type ResultEntry = { readonly EventId: string } | { readonly ErrorCode: string; readonly ErrorMessage: string };
type Checked = { readonly event: BusEvent } | { readonly error: { readonly ErrorCode: string; readonly ErrorMessage: string } };

function invalidArgument(parameter: string, reason: string): Checked {
  return { error: { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${parameter} is not valid. Reason: ${reason}` } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An entry's size by EventBridge's rule: Time counts 14 bytes; Source, DetailType, Detail and Resources their UTF-8 bytes. */
function entrySize(entry: Record<string, unknown>): number {
  const bytes = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value) : 0);
  const resources = Array.isArray(entry.Resources) ? entry.Resources.reduce((sum: number, arn) => sum + bytes(arn), 0) : 0;
  return (entry.Time === undefined ? 0 : 14) + bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail) + resources;
}

/** Creates the service for `bus`. */
export function createEventBridgeService(bus: EventBus): AwsService {
  const isThisBus = (name: unknown) => name === bus.name || (typeof name === 'string' && EVENT_BUS_ARN.exec(name)?.[1] === bus.name);

  function check(entry: unknown): Checked {
    if (!isRecord(entry)) return invalidArgument('Entry', 'Each entry must be an object.');
    if (!isThisBus(entry.EventBusName)) {
      const name = typeof entry.EventBusName === 'string' ? entry.EventBusName : 'default';
      return invalidArgument('EventBusName', `Event bus ${name} does not exist locally; the local engine serves only ${bus.name}.`);
    }
    if (typeof entry.Source !== 'string' || entry.Source === '') return invalidArgument('Source', 'Source is a required argument.');
    if (typeof entry.DetailType !== 'string' || entry.DetailType === '') return invalidArgument('DetailType', 'DetailType is a required argument.');
    if (typeof entry.Detail !== 'string' || entry.Detail === '') return invalidArgument('Detail', 'Detail is a required argument.');
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      detail = undefined;
    }
    if (!isRecord(detail)) return { error: { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' } };
    const resources = entry.Resources ?? [];
    if (!Array.isArray(resources) || !resources.every((arn) => typeof arn === 'string')) {
      return invalidArgument('Resources', 'Resources must be a list of ARNs.');
    }
    if (entry.Time !== undefined && typeof entry.Time !== 'number') return invalidArgument('Time', 'Time must be a timestamp.');
    return {
      event: {
        source: entry.Source,
        detailType: entry.DetailType,
        detail,
        resources,
        ...(typeof entry.Time === 'number' ? { time: new Date(entry.Time * 1000) } : {}),
      },
    };
  }

  async function putEvents(entries: readonly unknown[]): Promise<AwsResponse> {
    const checked = entries.map(check);
    const accepted = checked.flatMap((result) => ('event' in result ? [result.event] : []));
    const envelopes = await bus.put(accepted);
    let next = 0;
    const results: ResultEntry[] = checked.map((result) => ('event' in result ? { EventId: envelopes[next++]?.id ?? '' } : result.error));
    return jsonOk({ FailedEntryCount: entries.length - accepted.length, Entries: results });
  }

  return {
    name: 'events',
    matches: (request: AwsRequest) => request.target === TARGET,
    async handle(request: AwsRequest): Promise<AwsResponse> {
      let input: unknown;
      try {
        input = JSON.parse(request.body.toString('utf8'));
      } catch {
        return jsonError(400, 'SerializationException', 'The request body is not valid JSON.');
      }
      const entries = isRecord(input) ? input.Entries : undefined;
      if (!Array.isArray(entries)) {
        return jsonError(400, 'ValidationException', "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null");
      }
      if (entries.length < 1 || entries.length > MAX_ENTRIES) {
        const constraint = entries.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_ENTRIES}`;
        return jsonError(400, 'ValidationException', `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length ${constraint}`);
      }
      const size = entries.reduce((sum: number, entry) => sum + (isRecord(entry) ? entrySize(entry) : 0), 0);
      if (size > MAX_REQUEST_ENTRY_BYTES) return jsonError(400, 'ValidationException', 'Total size of the entries in the request is over the limit.');
      return putEvents(entries);
    },
  };
}
