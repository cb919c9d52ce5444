// Build step: makes tsc's output loadable by plain Node ESM. The sources import relative modules
// without extensions (bundler resolution, as tsx and esbuild read them); Node and TypeScript's
// `nodenext` need the file itself, so each relative specifier in dist/ gains `.js` or `/index.js`.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? 'dist');
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\2/g;

async function exists(path) {
  return stat(path).then(
    (found) => found.isFile(),
    () => false,
  );
}

async function resolved(fromFile, specifier) {
  if (/\.(js|mjs|cjs|json)$/.test(specifier)) return specifier;
  const base = resolve(dirname(fromFile), specifier);
  if (await exists(`${base}.js`)) return `${specifier}.js`;
  if (await exists(join(base, 'index.js'))) return `${specifier}/index.js`;
  throw new Error(`${fromFile}: cannot resolve ${specifier}`);
}

async function* files(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (/\.(js|d\.ts)$/.test(entry.name)) yield path;
  }
}

let rewritten = 0;
for await (const file of files(root)) {
  const text = await readFile(file, 'utf8');
  const found = [...text.matchAll(SPECIFIER)];
  let next = text;
  for (const [whole, lead, quote, specifier] of found)
    next = next.replace(whole, `${lead}${quote}${await resolved(file, specifier)}${quote}`);
  // The CLI's source runs through tsx; built, it runs on Node itself.
  if (file.endsWith(join('bin', 'taskbound.js'))) next = next.replace(/^#!.*\n/, '#!/usr/bin/env node\n');
  if (next !== text) {
    await writeFile(file, next);
    rewritten++;
  }
}
console.log(`esm-specifiers: ${rewritten} files in ${root} made loadable by Node`);
