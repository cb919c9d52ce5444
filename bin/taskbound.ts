#!/usr/bin/env -S npx tsx
// CLI entry: `taskbound` (docs/contract.md §7). Builds the program over real AWS clients and exits with its code.
// The SDK's Node-version notice would print on every command; it is silenced before the SDK loads.
import { readFileSync } from 'node:fs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { connect } = await import('../cli/clients');
const { runCli } = await import('../cli/program');

// Piped into `head` or a pager that quit: stop quietly, as other command-line tools do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

/** The package's version: package.json is one level up from bin/ in a clone, two from dist/bin/ once built. */
function packageVersion(): string | undefined {
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'taskbound') return manifest.version;
    } catch {
      // Not there: the other layout.
    }
  }
  return undefined;
}

const io = {
  out: (line: string) => process.stdout.write(`${line}\n`),
  err: (line: string) => process.stderr.write(`${line}\n`),
};

const version = packageVersion();
process.exitCode = await runCli(process.argv.slice(2), { io, connect, ...(version ? { version } : {}) });
