// Prints vitest's totals as one plain line ("N passed, N failed"), for CI log readers that
// do not parse vitest's own (coloured) summary.
import { readFileSync } from 'node:fs';

const results = JSON.parse(readFileSync(new URL('../.vitest-results.json', import.meta.url), 'utf8'));
console.log(`${results.numPassedTests} passed, ${results.numFailedTests} failed`);
