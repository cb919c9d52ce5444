// CLI command: `policy check FILE`: the same validation the engine and `cdk synth` run,
// so a policy change can be checked in CI before it is deployed.
import { readFile } from 'node:fs/promises';
import { PolicyError } from '../../lambdas/domain/errors';
import { parsePolicy } from '../../lambdas/domain/policy-file';
import type { Policy } from '../../lambdas/domain/policy';
import { accountWarnings } from '../../lambdas/domain/accounts';
import { EXIT, UsageError, type CliIo, type ExitCode } from '../context';
import { table } from '../output';

async function readPolicyText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new UsageError(`${file}: cannot read the policy file (${code})`);
  }
}

function parsedOrError(text: string, file: string): Policy | PolicyError {
  try {
    return parsePolicy(text, file);
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
}

/** Validates a policy file; prints its version hash and agents, or each problem (exit 2). */
export async function checkPolicy(io: CliIo, file: string): Promise<ExitCode> {
  const policy = parsedOrError(await readPolicyText(file), file);
  if (policy instanceof PolicyError) {
    io.err(policy.message);
    return EXIT.usage;
  }
  io.out(`${file}: valid`);
  io.out(`version: ${policy.policyVersion}`);
  io.out('');
  const rows = Object.entries(policy.agents).map(([agentId, agent]) => [
    agentId,
    agent.owner,
    agent.riskTier,
    `${agent.defaultTtlSeconds}/${agent.maxTtlSeconds}`,
    agent.scopes.join(','),
  ]);
  for (const line of table(['AGENT', 'OWNER', 'RISK', 'TTL (DEFAULT/MAX s)', 'SCOPES'], rows)) io.out(line);
  for (const warning of accountWarnings(policy)) io.err(`warning: ${warning}`);
  return EXIT.ok;
}
