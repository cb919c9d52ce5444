#!/usr/bin/env -S npx tsx
// CLI entry: `taskbound` (docs/contract.md §7). Builds the program over real AWS clients and exits with its code.
// The SDK's Node-version notice would print on every command; it is silenced before the SDK loads.
export {};

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { connect } = await import('../cli/clients');
const { runCli } = await import('../cli/program');

// Piped into `head` or a pager that quit: stop quietly, as other command-line tools do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

const io = {
  out: (line: string) => process.stdout.write(`${line}\n`),
  err: (line: string) => process.stderr.write(`${line}\n`),
};

process.exitCode = await runCli(process.argv.slice(2), { io, connect });
