// CLI: what every command needs, passed in as one argument so tests hand over in-memory
// fakes and program.ts hands over real SDK-backed adapters.
import type { Policy } from '../lambdas/domain/policy';
import type { Clock, GrantStore } from '../lambdas/ports';
import type { OperatorAnswerBody, OperatorRequest } from '../lambdas/domain/operator-api';
import type { ObservedCall } from '../lambdas/domain/credential-usage';

/** Exit codes of docs/contract.md §7: 0 ok, 1 failure, 2 bad usage or input. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** One event the CLI puts on the bus; the sink adds the source and the bus name. */
export interface BusEvent {
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

/** What PutEvents answered: an id per accepted event, or the first rejected entry's error. */
export type PutOutcome =
  | { readonly ok: true; readonly eventIds: readonly string[] }
  | { readonly ok: false; readonly errorCode: string; readonly errorMessage?: string };

export interface EventSink {
  put(events: readonly BusEvent[]): Promise<PutOutcome>;
}

/** Where a command writes: `out` for results (stdout), `err` for diagnostics (stderr). */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

export interface CliDeps extends CliIo {
  /** Reads only: the CLI changes nothing directly, it asks the engine through events. */
  readonly store: GrantStore;
  readonly events: EventSink;
  /** Approve, deny and resume: SigV4-signed calls to the operator endpoint. */
  readonly operator: OperatorGateway;
  /** Who is calling (an ARN, or a local name), for `by`/`requestedBy` when `--as` is absent. */
  readonly identity: () => Promise<string>;
  readonly clock: Clock;
  /** The policy file the inventory is read from (`--policy`, see cli/policy-source.ts); read on first use. */
  readonly policy: () => Promise<Policy>;
  /** A progress indicator on stderr for anything that takes a while. */
  readonly progress: (text: string) => Progress;
  /** Waits between polls of the store; tests pass one that does not wait. */
  readonly sleep: (ms: number) => Promise<void>;
  /**
   * What a credential did between `from` and `to`: the local engine's record of its calls, or
   * CloudTrail event history on AWS (paced: slow for many credentials, see {@link CliDeps.callRecord}).
   */
  readonly credentialCalls: (accessKeyId: string, from: Date, to: Date) => Promise<CredentialCalls>;
  /** Which record `credentialCalls` reads: the local engine's is cheap, CloudTrail's is 2 lookups a second. */
  readonly callRecord: 'local-engine' | 'cloudtrail';
}

export type CredentialCalls =
  /** The local engine's record: `credential-calls.jsonl` in its data directory (in memory without one). */
  | { readonly source: 'local-engine'; readonly calls: readonly ObservedCall[] }
  /** CloudTrail event history: management events of one region, minutes late; `truncated` when the cap was reached. */
  | { readonly source: 'cloudtrail'; readonly region: string; readonly calls: readonly ObservedCall[]; readonly truncated: boolean }
  | { readonly source: 'unavailable'; readonly why: string };

/** A running progress indicator: a spinner on a terminal, plain lines otherwise. */
export interface Progress {
  update(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
}

/** Bad usage or input, found before anything was sent: exit 2 with `message`. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Where a decision goes and who signs it, as typed on the command line. */
export interface OperatorFlags {
  /** Sign as this person with the local engine's key for them (local engine only). */
  readonly as?: string;
  readonly operatorUrl?: string;
  readonly dataDir?: string;
  /** The global `--endpoint` (the local engine) and `--region`. */
  readonly endpoint?: string;
  readonly region?: string;
}

/** The engine's answer, whatever came back: a non-JSON or unexpected reply becomes a refusal with its status. */
export interface OperatorReply {
  readonly status: number;
  readonly body: OperatorAnswerBody;
}

export interface OperatorGateway {
  send(request: OperatorRequest, flags: OperatorFlags): Promise<OperatorReply>;
}
