// Domain: errors for broken invariants only. Expected outcomes (denied, not-found,
// already-revoked) are returned as values, never thrown.

export class TaskboundError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A state transition the grant state machine does not allow. */
export class IllegalTransitionError extends TaskboundError {}

/** The policy file is invalid; `issues` name the file, the path inside it and the problem. */
export class PolicyError extends TaskboundError {
  constructor(
    readonly file: string,
    readonly issues: readonly string[],
  ) {
    super(`${file}: invalid policy\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
  }
}

/** A conditional write lost a race: the record changed under us. Callers re-read and decide. */
export class ConcurrentUpdateError extends TaskboundError {}

/** A request the credential platform cannot express (e.g. a session policy over STS's size limit). */
export class UnissuableRequestError extends TaskboundError {}
