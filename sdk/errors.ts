// SDK: the typed errors a runtime can catch. Messages name the task and the reason, never a secret.

/** Base class of every error the SDK raises on purpose. */
export class TaskboundError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The request was malformed; nothing was sent. `issues` are zod's, field by field. */
export class InvalidTaskRequestError extends TaskboundError {
  constructor(
    message: string,
    readonly issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[],
  ) {
    super(message);
  }
}

/** EventBridge refused the event (PutEvents answered with an entry error). */
export class EventRejectedError extends TaskboundError {
  constructor(
    readonly detailType: string,
    readonly errorCode: string,
    errorMessage?: string,
  ) {
    super(`PutEvents refused ${detailType}: ${errorCode}${errorMessage ? ` (${errorMessage})` : ''}`);
  }
}

/** The engine denied the task's credential; `reason` says why (docs/contract.md §5). */
export class GrantDeniedError extends TaskboundError {
  constructor(
    readonly agentId: string,
    readonly taskId: string,
    readonly grantId: string,
    readonly reason: string,
  ) {
    super(`the credential for ${agentId}/${taskId} was denied: ${reason}`);
  }
}

/**
 * No credential arrived in time. `lastStatus` is what the delivery said last (`absent`: nothing
 * yet); `refusal`, the service's AccessDeniedException when the last read was refused.
 */
export class WaitTimeoutError extends TaskboundError {
  constructor(
    readonly agentId: string,
    readonly taskId: string,
    readonly waitedMs: number,
    readonly lastStatus: 'absent' | 'pending_approval',
    readonly refusal?: Error,
  ) {
    super(
      lastStatus === 'pending_approval'
        ? `the credential for ${agentId}/${taskId} was still waiting for approval after ${waitedMs} ms`
        : refusal
          ? `no delivery for ${agentId}/${taskId} readable by this runtime after ${waitedMs} ms: its reads were refused ` +
            `(${refusal.name}: ${refusal.message}). Run it as the agent's runtimePrincipal in the policy, whose deliveries ` +
            'name it (docs/contract.md §5)'
          : `no delivery for ${agentId}/${taskId} after ${waitedMs} ms: the task was not started, has already ended, ` +
            'or the agent is not registered in the policy (an unknown agent gets no delivery)',
    );
  }
}

/** Why a credential stopped being handed out. */
export type RevocationCause = 'revoked' | 'expired' | 'task-ended';

/**
 * The task's credential is dead or no longer ours to use: the engine revoked it (task ended,
 * leaked, agent suspended, an operator), it expired, or this runtime ended the task.
 */
export class CredentialRevokedError extends TaskboundError {
  constructor(
    readonly agentId: string,
    readonly taskId: string,
    readonly revocation: RevocationCause,
  ) {
    super(
      {
        revoked: `the credential for ${agentId}/${taskId} was revoked by the engine (its delivery is gone)`,
        expired: `the credential for ${agentId}/${taskId} has expired`,
        'task-ended': `the task ${agentId}/${taskId} has ended; its credential is no longer handed out`,
      }[revocation],
    );
  }
}

/** The task was cancelled (an AbortSignal, SIGINT or SIGTERM); `Task Ended` was sent as `cancelled`. */
export class TaskCancelledError extends TaskboundError {
  constructor(
    readonly agentId: string,
    readonly taskId: string,
    readonly abortReason: unknown,
  ) {
    super(
      `the task ${agentId}/${taskId} was cancelled${abortReason instanceof Error ? `: ${abortReason.message}` : typeof abortReason === 'string' ? `: ${abortReason}` : ''}`,
    );
  }
}

/** The work finished (or failed), but `Task Ended` could not be sent: the credential lives until its TTL. */
export class TaskEndFailedError extends TaskboundError {
  constructor(
    readonly agentId: string,
    readonly taskId: string,
    readonly endError: unknown,
    readonly workError?: unknown,
  ) {
    super(
      `Task Ended for ${agentId}/${taskId} could not be sent (${endError instanceof Error ? endError.message : String(endError)}); ` +
        'the credential stays valid until the engine expires it',
      { cause: endError },
    );
  }
}
