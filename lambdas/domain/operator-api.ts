// Domain: the operator endpoint's contract (docs/contract.md §7): what `taskbound approve|deny|resume`
// sends, what the engine answers, how the call is signed, and the file in which the local engine
// keeps each person's signing key. Shared by the engine, the local engine and the CLI.
import * as z from 'zod';
import { AGENT_ID_PATTERN, GRANT_ID_PATTERN } from './ids';
import { redactSecretShapes } from './secret-shapes';
import { safeText } from './text';

/** The local engine's route; on AWS the function URL itself is the endpoint. */
export const OPERATOR_PATH = '/operator';
/** Function URLs are signed for the `lambda` service; so is the local route. */
export const OPERATOR_SIGNING_SERVICE = 'lambda';

const reason = safeText(z.string().trim().min(1, 'reason must not be empty').max(1024)).transform(redactSecretShapes);
const grantId = z.string().regex(GRANT_ID_PATTERN, 'grantId looks like g-<26 letters or digits>');
const agentId = z.string().regex(AGENT_ID_PATTERN, 'agentId is lower-case letters, digits and dashes');

/** The endpoint's request body: `{ action: approve|deny, grantId, reason }` or `{ action: resume, agentId, reason }`. */
export const operatorRequestSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('approve'), grantId, reason }),
  z.strictObject({ action: z.literal('deny'), grantId, reason }),
  z.strictObject({ action: z.literal('resume'), agentId, reason }),
]);
export type OperatorRequest = z.infer<typeof operatorRequestSchema>;

export const OPERATOR_OUTCOMES = ['counted', 'refused', 'issued', 'denied', 'resumed', 'not-found', 'failed'] as const;
export type OperatorOutcome = (typeof OPERATOR_OUTCOMES)[number];

/** What the endpoint answers, as JSON. No secret ever: ids, outcomes and reasons. */
export interface OperatorAnswerBody {
  readonly outcome: OperatorOutcome;
  readonly reason?: string;
  readonly grantId?: string;
  readonly agentId?: string;
  readonly remaining?: number;
  /** The person the caller was authenticated as. */
  readonly person?: string;
}

export interface OperatorAnswer {
  readonly status: number;
  readonly body: OperatorAnswerBody;
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/**
 * When a request was signed, from its `X-Amz-Date` header (part of what SigV4 signs, so a replay
 * cannot change it); undefined when absent or malformed. A resume lifts no suspension made after it.
 */
export function signedAtOf(amzDate: string | undefined): Date | undefined {
  const parts = amzDate === undefined ? undefined : AMZ_DATE.exec(amzDate);
  if (!parts) return undefined;
  const [, year, month, day, hour, minute, second] = parts.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export const OPERATOR_CREDENTIALS_FILE = 'operator-credentials.json';

const keyPairSchema = z.strictObject({
  accessKeyId: z.string().regex(/^AKIA[A-Z2-7]{16}$/),
  secretAccessKey: z.string().regex(/^[A-Za-z0-9+/]{40}$/),
});
export type OperatorKeyPair = z.infer<typeof keyPairSchema>;

/** The file's format: one key pair per person id of the policy's `people`. */
export const operatorCredentialsSchema = z.strictObject({
  version: z.literal(1),
  /** The engine these keys sign for: the CLI's default operator URL is `<endpoint>/operator`. */
  endpoint: z.string().optional(),
  region: z.string(),
  people: z.record(z.string(), keyPairSchema),
});
export type OperatorCredentials = z.infer<typeof operatorCredentialsSchema>;
