#!/usr/bin/env node
/**
 * Writes the option table of each registered attack, defense and detector that declares a schema
 * (`option.*` in `defineAttack({ options })` or `defineFactory`) into its TSDoc: a table is never
 * written by hand.
 *
 * A TSDoc block holds the marker line ` * <!-- options:NAME -->`; the script replaces what follows it,
 * up to the line ` * <!-- /options -->` (added when missing), with `optionTable(getAttack(NAME).schema)`.
 *
 * Usage: `node scripts/option-tables.mjs` rewrites the sources; `--check` (run by `npm test`) changes
 * nothing and exits 1 when a table is stale, a marker names an unregistered attack, or a registered
 * method with a schema has no marker.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

/** The option table of every registered attack, from the sources (bundled: tfjs-core's ESM build). */
async function tables() {
  const dir = path.join(root, 'scripts', '.bundle');
  await mkdir(dir, { recursive: true });
  const outfile = path.join(dir, 'option-tables-entry.mjs');
  await build({
    stdin: {
      contents: [
        "import '@advx/attacks/register-all'; import '@advx/defenses/register-all'; import '@advx/detectors/register-all';",
        "import { getAttack, getDefense, getDetector, listAttacks, listDefenses, listDetectors, optionTable } from '@advx/core';",
        'const of = (metas, get) => metas.map((m) => [m.name, get(m.name).schema]).filter(([, s]) => s !== undefined);',
        'export const tables = Object.fromEntries([...of(listAttacks(), getAttack), ...of(listDefenses(), getDefense), ...of(listDetectors(), getDetector)]',
        '  .map(([name, schema]) => [name, optionTable(schema)]));',
      ].join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    mainFields: ['module', 'main'],
    conditions: ['@advx/source'],
    outfile,
    logLevel: 'warning',
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
  });
  const mod = await import(pathToFileURL(outfile).href);
  await rm(outfile, { force: true });
  return mod.tables;
}

function sources(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const byName = await tables();
const files = readdirSync(path.join(root, 'packages')).flatMap((pkg) => {
  const src = path.join(root, 'packages', pkg, 'src');
  try {
    return sources(src);
  } catch {
    return [];
  }
});
const MARK = /^(\s*)\* <!-- options:([a-z0-9-]+) -->$/;
const END = /^\s*\* <!-- \/options -->$/;
const problems = [];
const seen = new Set();
for (const file of files) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out = [];
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const m = MARK.exec(line);
    if (!m) {
      out.push(line);
      continue;
    }
    const [, indent, name] = m;
    const table = byName[name];
    if (table === undefined) {
      problems.push(`${path.relative(root, file)}:${i + 1}: <!-- options:${name} --> names no registered method with a schema`);
      out.push(line);
      continue;
    }
    seen.add(name);
    let j = i + 1;
    while (j < lines.length && !END.test(lines[j]) && /^\s*\* \|/.test(lines[j])) j++;
    const hasEnd = j < lines.length && END.test(lines[j]);
    const fresh = [line, ...table.split('\n').map((t) => `${indent}* ${t}`), `${indent}* <!-- /options -->`];
    const old = lines.slice(i, hasEnd ? j + 1 : j);
    if (old.join('\n') !== fresh.join('\n')) changed = true;
    out.push(...fresh);
    i = hasEnd ? j : j - 1;
  }
  if (changed) {
    if (check) problems.push(`${path.relative(root, file)}: an option table is stale; run node scripts/option-tables.mjs`);
    else writeFileSync(file, out.join('\n'));
  }
}
for (const name of Object.keys(byName)) {
  if (!seen.has(name)) problems.push(`'${name}' declares options but has no <!-- options:${name} --> line in its TSDoc`);
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`option tables: ${seen.size} methods ${check ? 'up to date' : 'written'}`);
