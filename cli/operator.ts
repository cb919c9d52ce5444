// CLI: calls to the operator endpoint (approve, deny, resume), signed with AWS SigV4 for service
// `lambda`. On AWS the key is the operator's own (the default provider chain) and IAM says who
// they are; locally `--as PERSON` signs with the key the local engine holds for that person.
import { callerPath } from './caller-path';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../lambdas/adapters/aws/node-sha256';
import {
  OPERATOR_CREDENTIALS_FILE,
  OPERATOR_OUTCOMES,
  OPERATOR_PATH,
  OPERATOR_SIGNING_SERVICE,
  operatorCredentialsSchema,
  type OperatorAnswerBody,
} from '../lambdas/domain/operator-api';
import { UsageError, type OperatorFlags, type OperatorGateway } from './context';

type Env = Readonly<Record<string, string | undefined>>;
interface AwsCredentialIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

interface Target {
  readonly url: URL;
  readonly region: string;
  readonly credentials: () => Promise<AwsCredentialIdentity>;
}

/** `--operator-url`, then TASKBOUND_OPERATOR_URL, then `<--endpoint>/operator` for the local engine. */
async function resolveTarget(flags: OperatorFlags, env: Env): Promise<Target> {
  if (flags.as !== undefined) return localTarget(flags, env);
  const url =
    flags.operatorUrl ??
    env.TASKBOUND_OPERATOR_URL ??
    (flags.endpoint ? `${flags.endpoint.replace(/\/+$/, '')}${OPERATOR_PATH}` : undefined);
  if (!url) {
    throw new UsageError(
      'no operator endpoint: pass --operator-url URL or set TASKBOUND_OPERATOR_URL (the stack output OperatorUrl); locally, pass --endpoint and --as PERSON',
    );
  }
  const parsed = parseUrl(url);
  const region =
    flags.region ??
    /\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(parsed.hostname)?.[1] ??
    env.AWS_REGION ??
    env.AWS_DEFAULT_REGION ??
    'us-east-1';
  const chain = defaultProvider();
  const credentials = async () => {
    try {
      return await chain();
    } catch (error) {
      // The SDK's message lists providers; what the operator needs is what to do.
      throw new Error(
        `no AWS credentials to sign the ${flags.endpoint ? 'request' : 'decision'} with (${error instanceof Error ? error.name : 'error'}): ` +
          (flags.endpoint
            ? 'against the local engine pass --as PERSON (see docs/cli.md)'
            : 'set AWS_PROFILE or sign in (aws sso login); the endpoint authenticates you by your IAM principal'),
        { cause: error },
      );
    }
  };
  return { url: parsed, region, credentials };
}

/** The local engine's key for `--as PERSON`, from `<data dir>/operator-credentials.json`. */
async function localTarget(flags: OperatorFlags, env: Env): Promise<Target> {
  const person = flags.as ?? '';
  const given = flags.dataDir ?? env.TASKBOUND_DATA_DIR;
  const dir = given !== undefined ? callerPath(given, env) : resolve('.taskbound');
  const file = join(dir, OPERATOR_CREDENTIALS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UsageError(
      `--as ${person}: no ${file}; --as signs with the local engine's keys: pass its --data-dir (or TASKBOUND_DATA_DIR). On AWS, omit --as: you are who your AWS credentials say`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not JSON`);
  }
  const parsed = operatorCredentialsSchema.safeParse(json);
  if (!parsed.success) throw new UsageError(`${file} is not an operator credentials file`);
  const pair = Object.hasOwn(parsed.data.people, person) ? parsed.data.people[person] : undefined;
  if (!pair)
    throw new UsageError(
      `--as ${person}: the local engine holds no key for this person (people: ${Object.keys(parsed.data.people).join(', ') || 'none'})`,
    );
  const base =
    flags.operatorUrl ??
    (flags.endpoint
      ? `${flags.endpoint.replace(/\/+$/, '')}${OPERATOR_PATH}`
      : parsed.data.endpoint
        ? `${parsed.data.endpoint}${OPERATOR_PATH}`
        : undefined);
  if (!base) throw new UsageError('--as: pass --endpoint (the local engine)');
  return { url: parseUrl(base), region: parsed.data.region, credentials: async () => pair };
}

function parseUrl(url: string): URL {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'https:' || parsed.protocol === 'http:') return parsed;
  } catch {
    // Said below.
  }
  throw new UsageError(`operator endpoint ${url.slice(0, 200)} is not an http(s) URL`);
}

/** Signs and sends one request; the reply is read as the endpoint's JSON answer. */
export function operatorGateway(env: Env = process.env): OperatorGateway {
  return {
    async send(request, flags) {
      const target = await resolveTarget(flags, env);
      const body = JSON.stringify(request);
      const host = target.url.host;
      const signer = new SignatureV4({
        credentials: target.credentials,
        region: target.region,
        service: OPERATOR_SIGNING_SERVICE,
        sha256: NodeSha256,
      });
      const signed = await signer.sign({
        method: 'POST',
        protocol: target.url.protocol,
        hostname: target.url.hostname,
        ...(target.url.port ? { port: Number(target.url.port) } : {}),
        path: target.url.pathname,
        query: Object.fromEntries(target.url.searchParams),
        headers: { host, 'content-type': 'application/json' },
        body,
      });
      const { status, text } = await post(target.url, signed.headers, body);
      return { status, body: readAnswer(status, text) };
    },
  };
}

/** POSTs the signed request; fetch sets `host` itself (from the URL that was signed). */
async function post(url: URL, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  const { host: _host, ...rest } = headers;
  const answer = await fetch(url, { method: 'POST', headers: rest, body, signal: AbortSignal.timeout(60_000) }).catch((error: unknown) => {
    // Refused before anything was sent: nothing was recorded, and the CLI's hint says to start the engine.
    if (networkCause(error) === 'ECONNREFUSED') throw error;
    // Sent but unanswered (the engine stopped, the connection dropped): the request may have been recorded or not.
    const why =
      error instanceof Error && error.name === 'TimeoutError' ? 'did not answer within 60 s' : `did not answer (${networkCause(error)})`;
    throw new Error(
      `the operator endpoint ${url.origin} ${why}: the request may or may not have been recorded; check with \`taskbound grants show\` or \`agents show\``,
      {
        cause: error,
      },
    );
  });
  return { status: answer.status, text: await answer.text() };
}

/** What undici's bare "fetch failed" hides: the socket's error code (ECONNREFUSED, ECONNRESET, …). */
function networkCause(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  return error instanceof Error ? error.message : String(error);
}

/** AWS's own refusals (IAM: `{"Message":"Forbidden"}`) are not the engine's shape; keep their words. */
function readAnswer(status: number, text: string): OperatorAnswerBody {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { outcome: 'refused', reason: `HTTP ${status}: ${text.slice(0, 200) || 'no body'}` };
  }
  const answer = json as Partial<OperatorAnswerBody> & { Message?: unknown; message?: unknown };
  if (typeof answer.outcome === 'string' && (OPERATOR_OUTCOMES as readonly string[]).includes(answer.outcome))
    return answer as OperatorAnswerBody;
  const message =
    typeof answer.Message === 'string' ? answer.Message : typeof answer.message === 'string' ? answer.message : text.slice(0, 200);
  return { outcome: 'refused', reason: `HTTP ${status}: ${message}` };
}
