// Test tier (AWS emulator): starts moto_server, the independent AWS emulator, on a free
// loopback port in authenticated mode, and stops it. Without moto it fails with one line.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export const MOTO_INSTALL_HINT = "moto is not installed: pip install 'moto[server]==5.2.1' boto3";

/**
 * The engine's own account: the one the test policy's ARNs name. Not moto's MOTO_ACCOUNT_ID
 * setting, which would pin every request to one account: moto keeps separate state per account
 * and takes a request's account from its access key (a key created in, or a session assumed
 * into, that account), so a world's setup calls name theirs in `x-moto-account-id`.
 */
export const MOTO_ACCOUNT_ID = '111122223333';

export interface MotoServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

function python(): string {
  return process.env.PYTHON ?? 'python3';
}

/** Fails fast, in one line, when Python or moto's server extra is missing. */
function assertMotoInstalled(): void {
  const probe = spawnSync(python(), ['-c', 'import moto.server, flask_cors'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new Error(MOTO_INSTALL_HINT);
}

/** The environment without MOTO_ACCOUNT_ID, which would override the account of every request. */
function withoutMotoAccount(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { MOTO_ACCOUNT_ID: _pinned, ...rest } = env;
  return rest;
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(endpoint: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${output().trim().split('\n').at(-1) ?? ''}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto_server did not answer on ${endpoint} within 30 s`);
}

/**
 * Starts `python3 -m moto.server` on 127.0.0.1. `INITIAL_NO_AUTH_ACTION_COUNT=0`: every
 * request must be signed by a key moto's IAM knows and be allowed by that key's policies, so a
 * deleted key is refused as on AWS. Each world opens a window for its own setup calls through
 * `/moto-api/reset-auth` (the same setting, set at run time) and closes it again (moto-world.ts).
 */
export async function startMoto(): Promise<MotoServer> {
  assertMotoInstalled();
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    const endpoint = `http://127.0.0.1:${port}`;
    let log = '';
    const child = spawn(python(), ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
      env: { ...withoutMotoAccount(process.env), INITIAL_NO_AUTH_ACTION_COUNT: '0', MOTO_CALL_RESET_API: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    try {
      await waitUntilReady(endpoint, child, () => log);
    } catch (error) {
      child.kill();
      // Another process may have taken the port between our probe and moto's bind.
      if (attempt < 3) continue;
      throw error;
    }
    return {
      endpoint,
      stop: () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    };
  }
}
