// Domain: a credential's lifetime in seconds, as `Task Started` asks for it and the policy file
// bounds it. The ceiling is 12 hours (a role session's own maximum); a session scope is held to one
// hour by STS's limit on a session started from another (below).
import * as z from 'zod';

export const MIN_TTL_SECONDS = 60;
export const MAX_TTL_SECONDS = 43_200;
/**
 * The longest `aws-sts-session` credential: the engine assumes agent roles from its own role's session
 * (a Lambda function's, or a spoke role's), and STS refuses a session started from another (role
 * chaining) longer than one hour, whatever the role's MaxSessionDuration.
 */
export const CHAINED_SESSION_MAX_SECONDS = 3600;

/** Whole seconds within Taskbound's bounds; `beyond` adds what else limits it where it is asked for. */
export function ttlSecondsSchema(beyond = '') {
  return z
    .int(`a whole number of seconds`)
    .min(MIN_TTL_SECONDS, `at least ${MIN_TTL_SECONDS} seconds`)
    .max(
      MAX_TTL_SECONDS,
      `at most ${MAX_TTL_SECONDS.toLocaleString('en-US')} seconds (${MAX_TTL_SECONDS / 3600} hours; an aws-sts-session scope at most ${CHAINED_SESSION_MAX_SECONDS.toLocaleString('en-US')}, STS's limit for a chained role session)${beyond}`,
    );
}
