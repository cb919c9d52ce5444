// Bench entry (`npm run bench:bundles`): the `bundles` figure alone (each handler's bytes and
// module init, as `npm run bench` measures them), and what each bundle is made of: its largest
// inputs by package (our own code by folder), from esbuild's metafile of the same build.
// Flags: --top 12 (inputs listed per bundle), --runs 5 (imports timed per bundle).
export {};

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { parseArgs } = await import('node:util');
const { readFile } = await import('node:fs/promises');
const { loadavg } = await import('node:os');
const { resolve } = await import('node:path');
const { build } = await import('esbuild');
const { ENGINE_HANDLERS, esbuildOptions, handlerEntry } = await import('../lib/bundling');
const { measureBundles } = await import('./bundles');

const { values } = parseArgs({
  options: { top: { type: 'string', default: '12' }, runs: { type: 'string', default: '5' } },
  strict: true,
});
const top = Number(values.top);
const runs = Number(values.runs);
if (!Number.isInteger(top) || top < 1 || !Number.isInteger(runs) || runs < 1) throw new Error('--top and --runs must be positive integers');

/** The policy a default deployment compiles in, as `npm run bench` bundles it. */
const policyFile = resolve(import.meta.dirname, '../examples/taskbound.policy.yaml');
const policyYaml = await readFile(policyFile, 'utf8');

/** An input's group: its package (zod's locales apart), or for our code its folder. */
function groupOf(input: string): string {
  const packages = input.match(/node_modules\/(@[^/]+\/[^/]+|[^/]+)/g);
  const name = packages?.at(-1)?.slice('node_modules/'.length);
  if (!name) return input.split('/').slice(0, 2).join('/');
  return name === 'zod' && input.includes('/locales/') ? 'zod (locales)' : name;
}

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;

console.log(
  `load average at the start: ${loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')}`,
);
const figures = await measureBundles(policyFile, runs);
for (const handler of ENGINE_HANDLERS) {
  const figure = figures[handler];
  if (!figure) continue;
  const { metafile } = await build({
    ...esbuildOptions(policyYaml),
    entryPoints: [handlerEntry(handler)],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const groups = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(Object.values(metafile.outputs)[0]?.inputs ?? {}))
    groups.set(groupOf(input), (groups.get(groupOf(input)) ?? 0) + bytesInOutput);
  console.log(`\n${handler}: ${figure.bytes.toLocaleString('en')} bytes, init ${figure.initMs.toFixed(0)} ms (median of ${runs})`);
  for (const [group, bytes] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${kb(bytes).padStart(9)}  ${group}`);
}
console.log(
  `\nload average at the end: ${loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')}`,
);
