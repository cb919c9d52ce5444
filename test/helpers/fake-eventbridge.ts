// Test helper: a stateful EventBridge PutEvents behind aws-sdk-client-mock: per-entry results,
// partial failures (injectable), whole-call failures (injectable), and the documented limits.
import {
  EventBridgeClient,
  EventBridgeServiceException,
  PutEventsCommand,
  ThrottlingException,
  type PutEventsCommandInput,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';

const MAX_ENTRIES = 10;
const metadata = { httpStatusCode: 400 };

export interface AcceptedEvent {
  readonly id: string;
  readonly busName: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: Record<string, unknown>;
}

interface EntryFault {
  readonly matches: (entry: PutEventsRequestEntry) => boolean;
  readonly code: string;
  remaining: number;
}

/** A throttled PutEvents call as a whole. */
export function throttling(): ThrottlingException {
  return new ThrottlingException({ message: 'Rate exceeded', $metadata: metadata });
}

export interface FakeEventBridgeOptions {
  /** Answer every EventBridgeClient in the process (clients a composition root builds), not only `client`. */
  readonly everyClient?: boolean;
}

export class FakeEventBridge {
  readonly client = new EventBridgeClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' } });
  readonly mock: AwsClientStub<EventBridgeClient>;
  readonly accepted: AcceptedEvent[] = [];
  private readonly entryFaults: EntryFault[] = [];
  private readonly callFaults: Error[] = [];
  private nextId = 1;

  /** `busNames`: the buses that exist (by name). */
  constructor(
    private readonly busNames: readonly string[] = ['taskbound'],
    options: FakeEventBridgeOptions = {},
  ) {
    this.mock = mockClient(options.everyClient ? EventBridgeClient : this.client);
    this.mock.on(PutEventsCommand).callsFake(async (input: PutEventsCommandInput) => this.putEvents(input));
  }

  /** Entries matching `matches` fail with `code` the next `times` times they are sent. */
  failEntries(matches: (entry: PutEventsRequestEntry) => boolean, code: string, times = 1): void {
    this.entryFaults.push({ matches, code, remaining: times });
  }

  /** The next PutEvents call fails as a whole with `error`. */
  failNextCall(error: Error): void {
    this.callFaults.push(error);
  }

  /** Each PutEvents call's entries, in order. */
  get calls(): ReadonlyArray<readonly PutEventsRequestEntry[]> {
    return this.mock.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries ?? []);
  }

  restore(): void {
    this.mock.restore();
    this.client.destroy();
  }

  private putEvents(input: PutEventsCommandInput): object {
    const callFault = this.callFaults.shift();
    if (callFault) throw callFault;
    const entries = input.Entries ?? [];
    if (entries.length < 1 || entries.length > MAX_ENTRIES) {
      throw new EventBridgeServiceException({
        name: 'ValidationException',
        $fault: 'client',
        message: `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES}`,
        $metadata: metadata,
      });
    }
    const results = entries.map((entry) => this.putEntry(entry));
    return { $metadata: { httpStatusCode: 200 }, FailedEntryCount: results.filter((result) => result.ErrorCode).length, Entries: results };
  }

  private putEntry(entry: PutEventsRequestEntry): PutEventsResultEntry {
    const fault = this.entryFaults.find((candidate) => candidate.remaining > 0 && candidate.matches(entry));
    if (fault) {
      fault.remaining -= 1;
      return { ErrorCode: fault.code, ErrorMessage: `Injected ${fault.code}` };
    }
    const busName = entry.EventBusName ?? 'default';
    if (!this.busNames.includes(busName)) return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${busName} does not exist.` };
    if (!entry.Source) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.' };
    if (!entry.DetailType) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.' };
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail ?? '');
    } catch {
      detail = undefined;
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    const id = `event-${this.nextId++}`;
    this.accepted.push({ id, busName, source: entry.Source, detailType: entry.DetailType, detail: detail as Record<string, unknown> });
    return { EventId: id };
  }
}
