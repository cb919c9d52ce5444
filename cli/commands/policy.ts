// CLI command: `policy check FILE`: the same validation the engine and `cdk synth` run
// (schema, then the scope lint against AWS's Service Authorization Reference), so a policy
// change can be checked in CI before it is deployed. Each finding names its line and path.
import { callerPath } from '../caller-path';
import { readFile } from 'node:fs/promises';
import { PolicyError } from '../../lambdas/domain/errors';
import { parsePolicy } from '../../lambdas/domain/policy-file';
import type { Policy } from '../../lambdas/domain/policy';
import { accountWarnings } from '../../lambdas/domain/accounts';
import { lineLocator } from '../../lambdas/policy-lint/locate';
import { lintPolicy } from '../../lambdas/policy-lint/scope-lint';
import { EXIT, UsageError, type CliIo, type ExitCode } from '../context';
import { json, table } from '../output';

async function readPolicyText(file: string): Promise<string> {
  try {
    return await readFile(callerPath(file), 'utf8');
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

/** One problem of a policy file, as `--json` prints it. */
interface PolicyProblem {
  readonly severity: 'error' | 'warning';
  readonly line?: number;
  readonly path: string;
  readonly message: string;
  readonly rule?: string;
}

/**
 * Validates a policy file. Prints each problem as `FILE:LINE: PATH: what is wrong` (exit 2
 * on any error), each warning likewise, then the version hash and the agents; with `--json`,
 * one document `{ file, valid, version?, agents?, problems }` on stdout (same exit codes).
 */
export async function checkPolicy(io: CliIo, file: string, options: { json?: boolean } = {}): Promise<ExitCode> {
  let text: string;
  try {
    text = await readPolicyText(file);
  } catch (error) {
    // Under --json a file that cannot be read is one document too, so CI reads the answer where it reads every other.
    if (!options.json || !(error instanceof UsageError)) throw error;
    const problem: PolicyProblem = { severity: 'error', path: '(file)', message: error.message };
    io.out(json({ file, valid: false, problems: [problem] }));
    return EXIT.usage;
  }
  const lineOf = lineLocator(text);
  const at = (path: string) => {
    const line = lineOf(path);
    return line === undefined ? file : `${file}:${line}`;
  };
  const problem = (severity: PolicyProblem['severity'], path: string, message: string, rule?: string): PolicyProblem => {
    const line = lineOf(path);
    return { severity, ...(line !== undefined ? { line } : {}), path, message, ...(rule ? { rule } : {}) };
  };
  // A schema issue is `path: message`; its line is the path's, or an unknown key's own; a YAML one names its line.
  const located = (issue: string): { path: string; message: string; line?: number } => {
    const split = issue.indexOf(': ');
    if (split < 0) return { path: '(file)', message: issue };
    const path = issue.slice(0, split);
    const message = issue.slice(split + 2);
    const yamlLine = path === 'YAML' ? /\bat line (\d+), column \d+/.exec(message)?.[1] : undefined;
    const unknownKey = /^Unrecognized keys?: "([^"]+)"/.exec(message)?.[1];
    const line = yamlLine !== undefined ? Number(yamlLine) : lineOf(unknownKey === undefined ? path : `${path}.${unknownKey}`);
    return { path, message, ...(line !== undefined ? { line } : {}) };
  };
  const policy = parsedOrError(text, file);
  if (policy instanceof PolicyError) {
    if (options.json) {
      const problems = policy.issues.map((issue) => {
        const { path, message, line } = located(issue);
        return { severity: 'error', ...(line !== undefined ? { line } : {}), path, message } satisfies PolicyProblem;
      });
      io.out(json({ file, valid: false, problems }));
      return EXIT.usage;
    }
    io.err(`${file}: invalid policy`);
    for (const issue of policy.issues) {
      const { line } = located(issue);
      io.err(`  - ${line === undefined ? file : `${file}:${line}`}: ${issue}`);
    }
    return EXIT.usage;
  }
  const findings = await lintPolicy(policy);
  const errors = findings.filter((finding) => finding.severity === 'error');
  const ordered = [...errors, ...findings.filter((candidate) => candidate.severity === 'warning')];
  if (options.json) {
    const problems = [
      ...ordered.map((finding) => problem(finding.severity, finding.path.join('.'), finding.message, finding.rule)),
      ...(errors.length > 0 ? [] : accountWarnings(policy).map((warning) => problem('warning', '(file)', warning))),
    ];
    if (errors.length > 0) {
      io.out(json({ file, valid: false, problems }));
      return EXIT.usage;
    }
    const agents = Object.entries(policy.agents).map(([agentId, agent]) => ({
      agentId,
      owner: agent.owner,
      riskTier: agent.riskTier,
      defaultTtlSeconds: agent.defaultTtlSeconds,
      maxTtlSeconds: agent.maxTtlSeconds,
      scopes: agent.scopes,
    }));
    io.out(json({ file, valid: true, version: policy.policyVersion, agents, problems }));
    return EXIT.ok;
  }
  if (errors.length > 0) io.err(`${file}: invalid policy`);
  for (const finding of ordered) {
    const path = finding.path.join('.');
    io.err(`  - ${at(path)}: ${finding.severity === 'warning' ? 'warning: ' : ''}${path}: ${finding.message} [${finding.rule}]`);
  }
  if (errors.length > 0) return EXIT.usage;
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
