// Local engine, emulated AWS: EventBridge `PutEvents` (awsJson1.1, `AWSEvents.PutEvents`) in front
// of the local bus, the one EventBridge operation anything calls. The request and each entry are
// checked with zod against the API's constraints; each entry is answered on its own, and accepted
// entries are stored by the bus before the response goes out.
//
// Bus names: only the local bus (`taskbound` unless configured), by name or ARN. An absent
// EventBusName or `default` is refused per entry: on AWS such an event lands on the default
// bus, where no Taskbound rule would ever see it, so silently accepting it here would hide a
// bug that shows only once deployed. Sources under `aws.` are AWS's own and refused as AWS refuses
// them, except `aws.health`, so a developer can play an AWS Health exposure event locally.
//
// Only the engine speaks as the engine: the stack's bus policy denies `taskbound` to every principal but the
// engine's publishing roles and `taskbound.slack` to all but the Slack function (lib/constructs/engine-bus.ts).
// Locally both are the engine's own key, correctly signed (request-caller.ts); a call with any entry for this bus
// under either source from another caller is refused whole, nothing of it stored. Whole, not per entry: AWS
// documents `events:source` as a condition key of a bus's resource policy, multivalued (its examples use
// `ForAllValues:` on it), so the policy is evaluated once over every entry's source, and an explicit deny fails the
// call with AccessDeniedException before any entry is published. AWS does not document the outcome outright:
// PutEvents lists AccessDeniedException as a call-level error and, with NotAuthorizedForSourceException, among an
// entry's ErrorCodes too, without saying which a bus-policy deny yields; the call-level error is what the stack's
// own comments and its iam-simulate tests (test/policy/) assume. The message is IAM's for an explicit deny.
import * as z from 'zod';
import { ENGINE_SOURCE } from '../../constants';
import { SLACK_SOURCE } from '../../routes';
import type { EventBus, BusEvent } from './event-bus';
import { jsonError, jsonOk, type AwsRequest, type AwsResponse, type AwsService } from './protocol';
import type { Caller } from './request-caller';
import { checkInput } from './validation';

const TARGET = 'AWSEvents.PutEvents';
const MAX_ENTRIES = 10;
/** The sum of the entries' sizes, computed as EventBridge documents it. */
const MAX_REQUEST_ENTRY_BYTES = 256 * 1024;
/** The one AWS-reserved source accepted locally: AWS Health's exposure events, to rehearse a leaked key. */
const REHEARSED_AWS_SOURCE = 'aws.health';
const EVENT_BUS_ARN = /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/(.+)$/;
/** The sources the bus policy keeps for the engine (its publishers, its Slack function). */
const RESERVED_SOURCES: ReadonlySet<string> = new Set([ENGINE_SOURCE, SLACK_SOURCE]);

export interface EventBridgeServiceOptions {
  /** Who made a request (request-caller.ts): only the engine may put an entry under a reserved source. */
  readonly callerOf: (request: AwsRequest) => Promise<Caller>;
  /** Told of every call refused for a reserved source, to record it (the engine logs it). */
  readonly onRefused?: (refusal: ReservedSourceRefusal) => void;
}

/** A call refused because it spoke as the engine: who made it and the reserved sources it used. */
export interface ReservedSourceRefusal {
  readonly principal: string;
  readonly sources: readonly string[];
}

type ResultEntry = { readonly EventId: string } | { readonly ErrorCode: string; readonly ErrorMessage: string };
type Checked = { readonly event: BusEvent } | { readonly error: { readonly ErrorCode: string; readonly ErrorMessage: string } };

/** The request: 1 to 10 entries, each checked on its own below (a bad entry fails alone, as on AWS). */
const requestSchema = z.object({
  Entries: z
    .array(z.unknown())
    .min(1, 'Member must have length greater than or equal to 1')
    .max(MAX_ENTRIES, `Member must have length less than or equal to ${MAX_ENTRIES}`),
  EndpointId: z.string().max(50).optional(),
});

/** A required string; one given as another type is told so, not called missing (a JSON-over-curl caller's Detail object). */
const required = (name: string, notAString = `${name} must be a string.`) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? `${name} is a required argument.` : notAString) })
    .min(1, `${name} is a required argument.`);

/** One entry, as the PutEventsRequestEntry type constrains it. */
const entrySchema = z.object({
  EventBusName: z.string().min(1).max(1600).optional(),
  Source: required('Source').max(256),
  DetailType: required('DetailType').max(128),
  Detail: required(
    'Detail',
    "Detail must be a string: the event's JSON object, serialised (JSON.stringify, json.dumps), not the object itself.",
  ),
  Resources: z
    .array(z.string({ error: 'Resources must be a list of ARNs.' }).max(2048), { error: 'Resources must be a list of ARNs.' })
    .optional(),
  Time: z.number({ error: 'Time must be a timestamp.' }).optional(),
  TraceHeader: z.string().min(1).max(500).optional(),
});

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

/** Each level of nesting takes two characters: a Detail this short is too shallow to overflow the stack when stored. */
const SHALLOW_DETAIL_CHARS = 2_000;

/**
 * An accepted event is stored as JSON; one nested deeper than JSON.stringify's stack (a few thousand
 * levels) cannot be, and would fail the whole request with a 500 the SDK retries. Refused on its own
 * instead; only a Detail long enough to nest that deep pays for the check.
 */
function storable(text: string, detail: unknown): boolean {
  if (text.length <= SHALLOW_DETAIL_CHARS) return true;
  try {
    JSON.stringify(detail);
    return true;
  } catch {
    return false;
  }
}

/** Creates the service for `bus`. */
export function createEventBridgeService(bus: EventBus, options: EventBridgeServiceOptions): AwsService {
  const isThisBus = (name: unknown) => name === bus.name || (typeof name === 'string' && EVENT_BUS_ARN.exec(name)?.[1] === bus.name);

  /** AWS's answer to a call with an entry for this bus under a reserved source from anyone but the engine, else undefined. */
  async function reservedSourceRefusal(request: AwsRequest, entries: readonly unknown[]): Promise<AwsResponse | undefined> {
    const reserved = entries.flatMap((entry) =>
      isRecord(entry) && isThisBus(entry.EventBusName) && typeof entry.Source === 'string' && RESERVED_SOURCES.has(entry.Source)
        ? [entry.Source]
        : [],
    );
    if (reserved.length === 0) return undefined;
    const caller = await options.callerOf(request);
    if (caller.engine) return undefined;
    const sources = [...new Set(reserved)];
    options.onRefused?.({ principal: caller.principal, sources });
    return jsonError(
      400,
      'AccessDeniedException',
      `User: ${caller.principal} is not authorized to perform: events:PutEvents on resource: ${bus.arn} with an explicit deny in a resource-based policy (only the engine may send events with source ${sources.join(', ')})`,
    );
  }

  function check(raw: unknown): Checked {
    if (!isRecord(raw)) return invalidArgument('Entry', 'Each entry must be an object.');
    const parsed = entrySchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return invalidArgument(String(issue?.path[0] ?? 'Entry'), issue?.message ?? 'invalid');
    }
    const entry = parsed.data;
    if (!isThisBus(entry.EventBusName)) {
      const name = entry.EventBusName ?? 'default';
      return invalidArgument('EventBusName', `Event bus ${name} does not exist locally; the local engine serves only ${bus.name}.`);
    }
    if (entry.Source.startsWith('aws.') && entry.Source !== REHEARSED_AWS_SOURCE) {
      return { error: { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' } };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      detail = undefined;
    }
    if (!isRecord(detail) || !storable(entry.Detail, detail))
      return { error: { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' } };
    return {
      event: {
        source: entry.Source,
        detailType: entry.DetailType,
        detail,
        resources: entry.Resources ?? [],
        ...(entry.Time !== undefined ? { time: new Date(entry.Time * 1000) } : {}),
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
      const checked = checkInput(requestSchema, input);
      if (!checked.ok) return jsonError(400, 'ValidationException', checked.message);
      const entries = checked.input.Entries;
      const size = entries.reduce((sum: number, entry) => sum + (isRecord(entry) ? entrySize(entry) : 0), 0);
      if (size > MAX_REQUEST_ENTRY_BYTES)
        return jsonError(400, 'ValidationException', 'Total size of the entries in the request is over the limit.');
      return (await reservedSourceRefusal(request, entries)) ?? putEvents(entries);
    },
  };
}
