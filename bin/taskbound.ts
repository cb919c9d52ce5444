#!/usr/bin/env -S npx tsx
// CLI entry: `taskbound` (CONTRACT §7). Builds the program over real AWS clients and exits with its code.
import { connect } from '../cli/clients';
import { runCli } from '../cli/program';

const io = {
  out: (line: string) => process.stdout.write(`${line}\n`),
  err: (line: string) => process.stderr.write(`${line}\n`),
};

process.exitCode = await runCli(process.argv.slice(2), { io, connect });
