// CLI: the `taskbound` program (CONTRACT §7). Commander parses; each command is a function
// of its dependencies; this file only wires the two and turns every outcome into an exit code.
import { Command, CommanderError } from 'commander';
import type { ConnectionFlags } from './clients';
import { EXIT, UsageError, type CliDeps, type CliIo, type ExitCode } from './context';
import { suspend, resume } from './commands/agents';
import { verifyAudit } from './commands/audit';
import { decide } from './commands/decisions';
import { emitTaskEnded, emitTaskStarted } from './commands/emit';
import { listGrants, showGrant } from './commands/grants';
import { checkPolicy } from './commands/policy';
import { report } from './commands/report';
import { revoke } from './commands/revoke';
import { sweep } from './commands/sweep';
import { addCredentialsCommand } from './commands/credentials';
import { addServeCredentialsCommand } from './commands/serve-credentials';

/** Builds the dependencies once the global flags are known; tests return fakes. */
export type Connect = (flags: ConnectionFlags, io: CliIo) => CliDeps;

export interface ProgramOptions {
  readonly io: CliIo;
  readonly connect: Connect;
}

const withoutTrailingNewline = (text: string) => text.replace(/\n$/, '');

/** The commander program; `onExit` receives the exit code of the command that ran. */
export function buildProgram({ io, connect }: ProgramOptions, onExit: (code: ExitCode) => void): Command {
  const program = new Command('taskbound')
    .description('Task-scoped AWS credentials for AI agents: inspect grants and ask the engine to act.')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.out(withoutTrailingNewline(text)), writeErr: (text) => io.err(withoutTrailingNewline(text)) })
    .showHelpAfterError('(run with --help for usage)')
    .option('--endpoint <url>', 'the local engine (e.g. http://127.0.0.1:4010) instead of AWS')
    .option('--region <region>', 'AWS region (us-east-1 with --endpoint)')
    .option('--table <name>', 'grant table (env TASKBOUND_TABLE, default taskbound-grants)')
    .option('--bus <name>', 'event bus (env TASKBOUND_BUS, default taskbound)');

  const deps = () => connect(program.opts<ConnectionFlags>(), io);
  const run = async (command: () => Promise<ExitCode>) => onExit(await command());

  const grants = program.command('grants').description('read grants from the store');
  grants
    .command('list')
    .description('grants, newest first')
    .option('--agent <agent>', 'only this agent')
    .option('--state <state>', 'only grants in this state')
    .option('--limit <n>', 'at most this many (default 100)')
    .option('--json', 'print JSON')
    .action((options) => run(() => listGrants(deps(), options)));
  grants
    .command('show <grantId>')
    .description('one grant with its audit chain (exit 1 if the chain does not verify)')
    .option('--json', 'print JSON')
    .action((grantId: string, options) => run(() => showGrant(deps(), grantId, options)));

  program
    .command('revoke <grantId>')
    .description('revoke a grant now (trigger manual)')
    .requiredOption('--reason <reason>', 'why, recorded in the audit chain')
    .option('--as <who>', 'who is revoking (default: your AWS identity)')
    .action((grantId: string, options) => run(() => revoke(deps(), grantId, options)));
  program
    .command('suspend <agentId>')
    .description('kill switch: revoke every live grant of the agent and refuse new ones')
    .requiredOption('--reason <reason>', 'why, recorded and alerted')
    .option('--as <who>', 'who is suspending (default: your AWS identity)')
    .action((agentId: string, options) => run(() => suspend(deps(), agentId, options)));
  program
    .command('resume <agentId>')
    .description('lift a suspension')
    .option('--reason <reason>', 'why')
    .option('--as <who>', 'who is resuming (default: your AWS identity)')
    .action((agentId: string, options) => run(() => resume(deps(), agentId, options)));
  for (const decision of ['approve', 'deny'] as const) {
    program
      .command(`${decision} <grantId>`)
      .description(`${decision} a grant held for approval`)
      .requiredOption('--as <who>', 'the approver, as named in the policy approverGroup')
      .requiredOption('--reason <reason>', 'why, recorded in the audit chain')
      .action((grantId: string, options) => run(() => decide(deps(), decision, grantId, options)));
  }
  program
    .command('sweep')
    .description('ask the engine to settle every due grant now')
    .option('--as <who>', 'who is asking (default: your AWS identity)')
    .action((options) => run(() => sweep(deps(), options)));
  program
    .command('report')
    .description('grants by state and trigger, revocation latency, still-valid findings')
    .option('--since <period>', 'period to cover: 30m, 12h, 7d, 2w', '7d')
    .option('--json', 'print JSON')
    .action((options) => run(() => report(deps(), options)));

  program
    .command('audit')
    .description('the grant audit chains')
    .command('verify')
    .description('verify the audit chain of every grant (exit 1 naming any broken one)')
    .action(() => run(() => verifyAudit(deps())));
  program
    .command('policy')
    .description('the policy file')
    .command('check <file>')
    .description('validate a policy file; print its version hash and agents')
    .action((file: string) => run(() => checkPolicy(io, file)));

  const emit = program.command('emit').description('send the events an agent runtime sends');
  emit
    .command('task-started')
    .description('send Task Started')
    .requiredOption('--agent <agentId>', 'registered agent')
    .requiredOption('--task <taskId>', '1-128 of A-Za-z0-9._:-')
    .requiredOption('--purpose <text>', 'what the task is for')
    .requiredOption('--requested-by <who>', 'principal on whose behalf')
    .requiredOption('--scopes <a,b>', 'scope names, comma separated')
    .option('--ttl <seconds>', 'credential lifetime (default: the agent default)')
    .option('--context <json>', 'a JSON object recorded with the grant (at most 4 KB)')
    .action((options) => run(() => emitTaskStarted(deps(), options)));
  emit
    .command('task-ended')
    .description('send Task Ended')
    .requiredOption('--agent <agentId>', 'registered agent')
    .requiredOption('--task <taskId>', 'the task that ended')
    .requiredOption('--outcome <outcome>', 'succeeded, failed or cancelled')
    .option('--systems-touched <x,y>', 'systems the task touched, comma separated')
    .action((options) => run(() => emitTaskEnded(deps(), options)));
  addCredentialsCommand(program, io, run);
  addServeCredentialsCommand(program, io, run);
  return program;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
}

/** Runs the CLI on `argv` (without node and script) and returns its exit code; never exits itself. */
export async function runCli(argv: readonly string[], options: ProgramOptions): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.ok;
  const program = buildProgram(options, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message (or the help) through configureOutput.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof UsageError) {
      options.io.err(`taskbound: ${error.message}`);
      return EXIT.usage;
    }
    options.io.err(`taskbound: ${describeError(error)}`);
    return EXIT.failure;
  }
}
