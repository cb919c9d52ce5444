// Local engine, emulated AWS: what each issued credential did. Every request signed with a credential the
// local authority issued is recorded (service, operation, outcome), so `taskbound grants show`
// lists a grant's calls offline, as CloudTrail would on AWS. Kept in the data directory (credential-call-file.ts),
// or in memory, bounded in credentials, for an engine without one; read over loopback at GET /credential-calls/<accessKeyId>.
import type { AwsRequest, AwsResponse } from './protocol';
import type { CredentialCall } from '../../domain/credential-call';
import type { CallStore, KeptCall } from './credential-call-file';

const CREDENTIAL_CALLS_PATH = '/credential-calls/';
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const MAX_SHARED_NAMES = 1000;

function operationOf(request: AwsRequest): string {
  if (request.target) return request.target.split('.').at(-1) ?? request.target;
  const action = request.query.get('Action') ?? new URLSearchParams(request.body.toString('utf8')).get('Action');
  return action ?? `${request.method} ${request.path}`;
}

/** Shares names: a soak's thousands of credentials make the same few calls. */
class SharedNames {
  private readonly names = new Map<string, string>();

  shared(name: string): string {
    const known = this.names.get(name);
    if (known !== undefined) return known;
    // Bounded: a caller can make up operation names, and those are not worth sharing.
    if (this.names.size < MAX_SHARED_NAMES) this.names.set(name, name);
    return name;
  }
}

/** The calls in memory, for an engine without a data directory: bounded in credentials, the oldest forgotten first. */
export class CredentialCallMemory implements CallStore {
  private readonly calls = new Map<string, KeptCall[]>();

  constructor(
    private readonly maxPerCredential: number,
    /** A long local run (the benchmark) issues thousands: the oldest credentials' records go first. */
    private readonly maxCredentials = 5000,
  ) {}

  add(accessKeyId: string, call: KeptCall): void {
    const calls = this.calls.get(accessKeyId) ?? [];
    calls.push(call);
    if (calls.length > this.maxPerCredential) calls.shift();
    this.calls.set(accessKeyId, calls);
    if (this.calls.size > this.maxCredentials) this.calls.delete(this.calls.keys().next().value ?? accessKeyId);
  }

  async read(accessKeyId: string, max: number): Promise<readonly KeptCall[]> {
    return (this.calls.get(accessKeyId) ?? []).slice(-max);
  }

  async close(): Promise<void> {}
}

export class CredentialCallLog {
  private readonly names = new SharedNames();

  constructor(
    /**
     * Only credentials the engine issued are recorded: not the engine's or the CLI's own keys. A
     * promise when the authority must read its store (a key dead for a while, credential-authority.ts).
     */
    private readonly isIssued: (accessKeyId: string) => boolean | Promise<boolean>,
    private readonly now: () => Date,
    private readonly maxPerCredential = 500,
    /** In memory unless the engine has a data directory (credential-call-file.ts). */
    private readonly store: CallStore = new CredentialCallMemory(maxPerCredential),
    /** A key whose issuer could not be told (the store unreadable): the call is recorded anyway, and this is told. */
    private readonly onLookupError: (error: unknown) => void = () => undefined,
  ) {}

  record(request: AwsRequest, response: AwsResponse): void {
    const key = request.accessKeyId;
    if (!key) return;
    const issued = this.isIssued(key);
    if (issued === false) return;
    const errorCode =
      response.status >= 400
        ? (response.headers?.['x-amzn-errortype'] ?? /<Code>([^<]+)<\/Code>/.exec(String(response.body))?.[1])
        : undefined;
    const call: KeptCall = {
      atMs: this.now().getTime(),
      service: this.names.shared(request.signingService ?? 'unknown'),
      operation: this.names.shared(operationOf(request)),
      status: response.status,
      ...(errorCode ? { errorCode: this.names.shared(errorCode) } : {}),
    };
    if (issued === true) return this.store.add(key, call);
    // A key of the issued shape the authority had to look up: a call made with a dead credential is what this record is for,
    // so one that cannot be told apart is kept rather than lost.
    issued.then(
      (yes) => yes && this.store.add(key, call),
      (error: unknown) => {
        this.onLookupError(error);
        this.store.add(key, call);
      },
    );
  }

  /** Writes what the store still buffers (the engine stops). */
  close(): Promise<void> {
    return this.store.close();
  }

  async callsOf(accessKeyId: string): Promise<readonly CredentialCall[]> {
    return (await this.store.read(accessKeyId, this.maxPerCredential)).map(({ atMs, ...call }) => ({
      at: new Date(atMs).toISOString(),
      ...call,
    }));
  }

  /** Answers `GET /credential-calls/<accessKeyId>` with `{accessKeyId, calls}`; anything else is not its path. */
  async answer(path: string): Promise<AwsResponse | undefined> {
    if (!path.startsWith(CREDENTIAL_CALLS_PATH)) return undefined;
    const accessKeyId = decodeURIComponent(path.slice(CREDENTIAL_CALLS_PATH.length));
    if (!ACCESS_KEY_ID.test(accessKeyId))
      return { status: 400, headers: { 'content-type': 'application/json' }, body: '{"message":"not an access key id"}' };
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accessKeyId, calls: await this.callsOf(accessKeyId) }),
    };
  }
}
