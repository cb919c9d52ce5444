// Test helpers (e2e): the `taskbound` CLI run as its own process (`bin/taskbound.ts`), as a
// user runs it, against a local engine's endpoint; stdout, stderr and the exit code come back.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../bin/taskbound.ts');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `taskbound --endpoint URL <argv>` in a fresh Node process; never throws on a non-zero exit. */
export function taskboundProcess(endpoint: string, ...argv: string[]): Promise<CliResult> {
  const { AWS_ACCESS_KEY_ID: _key, AWS_SECRET_ACCESS_KEY: _secret, AWS_PROFILE: _profile, ...env } = process.env;
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', BIN, '--endpoint', endpoint, ...argv],
      {
        env: { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NO_COLOR: '1' },
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}
