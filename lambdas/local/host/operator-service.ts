// Local engine, host: the operator endpoint on the local protocol server (`POST /operator`), as the
// Lambda function URL with AWS_IAM auth is on AWS: the request must be SigV4-signed for service
// `lambda` with a key the local engine holds for a person of the policy; then the same use case runs.
import type { Clock } from '../../ports';
import type { EngineDeps } from '../../use-cases/engine-deps';
import { OPERATOR_PATH, OPERATOR_SIGNING_SERVICE, signedAtOf, type OperatorAnswer } from '../../domain/operator-api';
import { handleOperatorRequest, OPERATOR_REQUEST, OPERATOR_SOURCE } from '../../use-cases/operator-request';
import type { OperatorKeyring } from './operator-credentials';
import type { AwsRequest, AwsResponse, AwsService } from '../emulated-aws/protocol';
import { parseSigV4, verifyParsedSigV4 } from '../emulated-aws/sigv4';

const answer = (result: OperatorAnswer): AwsResponse => ({
  status: result.status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(result.body),
});

export interface OperatorServiceOptions {
  readonly keyring: OperatorKeyring;
  /** The engine, once it is wired; undefined while it starts. */
  readonly deps: () => EngineDeps | undefined;
  /** What a signature's time is judged by (the machine's clock); the engine's clock when absent. */
  readonly signatureClock?: Clock;
}

export function createOperatorService(options: OperatorServiceOptions): AwsService {
  return {
    name: 'operator',
    matches: (request) => request.path === OPERATOR_PATH,
    async handle(request) {
      const deps = options.deps();
      if (!deps) return answer({ status: 503, body: { outcome: 'refused', reason: 'the engine is starting' } });
      if (request.method !== 'POST') return answer({ status: 405, body: { outcome: 'refused', reason: 'use POST' } });
      const authenticated = await authenticate(request, options.keyring, deps, options.signatureClock);
      if (!authenticated.ok) {
        await deps.store.recordRejectedEvent({
          at: deps.clock.now().toISOString(),
          detailType: OPERATOR_REQUEST,
          source: OPERATOR_SOURCE,
          reason: authenticated.reason,
          excerpt: JSON.stringify({ principal: request.accessKeyId?.slice(0, 128) ?? '(unsigned)' }),
        });
        return answer({ status: 403, body: { outcome: 'refused', reason: authenticated.reason } });
      }
      const caller = {
        identification: authenticated.identification,
        principal: `local key ${authenticated.accessKeyId}`,
        ...(authenticated.signedAt ? { signedAt: authenticated.signedAt } : {}),
      };
      return answer(await handleOperatorRequest(deps, caller, request.body.toString('utf8')));
    },
    // Before any signature is checked (that needs the body): recorded with the key id it claims, and its size only.
    async refuseTooLarge(request, body) {
      const deps = options.deps();
      if (!deps) return answer({ status: 503, body: { outcome: 'refused', reason: 'the engine is starting' } });
      const reason = `request body is ${body.bytes} bytes, over the local operator endpoint's limit of ${body.limitBytes} bytes; nothing was read from it`;
      await deps.store.recordRejectedEvent({
        at: deps.clock.now().toISOString(),
        detailType: OPERATOR_REQUEST,
        source: OPERATOR_SOURCE,
        reason,
        excerpt: JSON.stringify({
          principal: request.accessKeyId ? `${request.accessKeyId.slice(0, 128)} (claimed, not verified)` : '(unsigned)',
          bodyBytes: body.bytes,
        }),
      });
      return answer({ status: 413, body: { outcome: 'refused', reason } });
    },
  };
}

type Authenticated =
  | {
      readonly ok: true;
      readonly accessKeyId: string;
      readonly signedAt: Date | undefined;
      readonly identification: { readonly ok: true; readonly person: string } | { readonly ok: false; readonly reason: string };
    }
  | { readonly ok: false; readonly reason: string };

async function authenticate(
  request: AwsRequest,
  keyring: OperatorKeyring,
  deps: EngineDeps,
  signatureClock: Clock | undefined,
): Promise<Authenticated> {
  const parsed = parseSigV4(request);
  if (!parsed.ok) return { ok: false, reason: `not authenticated: ${parsed.code}: ${parsed.message}` };
  if (parsed.auth.service !== OPERATOR_SIGNING_SERVICE)
    return {
      ok: false,
      reason: `not authenticated: sign for service "${OPERATOR_SIGNING_SERVICE}", not "${parsed.auth.service.slice(0, 32)}"`,
    };
  const holder = keyring.personOf(parsed.auth.accessKeyId);
  const verified = await verifyParsedSigV4(request, parsed.auth, {
    now: (signatureClock ?? deps.clock).now(),
    secretFor: () => holder?.secretAccessKey,
  });
  if (!verified.ok) return { ok: false, reason: `not authenticated: ${verified.code}: ${verified.message}` };
  const person = (holder as { person: string }).person;
  // A key made for someone the policy has since dropped counts for no one.
  const identification = Object.hasOwn(deps.policy.people, person)
    ? { ok: true as const, person }
    : { ok: false as const, reason: `${person} is no longer declared under people in the policy` };
  return { ok: true, accessKeyId: parsed.auth.accessKeyId, signedAt: signedAtOf(parsed.auth.amzDate), identification };
}
