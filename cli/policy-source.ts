// CLI: where the inventory's policy comes from. The store knows grants and agents' standing,
// not owners, purposes or limits: those live in the policy file, which the CLI reads itself.
import { callerPath } from './caller-path';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PolicyError } from '../lambdas/domain/errors';
import { parsePolicy } from '../lambdas/domain/policy-file';
import type { Policy } from '../lambdas/domain/policy';
import { UsageError } from './context';

/**
 * The example policy the local engine loads by default (`npm start`), relative to the repository:
 * from cli/ when run from source, from dist/cli/ when built. The installed package ships none.
 */
export const EXAMPLE_POLICY_FILE =
  [
    resolve(import.meta.dirname, '..', 'examples', 'taskbound.policy.yaml'),
    resolve(import.meta.dirname, '..', '..', 'examples', 'taskbound.policy.yaml'),
  ].find((file) => existsSync(file)) ?? resolve(import.meta.dirname, '..', 'examples', 'taskbound.policy.yaml');

/** How long the CLI waits for the local engine to say which policy file it loaded. */
const HEALTH_TIMEOUT_MS = 2_000;

/**
 * `--policy FILE`, else `TASKBOUND_POLICY_FILE`, else (with `--endpoint`) the file the local engine
 * says it loaded, else the example policy `npm start` loads. Without the engine's answer, an engine
 * started with `--policy mine.yaml` was listed against the example's agents.
 */
export async function policyFileFor(flag: string | undefined, env: NodeJS.ProcessEnv, endpoint?: string): Promise<string> {
  const given = flag ?? env.TASKBOUND_POLICY_FILE;
  if (given !== undefined) return callerPath(given, env);
  return (endpoint ? await localEnginePolicyFile(endpoint) : undefined) ?? EXAMPLE_POLICY_FILE;
}

/** The policy file the local engine at `endpoint` loaded (its `/healthz`); undefined when it does not say or cannot be reached. */
async function localEnginePolicyFile(endpoint: string): Promise<string | undefined> {
  try {
    const response = await fetch(new URL('/healthz', endpoint), { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    if (!response.ok) return undefined;
    const { policyFile } = (await response.json()) as { policyFile?: unknown };
    return typeof policyFile === 'string' && policyFile.length > 0 ? policyFile : undefined;
  } catch {
    // Not the local engine, or not up: the commands that need it say so themselves.
    return undefined;
  }
}

/** Reads and validates the policy file; a problem is a usage error that says what to pass. */
export async function loadPolicyFile(file: string): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new UsageError(
      `${file}: cannot read the policy file (${code}); pass the deployed policy with --policy FILE or TASKBOUND_POLICY_FILE`,
    );
  }
  try {
    return parsePolicy(text, file);
  } catch (error) {
    if (error instanceof PolicyError) throw new UsageError(`${error.message}\n(run \`taskbound policy check ${file}\` for details)`);
    throw error;
  }
}
