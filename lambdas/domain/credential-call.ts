// Domain: one call made with an issued credential, as the local engine records it
// (lambdas/local/emulated-aws/credential-calls.ts) and the CLI reads it back (`taskbound grants show`).
import * as z from 'zod';

/** One API call made with a credential: names, time and outcome; no request parameters. */
export const credentialCallSchema = z.object({
  at: z.string(),
  /** The SigV4 signing service, e.g. `sts`, `secretsmanager`, `events`. */
  service: z.string(),
  /** `GetCallerIdentity`, `GetSecretValue`…: the Action parameter or the X-Amz-Target operation. */
  operation: z.string(),
  status: z.number().int(),
  /** The AWS error code, when the call was refused. */
  errorCode: z.string().optional(),
});
export type CredentialCall = Readonly<z.infer<typeof credentialCallSchema>>;

/** The answer of `GET /credential-calls/<accessKeyId>` on the local engine. */
export const credentialCallsAnswerSchema = z.object({ accessKeyId: z.string(), calls: z.array(credentialCallSchema) });
