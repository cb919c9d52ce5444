// Local engine, emulated AWS: what each issued credential did. Every request signed with a credential the
// local authority issued is recorded (service, operation, outcome), so `taskbound grants show`
// lists a grant's calls offline, as CloudTrail would on AWS. Kept in memory, since the engine
// started, bounded per credential and in credentials; read over loopback at GET /credential-calls/<accessKeyId>.
import type { AwsRequest, AwsResponse } from './protocol';
import type { CredentialCall } from '../../domain/credential-call';

const CREDENTIAL_CALLS_PATH = '/credential-calls/';
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const MAX_SHARED_NAMES = 1000;

function operationOf(request: AwsRequest): string {
  if (request.target) return request.target.split('.').at(-1) ?? request.target;
  const action = request.query.get('Action') ?? new URLSearchParams(request.body.toString('utf8')).get('Action');
  return action ?? `${request.method} ${request.path}`;
}

/**
 * A call as kept: its time as a number and its names shared with every other call of the same
 * names (a soak's thousands of credentials make the same few calls), turned back into a
 * `CredentialCall` only when read.
 */
interface KeptCall {
  readonly atMs: number;
  readonly service: string;
  readonly operation: string;
  readonly status: number;
  readonly errorCode?: string;
}

export class CredentialCallLog {
  private readonly calls = new Map<string, KeptCall[]>();
  /** One copy of each service, operation and error name seen. */
  private readonly names = new Map<string, string>();

  constructor(
    /** Only credentials the engine issued are recorded: not the engine's or the CLI's own keys. */
    private readonly isIssued: (accessKeyId: string) => boolean,
    private readonly now: () => Date,
    private readonly maxPerCredential = 500,
    /** A long local run (the benchmark) issues thousands: the oldest credentials' records go first. */
    private readonly maxCredentials = 5000,
  ) {}

  record(request: AwsRequest, response: AwsResponse): void {
    const key = request.accessKeyId;
    if (!key || !this.isIssued(key)) return;
    const errorCode =
      response.status >= 400
        ? (response.headers?.['x-amzn-errortype'] ?? /<Code>([^<]+)<\/Code>/.exec(String(response.body))?.[1])
        : undefined;
    const calls = this.calls.get(key) ?? [];
    calls.push({
      atMs: this.now().getTime(),
      service: this.shared(request.signingService ?? 'unknown'),
      operation: this.shared(operationOf(request)),
      status: response.status,
      ...(errorCode ? { errorCode: this.shared(errorCode) } : {}),
    });
    if (calls.length > this.maxPerCredential) calls.shift();
    this.calls.set(key, calls);
    if (this.calls.size > this.maxCredentials) this.calls.delete(this.calls.keys().next().value ?? key);
  }

  callsOf(accessKeyId: string): readonly CredentialCall[] {
    return (this.calls.get(accessKeyId) ?? []).map(({ atMs, ...call }) => ({ at: new Date(atMs).toISOString(), ...call }));
  }

  private shared(name: string): string {
    const known = this.names.get(name);
    if (known !== undefined) return known;
    // Bounded: a caller can make up operation names, and those are not worth sharing.
    if (this.names.size < MAX_SHARED_NAMES) this.names.set(name, name);
    return name;
  }

  /** Answers `GET /credential-calls/<accessKeyId>` with `{accessKeyId, calls}`; anything else is not its path. */
  answer(path: string): AwsResponse | undefined {
    if (!path.startsWith(CREDENTIAL_CALLS_PATH)) return undefined;
    const accessKeyId = decodeURIComponent(path.slice(CREDENTIAL_CALLS_PATH.length));
    if (!ACCESS_KEY_ID.test(accessKeyId))
      return { status: 400, headers: { 'content-type': 'application/json' }, body: '{"message":"not an access key id"}' };
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accessKeyId, calls: this.callsOf(accessKeyId) }),
    };
  }
}
