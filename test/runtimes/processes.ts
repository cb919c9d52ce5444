// Test helpers (runtimes): run a program as a user would, and the `taskbound` CLI command line
// that points at a given local engine (through tsx, so no build is needed).
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const REPO = resolve(__dirname, '../..');

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Finished> {
  const child = spawn(command, args, { cwd: options.cwd ?? REPO, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.once('exit', (code) => done({ code, stdout, stderr }));
  });
}

/** `taskbound --endpoint URL`, as one shell word list. */
export function taskboundCommand(engineUrl: string): string {
  return `${process.execPath} --import tsx ${resolve(REPO, 'bin/taskbound.ts')} --endpoint ${engineUrl}`;
}

/** The environment of a runtime on a laptop pointed at the local engine, with none of this machine's AWS settings. */
export function runtimeEnv(engineUrl: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') && !name.startsWith('TASKBOUND_')),
  );
  return {
    ...clean,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_ENDPOINT_URL: engineUrl,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1', // what botocore and the AWS CLI read
    AWS_ACCESS_KEY_ID: 'AKIALOCALRUNTIME0000',
    AWS_SECRET_ACCESS_KEY: 'local-runtime',
    ...extra,
  };
}

/** What a Python runtime script printed: one JSON line per case it tried, by its `case`. */
export interface PythonCases {
  readonly output: string;
  readonly seen: Map<string, Record<string, unknown>>;
}

/** Runs one of test/runtimes/python's scripts against the engine; it must exit 0 with nothing on stderr. */
export async function runPythonCases(script: string, engineUrl: string): Promise<PythonCases & { readonly finished: Finished }> {
  const finished = await run('python3', [resolve(REPO, 'test/runtimes/python', script)], { env: runtimeEnv(engineUrl) });
  const lines = finished.code === 0 && finished.stderr === '' ? finished.stdout.trim().split('\n') : [];
  const seen = new Map(lines.map((line) => JSON.parse(line) as Record<string, unknown>).map((entry) => [String(entry.case), entry]));
  return { output: finished.stdout, seen, finished };
}
