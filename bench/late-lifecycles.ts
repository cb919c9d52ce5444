// Bench entry (`npm run bench:late -- <detail.json>...`): what the late lifecycles of
// `bench:latency --detail` runs have in common (late-analysis.ts), one JSON report per file.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { analyseLate, type Detail } from './late-analysis';

const { values, positionals } = parseArgs({ options: { 'late-ms': { type: 'string', default: '95' } }, allowPositionals: true });
const lateMs = Number(values['late-ms']);
if (positionals.length === 0 || !(lateMs > 0)) throw new Error('usage: bench:late [--late-ms 95] <detail.json>...');
for (const file of positionals) {
  const detail = JSON.parse(await readFile(file, 'utf8')) as Detail;
  console.log(JSON.stringify({ file, ...analyseLate(detail, lateMs) }, null, 2));
}
