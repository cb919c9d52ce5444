// CLI command: `taskbound serve-credentials`, the AWS container credentials endpoint for one task
// on loopback. Every AWS SDK (and the AWS CLI) whose environment names it gets the task's
// credential, and a refreshed one when the delivery changes; a revoked credential is refused.
import { spawn } from 'node:child_process';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { devNull } from 'node:os';
import type { Command } from 'commander';
import type { IssuedCredential, TaskRef } from '../../sdk';
import { issuedCredentialOf } from '../../sdk/wait';
import type { ConnectionFlags } from '../clients';
import { EXIT, UsageError, type CliIo, type ExitCode } from '../context';
import { issuedMarks } from '../issued-marks';
import { runtimeClient, taskOf, timeoutMsOf, type TaskFlags } from '../runtime-connection';
import { credentialForTask, reasonOf, type CredentialsDeps } from './credentials';

export interface ServeOptions extends TaskFlags {
  readonly port?: string;
  readonly timeout?: string;
  readonly json?: boolean;
}

export interface ServeDeps extends CredentialsDeps {
  /** Stops a server run without a command (default: SIGINT or SIGTERM). */
  readonly stop?: AbortSignal;
}

const PATH = '/credentials';
/** Two SDK clients asking at once cost one read. */
const READ_REUSE_MS = 1_000;
/** Whose credentials would win over the endpoint in the SDKs' default chains: taken from the command's environment. */
const SHADOWING_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
];

/** The container credentials endpoint's answer (what ECS and EKS Pod Identity serve). */
function containerJson(credential: IssuedCredential): string {
  return JSON.stringify({
    AccessKeyId: credential.accessKeyId,
    SecretAccessKey: credential.secretAccessKey,
    ...(credential.sessionToken ? { Token: credential.sessionToken } : {}),
    ...(credential.expiration ? { Expiration: credential.expiration.toISOString() } : {}),
  });
}

function sameToken(given: string | undefined, token: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Serves the task's current credential: re-read from the delivery (at most once a second), refused once gone. */
function credentialHandler(deps: ServeDeps, task: TaskRef, token: string) {
  let last: { at: number; answer: { status: number; body: string } } | undefined;
  const answer = async (): Promise<{ status: number; body: string }> => {
    if (last && Date.now() - last.at < READ_REUSE_MS) return last.answer;
    const delivery = await deps.taskbound.readDelivery(task);
    const credential = delivery.status === 'issued' ? issuedCredentialOf(task, delivery) : undefined;
    const fresh = !credential
      ? {
          status: 403,
          body: JSON.stringify({ code: 'CredentialRevoked', message: `the credential for ${task.agentId}/${task.taskId} was revoked` }),
        }
      : credential.expiration && credential.expiration.getTime() <= Date.now()
        ? {
            status: 403,
            body: JSON.stringify({ code: 'CredentialExpired', message: `the credential for ${task.agentId}/${task.taskId} has expired` }),
          }
        : { status: 200, body: containerJson(credential) };
    last = { at: Date.now(), answer: fresh };
    return fresh;
  };
  return (request: IncomingMessage, response: ServerResponse) => {
    const reply = (status: number, body: string) =>
      response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
    if (request.method !== 'GET') return reply(405, JSON.stringify({ code: 'MethodNotAllowed', message: 'GET only' }));
    if (new URL(request.url ?? '/', 'http://127.0.0.1').pathname !== PATH)
      return reply(404, JSON.stringify({ code: 'NotFound', message: `ask ${PATH}` }));
    if (!sameToken(request.headers.authorization, token))
      return reply(401, JSON.stringify({ code: 'Unauthorized', message: 'missing or wrong authorization token' }));
    answer().then(
      ({ status, body }) => reply(status, body),
      (error: unknown) => {
        deps.err(`taskbound: reading the delivery failed: ${reasonOf(error)}`);
        reply(503, JSON.stringify({ code: 'Unavailable', message: 'could not read the task’s delivery' }));
      },
    );
  };
}

async function listen(server: Server, port: number): Promise<string> {
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', done);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the server has no port');
  return `http://127.0.0.1:${address.port}${PATH}`;
}

function runCommand(command: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env });
    child.once('error', fail);
    child.once('exit', (code, signal) => done(code ?? (signal ? 128 : 1)));
  });
}

function untilStopped(stop: AbortSignal | undefined): Promise<void> {
  return new Promise((done) => {
    if (stop) return stop.aborted ? done() : stop.addEventListener('abort', () => done(), { once: true });
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
  });
}

/**
 * Waits for the task's credential, then serves it on 127.0.0.1. With a command, runs it with
 * AWS_CONTAINER_CREDENTIALS_FULL_URI and a fresh AWS_CONTAINER_AUTHORIZATION_TOKEN and stops when
 * it exits; without, serves until stopped, with the token the caller put in the environment.
 */
export async function serveCredentials(
  deps: ServeDeps,
  options: ServeOptions,
  command: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<ExitCode> {
  const task = taskOf(options, env);
  const timeoutMs = timeoutMsOf(options.timeout);
  const port = options.port === undefined ? 0 : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--port: "${options.port}" is not a port number`);
  const token = command.length > 0 ? randomBytes(32).toString('base64url') : env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
  if (!token)
    throw new UsageError(
      'set AWS_CONTAINER_AUTHORIZATION_TOKEN for the server and its clients, or give a command to run: serve-credentials -- CMD',
    );

  const server = createServer(credentialHandler(deps, task, token));
  try {
    await credentialForTask(deps, task, timeoutMs);
    const url = await listen(server, port);
    if (command.length === 0) {
      deps.out(options.json ? JSON.stringify({ AWS_CONTAINER_CREDENTIALS_FULL_URI: url }) : `AWS_CONTAINER_CREDENTIALS_FULL_URI=${url}`);
      deps.err(`taskbound: serving ${task.agentId}/${task.taskId} until stopped`);
      await untilStopped(deps.stop);
      return EXIT.ok;
    }
    const childEnv: NodeJS.ProcessEnv = {
      ...env,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: url,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: token,
      AWS_SHARED_CREDENTIALS_FILE: devNull,
    };
    for (const name of SHADOWING_VARIABLES) delete childEnv[name];
    const code = await runCommand(command, childEnv);
    if (code !== 0) deps.err(`taskbound: ${command[0]} exited with ${code}`);
    return code === 0 ? EXIT.ok : EXIT.failure;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    deps.err(`taskbound: ${reasonOf(error)}`);
    return EXIT.failure;
  } finally {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
    deps.taskbound.destroy();
  }
}

export function addServeCredentialsCommand(program: Command, io: CliIo, run: (command: () => Promise<ExitCode>) => Promise<void>): void {
  program
    .command('serve-credentials')
    .description('serve the task’s credential as the AWS container credentials endpoint on 127.0.0.1 (optionally around a command)')
    .argument('[command...]', 'run this with AWS_CONTAINER_CREDENTIALS_FULL_URI and its token set; stop when it exits')
    .option('--agent <agentId>', 'the agent (env TASKBOUND_AGENT_ID)')
    .option('--task <taskId>', 'the task (env TASKBOUND_TASK_ID)')
    .option('--port <port>', 'port on 127.0.0.1 (default: any free one)')
    .option(
      '--delivery-table <name>',
      'the deployment delivers by KMS-encrypted DynamoDB items in this table (env TASKBOUND_DELIVERY_TABLE)',
    )
    .option(
      '--timeout <seconds>',
      'give up waiting for the credential after this long (default 900); with no delivery at all (task not started or ended, agent unknown) after 60 at most',
    )
    .option('--json', 'without a command: print the endpoint as JSON')
    .action((command: string[], options: ServeOptions) =>
      run(() =>
        serveCredentials(
          { ...io, taskbound: runtimeClient(program.opts<ConnectionFlags>(), process.env, options.deliveryTable), marks: issuedMarks() },
          options,
          command,
        ),
      ),
    );
}
