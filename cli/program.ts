// CLI: the `taskbound` program (docs/contract.md §7). Commander parses; each command is a function
// of its dependencies; this file only wires the two and turns every outcome into an exit code.
import { Command, CommanderError } from 'commander';
import type { ConnectionFlags } from './clients';
import { EXIT, UsageError, type CliDeps, type CliIo, type ExitCode } from './context';
import { nextStepFor } from './next-step';
import { resume } from './commands/agents';
import { exportAudit, verifyAudit } from './commands/audit';
import { listAgents, showAgent } from './commands/inventory';
import { suspend } from './commands/suspend';
import { decide } from './commands/decisions';
import { emitTaskEnded, emitTaskStarted } from './commands/emit';
import { listGrants, showGrant } from './commands/grants';
import { checkPolicy } from './commands/policy';
import { report } from './commands/report';
import { leak } from './commands/leak';
import { revoke } from './commands/revoke';
import { sweep } from './commands/sweep';
import { addCredentialsCommand } from './commands/credentials';
import { addServeCredentialsCommand } from './commands/serve-credentials';

/** Builds the dependencies once the global flags are known; tests return fakes. */
export type Connect = (flags: ConnectionFlags, io: CliIo) => CliDeps;

export interface ProgramOptions {
  readonly io: CliIo;
  readonly connect: Connect;
  /** What `--version` prints (the package's version); without it there is no `--version`. */
  readonly version?: string;
}

const withoutTrailingNewline = (text: string) => text.replace(/\n$/, '');

/** The commander program; `onExit` receives the exit code of the command that ran. */
export function buildProgram({ io, connect, version }: ProgramOptions, onExit: (code: ExitCode) => void): Command {
  const program = new Command('taskbound')
    .description('Task-scoped AWS credentials for AI agents: inspect grants and ask the engine to act.')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(withoutTrailingNewline(text)),
      writeErr: (text) => io.err(withoutTrailingNewline(text)),
      // Commander's own usage errors carry the prefix every other error of the CLI does (docs/cli.md, Output).
      outputError: (text, write) => write(text.replace(/^error: /, 'taskbound: ')),
    })
    .showHelpAfterError('(run with --help for usage)')
    .option('--endpoint <url>', 'the local engine (e.g. http://127.0.0.1:4010) instead of AWS')
    .option('--region <region>', 'AWS region (us-east-1 with --endpoint)')
    .option('--table <name>', 'grant table (env TASKBOUND_TABLE, default taskbound-grants)')
    .option('--bus <name>', 'event bus (env TASKBOUND_BUS, default taskbound)')
    .option(
      '--policy <file>',
      'policy file for the inventory (env TASKBOUND_POLICY_FILE; with --endpoint, the file the local engine loaded; else examples/taskbound.policy.yaml)',
    )
    // Also global, so one alias (`T="taskbound --endpoint … --data-dir …"`) serves approve, deny and resume too.
    .option('--data-dir <dir>', "the local engine's data directory, for approve/deny/resume --as (env TASKBOUND_DATA_DIR)");

  if (version) program.version(version, '-V, --version', 'print the version');

  const deps = () => connect(program.opts<ConnectionFlags>(), io);
  const run = async (command: () => Promise<ExitCode>) => onExit(await command());

  const agents = program.command('agents').description('the inventory of AI identities: policy and standing');
  agents
    .command('list')
    .description('every agent: owner, risk tier, status, live grants, scopes and their classes')
    .option('--json', 'print JSON (times as ISO 8601)')
    .action((options) => run(() => listAgents(deps(), options)));
  agents
    .command('show <agentId>')
    .description('one agent: owner, purpose, scopes, limits, status, live grants and when each expires')
    .option('--json', 'print JSON (times as ISO 8601)')
    .action((agentId: string, options) => run(() => showAgent(deps(), agentId, options)));

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
    .description('revoke a grant now (trigger manual) and wait until it is proven dead')
    .requiredOption('--reason <reason>', 'why, recorded in the audit chain')
    .option('--as <who>', 'who is revoking (default: your AWS identity)')
    .option('--wait <seconds>', 'how long to wait for the engine (0: send and return)', '30')
    .option('--json', 'print JSON')
    .action((grantId: string, options) => run(() => revoke(deps(), grantId, options)));
  program
    .command('suspend <agentId>')
    .description('kill switch: revoke every live grant of the agent and refuse new ones; waits for the outcome')
    .requiredOption('--reason <reason>', 'why, recorded and alerted')
    .option('--as <who>', 'who is suspending (default: your AWS identity)')
    .option('--wait <seconds>', 'how long to wait for the engine (0: send and return)', '30')
    .option('--json', 'print JSON')
    .action((agentId: string, options) => run(() => suspend(deps(), agentId, options)));
  program
    .command('leak <credential>')
    .description(
      "report a credential leaked (its access key id, or its delivery's name): revoked at once, secrets rotated, waits until proven dead",
    )
    .option(
      '--evidence <text>',
      'where it was found (never recorded: the engine notes only that evidence was given; never paste the secret)',
    )
    .option('--as <who>', 'who is reporting (default: your AWS identity)')
    .option('--wait <seconds>', 'how long to wait for the engine (0: send and return)', '30')
    .option('--json', 'print JSON')
    .action((credential: string, options) => run(() => leak(deps(), credential, options)));
  const operatorOptions = (command: Command) =>
    command
      .requiredOption('--reason <reason>', 'why, recorded in the audit chain')
      .option('--as <person>', 'local engine only: sign as this person of the policy with the key the engine holds for them')
      .option('--data-dir <dir>', "the local engine's data directory, for --as (env TASKBOUND_DATA_DIR, default .taskbound)")
      .option('--operator-url <url>', 'the operator endpoint (env TASKBOUND_OPERATOR_URL; the stack output OperatorUrl)')
      .option('--json', "print the engine's answer as JSON");
  const withGlobals = <T extends { readonly dataDir?: string }>(options: T) => {
    const globals = program.opts<ConnectionFlags & { readonly dataDir?: string }>();
    return {
      ...options,
      ...(globals.endpoint ? { endpoint: globals.endpoint } : {}),
      ...(globals.region ? { region: globals.region } : {}),
      ...(options.dataDir === undefined && globals.dataDir !== undefined ? { dataDir: globals.dataDir } : {}),
    };
  };
  operatorOptions(program.command('resume <agentId>').description('lift a suspension (through the operator endpoint)')).action(
    (agentId: string, options) => run(() => resume(deps(), agentId, withGlobals(options))),
  );
  for (const decision of ['approve', 'deny'] as const) {
    operatorOptions(
      program.command(`${decision} <grantId>`).description(`${decision} a grant held for approval (through the operator endpoint)`),
    ).action((grantId: string, options) => run(() => decide(deps(), decision, grantId, withGlobals(options))));
  }
  program
    .command('sweep')
    .description('ask the engine to settle every due grant now, and wait until it has')
    .option('--as <who>', 'who is asking (default: your AWS identity)')
    .option('--wait <seconds>', 'how long to wait for the engine (0: send and return)', '30')
    .option('--json', 'print JSON')
    .action((options) => run(() => sweep(deps(), options)));
  program
    .command('report')
    .description(
      'governance figures per agent and overall: grants, standing privilege, lifetimes, revocation, approvals, leaks, unused permissions',
    )
    .option('--since <period>', 'period to cover: 30m, 12h, 7d, 2w', '7d')
    .option('--json', 'print JSON')
    .option('--html <file>', 'also write a self-contained HTML page with charts, readable offline')
    .option('--by <what>', 'break the figures down by agent or by account (hub and spokes)', 'agent')
    .option('--usage', "on AWS, read every credential's calls from CloudTrail to find permissions no task used (slow: 2 lookups a second)")
    .action((options) => run(() => report(deps(), options)));

  const audit = program.command('audit').description('the grant audit chains');
  audit
    .command('verify')
    .description('verify the audit chain of every grant (exit 1 naming each broken grant and link)')
    .option('--against <file>', 'an earlier `audit export` (json or ocsf): also check the store still holds each of its links unchanged')
    .option('--json', 'print JSON')
    .action((options) => run(() => verifyAudit(deps(), options)));
  audit
    .command('export')
    .description('one JSON line per audit entry, for a SIEM; --format ocsf maps them to OCSF 1.8 classes')
    .option('--since <period>', 'period to cover: 30m, 12h, 7d, 2w', '7d')
    .option('--format <format>', 'json (as recorded) or ocsf', 'json')
    .option('--json', 'accepted for symmetry: the export is always JSON lines')
    .action((options) => run(() => exportAudit(deps(), options)));
  program
    .command('policy')
    .description('the policy file')
    .command('check <file>')
    .description('validate a policy file; print its version hash and agents')
    .option('--json', 'print JSON: { file, valid, version, agents, problems } (exit codes as without)')
    .action((file: string, options: { json?: boolean }) => run(() => checkPolicy(io, file, options)));

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
    .option('--wait <seconds>', "wait this long for the engine's answer: issued, waiting for approval or denied (0: send only)", '30')
    .option('--json', 'print JSON')
    .action((options) => run(() => emitTaskStarted(deps(), options)));
  emit
    .command('task-ended')
    .description('send Task Ended')
    .requiredOption('--agent <agentId>', 'registered agent')
    .requiredOption('--task <taskId>', 'the task that ended')
    .requiredOption('--outcome <outcome>', 'succeeded, failed or cancelled')
    .option('--systems-touched <x,y>', 'systems the task touched, comma separated')
    .option('--wait <seconds>', 'wait this long for the credential to be revoked and proven dead (0: send only)', '30')
    .option('--json', 'print JSON')
    .action((options) => run(() => emitTaskEnded(deps(), options)));
  addCredentialsCommand(program, io, run);
  addServeCredentialsCommand(program, io, run);
  return program;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // undici's bare "fetch failed" (the operator endpoint's request) says what failed in its cause.
  if (error.message === 'fetch failed' && error.cause instanceof Error) return describeError(error.cause);
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
      // Commander has already printed its message (or the help) through configureOutput. Help asked for
      // (`--help`, or the `help` command: 'commander.help' with exit code 0) is no usage error; the help
      // shown for a command group given no subcommand is (exit code 1 there).
      const askedForHelp = error.code === 'commander.helpDisplayed' || (error.code === 'commander.help' && error.exitCode === 0);
      return askedForHelp || error.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof UsageError) {
      options.io.err(`taskbound: ${error.message}`);
      return EXIT.usage;
    }
    options.io.err(`taskbound: ${describeError(error)}`);
    const hint = nextStepFor(error);
    if (hint) options.io.err(`  ${hint}`);
    return EXIT.failure;
  }
}
