// Entry point of `npm start`: runs the Taskbound engine on this machine, no AWS account needed.
import { Command, InvalidArgumentError, Option } from 'commander';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { callerPath } from '../cli/caller-path';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Handlers log JSON through Powertools; locally only warnings and errors are worth a line.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) throw new InvalidArgumentError('a port is 0-65535');
  return parsed;
}

/** Seconds as the flag's name says, handed on in milliseconds. */
function seconds(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) throw new InvalidArgumentError('a number of seconds, 0 or more');
  return Math.round(parsed * 1000);
}

function milliseconds(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isInteger(parsed) || parsed < 0)
    throw new InvalidArgumentError('a whole number of milliseconds, 0 or more');
  return parsed;
}

function quotaScale(value: string): number {
  const parsed = Number(value);
  if (!(parsed > 0) || !Number.isFinite(parsed)) throw new InvalidArgumentError('a positive number, e.g. 0.2 for a fifth of the quotas');
  return parsed;
}

/** `10,20` (issuing, revoking) or `off`, as the stack's `reservedConcurrency` setting. */
function reservedConcurrency(value: string): { issuing: number; revoking: number } | false {
  if (value === 'off') return false;
  const [issuing, revoking, ...rest] = value.split(',').map(Number);
  const positive = (count: number | undefined) => count !== undefined && Number.isInteger(count) && count >= 1;
  if (rest.length > 0 || !positive(issuing) || !positive(revoking))
    throw new InvalidArgumentError('<issuing>,<revoking> (positive integers, e.g. 10,20) or off');
  return { issuing: issuing!, revoking: revoking! };
}

/** The CLI's default too (`--data-dir` of approve, deny, resume), so the hint printed at start leaves it out. */
const DEFAULT_DATA_DIR = '.taskbound';

const program = new Command('taskbound-local')
  .description('Run the Taskbound engine locally: EventBridge, Secrets Manager, STS and DynamoDB on one loopback port.')
  .option('--data-dir <dir>', 'where state is kept (survives restarts, even kill -9)', DEFAULT_DATA_DIR)
  .option('--policy <file>', 'the policy file', 'examples/taskbound.policy.yaml')
  // PORT is read (and checked) by commander, so a bad one is a usage error like a bad --port.
  .addOption(new Option('--port <port>', 'listen port').env('PORT').argParser(port).default(4010))
  .addOption(new Option('--sweep-interval <seconds>', 'seconds between sweeps (0: none)').argParser(seconds).default(30_000, '30'))
  .addOption(
    new Option('--iam-lag <ms>', 'emulate IAM eventual consistency: a deleted access key keeps working this long')
      .argParser(milliseconds)
      .default(0),
  )
  .addOption(
    new Option(
      '--delivery <mode>',
      'how credentials are delivered: Secrets Manager secrets, or KMS-encrypted DynamoDB items (docs/scale.md §8)',
    )
      .choices(['secrets-manager', 'dynamodb-kms'])
      .default('secrets-manager'),
  )
  .addOption(
    new Option(
      '--expiry <mode>',
      'a timer per grant, or no per-grant timer: readers of the due index every --due-interval (docs/scale.md §8)',
    )
      .choices(['timer', 'due-index'])
      .default('timer'),
  )
  .addOption(
    new Option('--due-interval <seconds>', 'with --expiry due-index: seconds between due-index reads (AWS: 60)')
      .argParser(seconds)
      .default(60_000, '60'),
  )
  .addOption(
    new Option('--deny-lag <ms>', "emulate IAM's deny propagation: a revoked session keeps working this long")
      .argParser(milliseconds)
      .default(0),
  )
  .addOption(
    new Option(
      '--reserved-concurrency <issuing,revoking>',
      "invocations at once per issuing and per revoking function, the rest queued as in Lambda's async queue (the stack's default 10,20; off: no limit)",
    )
      .env('TASKBOUND_RESERVED_CONCURRENCY')
      .argParser(reservedConcurrency),
  )
  .addOption(
    new Option('--store-thread <where>', "the embedded store's thread: its own (uses a second core) or the engine's")
      .choices(['own', 'shared'])
      .env('TASKBOUND_STORE_THREAD')
      .default('own'),
  )
  .option(
    '--quota-scale <factor>',
    "emulate AWS's request quotas: throttle Secrets Manager and EventBridge at the documented quotas times factor",
    quotaScale,
  )
  // Tests only (hidden from --help): runs the engine's clock this far ahead, so a test reaches an
  // expiry without waiting for it in real time. Never set it for real use.
  .addOption(new Option('--test-clock-offset-ms <ms>', 'TESTS ONLY: shift the engine clock').argParser(Number).default(0).hideHelp())
  .showHelpAfterError();

/** The policy file cannot be read at all (missing, a directory, not readable): bad input, as an invalid one is. */
class UnreadablePolicyError extends Error {}

async function assertReadableFile(file: string): Promise<void> {
  try {
    if (!(await stat(file)).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    await access(file, constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new UnreadablePolicyError(`${file}: cannot read the policy file (${code}); pass one with --policy FILE`);
  }
}

/** The policy file as resolved, for the hint on an invalid one: the path typed may be relative to another directory. */
let policyFileInUse: string | undefined;

async function main(): Promise<void> {
  program.parse();
  const options = program.opts<{
    dataDir: string;
    policy: string;
    port: number;
    sweepInterval: number;
    iamLag: number;
    denyLag: number;
    delivery: 'secrets-manager' | 'dynamodb-kms';
    expiry: 'timer' | 'due-index';
    dueInterval: number;
    quotaScale?: number;
    storeThread: 'own' | 'shared';
    reservedConcurrency?: { issuing: number; revoking: number } | false;
    testClockOffsetMs: number;
  }>();
  // A path the user typed is theirs (`npm start -- --policy mine.yaml` from any directory); a default is the clone's.
  const typed = (name: 'dataDir' | 'policy') => program.getOptionValueSource(name) !== 'default';
  const dataDir = typed('dataDir') ? callerPath(options.dataDir) : resolve(options.dataDir);
  const policyFile = typed('policy') ? callerPath(options.policy) : resolve(options.policy);
  policyFileInUse = policyFile;
  await assertReadableFile(policyFile);
  const { startLocalEngine, retiredAgentWarnings, steadyClock } = await import('../lambdas/local/engine');
  const { scaledQuotas } = await import('../lambdas/adapters/aws/documented-quotas');
  const engine = await startLocalEngine({
    dataDir,
    policyFile,
    port: options.port,
    sweepIntervalMs: options.sweepInterval,
    accessKeyRevocationLagMs: options.iamLag,
    sessionDenyLagMs: options.denyLag,
    delivery: options.delivery,
    expiry: options.expiry,
    dueIndexIntervalMs: options.dueInterval,
    storeThread: options.storeThread,
    ...(options.reservedConcurrency !== undefined ? { reservedConcurrency: options.reservedConcurrency } : {}),
    ...(options.quotaScale ? { quotas: scaledQuotas(options.quotaScale) } : {}),
    ...(options.testClockOffsetMs
      ? { clock: steadyClock({ wallMs: () => Date.now() + options.testClockOffsetMs, monotonicMs: () => performance.now() }) }
      : {}),
    ...(process.env.SLACK_WEBHOOK_URL ? { slackWebhookUrl: process.env.SLACK_WEBHOOK_URL } : {}),
  });
  console.log(`Taskbound local engine ready on ${engine.url}`);
  console.log(
    `  policy ${options.policy} (${engine.policy.policyVersion.slice(0, 19)}…), agents: ${Object.keys(engine.policy.agents).join(', ')}`,
  );
  const origin = engine.stateDirectory?.origin;
  // A moved, renamed or mistyped --data-dir starts empty: say so, since the grants of the old one are not served from here.
  const fresh =
    origin === 'new' ? ' (new and empty: no grants from an earlier run; if you moved the old one, pass it with --data-dir)' : '';
  console.log(`  state in ${dataDir}${fresh}`);
  console.log(`  point an agent runtime at it: AWS_ENDPOINT_URL=${engine.url}`);
  if (engine.deliveryTable)
    console.log(`  deliveries are KMS-encrypted DynamoDB items: also set TASKBOUND_DELIVERY_TABLE=${engine.deliveryTable}`);
  const people = Object.keys(engine.policy.people);
  if (people.length > 0) {
    console.log(
      `  operator endpoint ${engine.operatorUrl} (SigV4, service lambda); keys for ${people.join(', ')} in ${engine.operatorCredentialsFile}`,
    );
    // The engine runs from a clone (`npm start`), where the CLI is an npm script, not a `taskbound` on the PATH.
    const dataDirFlag = typed('dataDir') ? ` --data-dir ${dataDir}` : '';
    console.log(
      `  decide as one of them: npm run -s taskbound -- --endpoint ${engine.url} approve <grantId> --as ${people[0]}${dataDirFlag} --reason …`,
    );
  }
  for (const warning of await retiredAgentWarnings(engine.policy, engine.deps.store)) console.log(`  warning: ${warning}`);
  const stop = async (signal: string) => {
    console.log(`\n${signal}: stopping (state is kept; outstanding grants are revoked on time after a restart)`);
    await engine.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  const inUse = error instanceof Error && 'code' in error && error.code === 'EADDRINUSE';
  console.error(
    inUse
      ? `${error.message}: another program (another engine?) listens there; choose one with --port or PORT`
      : error instanceof Error
        ? error.message
        : String(error),
  );
  // The engine names the path in the file; the CLI's check also names the line of each problem.
  if (error instanceof Error && error.name === 'PolicyError')
    console.error(
      `(run \`npm run -s taskbound -- policy check ${policyFileInUse ?? program.opts<{ policy: string }>().policy}\` for the line of each)`,
    );
  process.exit(error instanceof Error && (error.name === 'PolicyError' || error instanceof UnreadablePolicyError) ? 2 : 1);
});
