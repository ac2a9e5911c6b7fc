#!/usr/bin/env node
/**
 * Type-checks every TSDoc `@example` of the packages' sources.
 *
 * Extracts each ```ts block that follows an `@example` tag in `packages/<pkg>/src/**\/*.ts` (test files
 * excluded), writes it to `.examples/<pkg>/<file>--<symbol>--<k>.ts` (git-ignored, regenerated on every
 * run) and type-checks those files with the TypeScript API under `.examples/tsconfig.json`, which extends
 * the root `tsconfig.json`: `@advx/*` imports resolve as in the repo (workspace links + the `@advx/source`
 * condition, i.e. to the packages' `src/`), so an example is checked against the current sources.
 *
 * Examples are written as they are; each file is a module (so top-level `await` works). Names an example
 * uses without defining them (a `model`, a batch `x`, `labels`, `tf`, or an export of its own package
 * that a short snippet does not import) get a per-file prelude: pass 1 type-checks the raw examples and
 * collects "Cannot find name" errors; each such name is declared from {@link PLACEHOLDERS}, else imported
 * (`import type` for types) from an `@advx/*` entry point that exports it (its own package's first), else
 * from the example's own module (snippets of internal helpers), else declared `any` (a value the snippet
 * takes as given, e.g. the documented function's parameter; `--verbose` lists them). Pass 2 checks the
 * files with their preludes and fails on any error, printed with the source file, line and symbol.
 *
 * Only the example files are checked (the library sources themselves are checked by `npm run typecheck`),
 * which keeps the run to about 20–40 s.
 *
 * `{ ... }` and lines `...` (elided code) become comments. Examples are checked as user code: under the
 * root options except `noUncheckedIndexedAccess` (off, as in a default `strict` project).
 *
 * Usage: `node scripts/check-examples.mjs [--verbose]`; exits 1 when an example does not compile. After a
 * run, `npx tsc -p .examples/tsconfig.json` checks the same files with plain tsc (slower: it also checks
 * the library sources they reach).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, '.examples');
const verbose = process.argv.includes('--verbose');

/**
 * Declarations of the placeholder names examples use without defining them. `tf` is the namespace of
 * `@tensorflow/tfjs-core`; the others are `declare const`s typed as what the examples pass them for.
 * Each entry: the import lines it needs and the declaration.
 */
const PLACEHOLDERS = {
  tf: { imports: ["import * as tf from '@tensorflow/tfjs-core';"], decl: '' },
  model: { imports: ["import type { Model as __Model } from '@advx/core';"], decl: 'declare const model: __Model;' },
  queryModel: { imports: ["import type { QueryModel as __QueryModel } from '@advx/core';"], decl: 'declare const queryModel: __QueryModel;' },
  x: { imports: ["import type * as __tf from '@tensorflow/tfjs-core';"], decl: 'declare const x: __tf.Tensor;' },
  xAdv: { imports: ["import type * as __tf from '@tensorflow/tfjs-core';"], decl: 'declare const xAdv: __tf.Tensor;' },
  labels: { imports: ["import type * as __tf from '@tensorflow/tfjs-core';"], decl: 'declare const labels: __tf.Tensor1D;' },
  targets: { imports: ["import type * as __tf from '@tensorflow/tfjs-core';"], decl: 'declare const targets: __tf.Tensor1D;' },
  y: { imports: ["import type * as __tf from '@tensorflow/tfjs-core';"], decl: 'declare const y: __tf.Tensor1D;' },
  signal: { imports: [], decl: 'declare const signal: AbortSignal;' },
  attack: { imports: ["import type { Attack as __Attack } from '@advx/core';"], decl: 'declare const attack: __Attack;' },
  layersModel: { imports: ["import type { LayersModel as __LayersModel } from '@tensorflow/tfjs-layers';"], decl: 'declare const layersModel: __LayersModel;' },
  ...Object.fromEntries(
    ['clean', 'adversarial', 'cleanImages', 'suspiciousImages', 'testImages', 'patchedImages', 'seedImages', 'xTrain', 'xTest', 'delta', 'adv'].map((name) => [
      name,
      { imports: ["import type * as __tf from '@tensorflow/tfjs-core';"], decl: `declare const ${name}: __tf.Tensor;` },
    ]),
  ),
};

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test-d.ts')) out.push(p);
  }
  return out;
}

/** The declared name that follows a doc comment ending at `end` (for messages and file names). */
function symbolAfter(text, end) {
  const rest = text.slice(end, end + 400);
  const m =
    /^\s*(?:export\s+)?(?:declare\s+)?(?:default\s+)?(?:async\s+)?(?:abstract\s+)?(?:function\*?|const|let|class|interface|type|enum|namespace)\s+([A-Za-z_$][\w$]*)/.exec(
      rest,
    );
  if (m) return m[1];
  const member = /^\s*(?:readonly\s+|static\s+|async\s+|get\s+|set\s+)*([A-Za-z_$][\w$]*)\s*[(:?<]/.exec(rest);
  return member ? member[1] : 'module';
}

/** Every ```ts block under an `@example` tag, with its source line. */
function extract(file) {
  const text = readFileSync(file, 'utf8');
  const examples = [];
  let skipped = 0;
  const commentRe = /\/\*\*[\s\S]*?\*\//g;
  for (let m; (m = commentRe.exec(text));) {
    const comment = m[0];
    if (!comment.includes('```')) continue;
    const startLine = text.slice(0, m.index).split('\n').length; // 1-based line of `/**`
    const lines = comment.split('\n').map((l) => l.replace(/^\s*\/?\*+\/?\s?/, '').replace(/\s*\*\/$/, ''));
    const symbol = symbolAfter(text, m.index + comment.length);
    let inExample = false;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (/^@\w+/.test(line.trim())) inExample = line.trim().startsWith('@example');
      const fence = /^\s*```\s*(\w*)/.exec(line);
      if (!fence) continue;
      let j = i + 1;
      while (j < lines.length && !/^\s*```\s*$/.test(lines[j])) j++;
      const lang = fence[1];
      if (inExample && (lang === 'ts' || lang === 'typescript')) {
        examples.push({ symbol, line: startLine + i + 1, code: lines.slice(i + 1, j).join('\n') });
      } else if (lang === 'ts' || lang === 'typescript') {
        skipped++;
      }
      i = j;
    }
  }
  return { examples, skipped };
}

// ---- collect -------------------------------------------------------------------------------------

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const packages = readdirSync(path.join(root, 'packages')).filter((p) => {
  try {
    return statSync(path.join(root, 'packages', p, 'src')).isDirectory();
  } catch {
    return false;
  }
});
const entries = []; // { pkg, source, symbol, line, code, file }
let skippedBlocks = 0;
for (const pkg of packages) {
  for (const source of walk(path.join(root, 'packages', pkg, 'src')).sort()) {
    const { examples, skipped } = extract(source);
    skippedBlocks += skipped;
    const rel = path
      .relative(path.join(root, 'packages', pkg, 'src'), source)
      .replace(/\.ts$/, '')
      .replace(/[\\/]/g, '__');
    examples.forEach((ex, k) => {
      const file = path.join(outDir, pkg, `${rel}--${ex.symbol}--${k + 1}.ts`);
      entries.push({ pkg, source: path.relative(root, source), ...ex, file });
    });
  }
}

writeFileSync(
  path.join(outDir, 'tsconfig.json'),
  `${JSON.stringify({ extends: '../tsconfig.json', compilerOptions: { noEmit: true, noUncheckedIndexedAccess: false }, include: ['**/*.ts'] }, null, 2)}\n`,
);
// A probe that reaches every package's main entry, to learn what each exports.
const probe = path.join(outDir, '__exports.ts');
// Every entry point a package exports (`@advx/core`, `@advx/core/testing`, …), main entry first.
const entryPoints = new Map(
  packages.map((p) => {
    const { name, exports = {} } = JSON.parse(readFileSync(path.join(root, 'packages', p, 'package.json'), 'utf8'));
    const subpaths = Object.keys(exports).filter((k) => k.startsWith('.') && !k.endsWith('.json'));
    return [p, subpaths.map((k) => (k === '.' ? name : `${name}/${k.slice(2)}`))];
  }),
);
const allEntries = [...entryPoints.values()].flat();
writeFileSync(
  probe,
  `${allEntries.map((spec, i) => `import * as __p${i} from '${spec}';`).join('\n')}\nexport { ${allEntries.map((_, i) => `__p${i}`).join(', ')} };\n`,
);

const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(path.join(outDir, 'tsconfig.json'), ts.sys.readFile).config, ts.sys, outDir);
if (parsed.errors.length > 0) {
  console.error(ts.formatDiagnostics(parsed.errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' }));
  process.exit(1);
}

/** Elisions of prose (`{ ... }`, a line `...`) become comments, so the rest of the snippet is checked. */
function elide(code) {
  return code.replace(/\{\s*\.\.\.\s*\}/g, '{ /* ... */ }').replace(/^(\s*)\.\.\.\s*$/gm, '$1/* ... */');
}

function write(entry, prelude) {
  mkdirSync(path.dirname(entry.file), { recursive: true });
  const header = `// Generated by scripts/check-examples.mjs from ${entry.source}:${entry.line} (${entry.symbol}). Do not edit.\n`;
  entry.preludeLines = prelude.length === 0 ? 0 : prelude.split('\n').length;
  entry.headerLines = 1 + entry.preludeLines;
  writeFileSync(entry.file, `${header}${prelude}${prelude ? '\n' : ''}${elide(entry.code)}\nexport {};\n`);
}

// Cannot find name 'x' (2552: … Did you mean …?; 18004: no value for the shorthand property 'x').
const MISSING_NAME = new Set([2304, 2552, 2582, 2580, 18004]);

function check(oldProgram) {
  const sources = [...new Set(entries.map((e) => path.join(root, e.source)))];
  const program = ts.createProgram({ rootNames: [...entries.map((e) => e.file), probe, ...sources], options: parsed.options, oldProgram });
  const byFile = new Map();
  for (const e of entries) {
    const sf = program.getSourceFile(e.file);
    byFile.set(e, [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]);
  }
  return { program, byFile };
}

// ---- pass 1: the examples as written -------------------------------------------------------------

const t0 = Date.now();
for (const e of entries) write(e, '');
const pass1 = check(undefined);

// What each @advx package's main entry exports: name -> whether it is a value (else: import type).
const checker = pass1.program.getTypeChecker();
function exportMap(moduleSymbol) {
  const map = new Map();
  if (!moduleSymbol) return map;
  for (const s of checker.getExportsOfModule(moduleSymbol)) {
    const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
    map.set(s.name, (target.flags & ts.SymbolFlags.Value) !== 0);
  }
  return map;
}
const probeSf = pass1.program.getSourceFile(probe);
const exportsOf = new Map();
for (const stmt of probeSf.statements) {
  if (!ts.isImportDeclaration(stmt)) continue;
  const spec = stmt.moduleSpecifier.text;
  const sym = checker.getSymbolAtLocation(stmt.moduleSpecifier);
  exportsOf.set(spec, exportMap(sym));
}

/** Exports of an example's own source file (snippets of a module's functions often use them unimported). */
function fileExports(source) {
  const sf = pass1.program.getSourceFile(path.join(root, source));
  const sym = sf && checker.getSymbolAtLocation(sf);
  return exportMap(sym);
}

const untyped = [];
const implicitImports = new Map(); // "name from pkg" -> count
for (const e of entries) {
  const names = new Set();
  for (const d of pass1.byFile.get(e)) {
    if (!MISSING_NAME.has(d.code) || d.file === undefined || d.start === undefined) continue;
    names.add(d.file.text.slice(d.start, d.start + d.length));
  }
  const imports = new Set();
  const decls = [];
  const named = new Map(); // module -> import specifiers
  for (const name of [...names].sort()) {
    const placeholder = PLACEHOLDERS[name];
    if (placeholder) {
      placeholder.imports.forEach((i) => imports.add(i));
      if (placeholder.decl) decls.push(placeholder.decl);
      continue;
    }
    const own = entryPoints.get(e.pkg);
    const ownExports = fileExports(e.source);
    const ownFile = ownExports.has(name)
      ? path.relative(path.dirname(e.file), path.join(root, e.source)).replace(/\\/g, '/').replace(/\.ts$/, '.js')
      : undefined;
    // As a user would import it: a package entry point (its own package's first), else its own module.
    const from = [...own, ...allEntries.filter((p) => !own.includes(p))].find((p) => exportsOf.get(p)?.has(name)) ?? ownFile;
    if (from) {
      const isValue = (from === ownFile ? ownExports : exportsOf.get(from)).get(name);
      named.set(from, [...(named.get(from) ?? []), isValue ? name : `type ${name}`]);
      const key = `${name} from ${from}`;
      implicitImports.set(key, (implicitImports.get(key) ?? 0) + 1);
      continue;
    }
    // A value the snippet takes as given (a parameter of the documented function, say): `any`, listed.
    decls.push(`declare const ${name}: any;`);
    const key = `${name} (${e.source}:${e.line}, ${e.symbol})`;
    untyped.push(key);
  }
  for (const [from, list] of named) imports.add(`import { ${list.join(', ')} } from '${from}';`);
  write(e, [...imports, ...decls].join('\n'));
}

// ---- pass 2: with preludes -----------------------------------------------------------------------

const pass2 = check(pass1.program);
const failures = [];
for (const e of entries) {
  for (const d of pass2.byFile.get(e)) {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    let where = `${e.source}:${e.line}`;
    if (d.file && d.start !== undefined) {
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      const exampleLine = line - e.headerLines; // 0-based line inside the example
      if (exampleLine >= 0) where = `${e.source}:${e.line + 1 + exampleLine}`;
    }
    failures.push(`${where} (${e.symbol}, ${path.relative(root, e.file)}): TS${d.code} ${msg}`);
  }
}

const seconds = ((Date.now() - t0) / 1000).toFixed(1);
if (verbose && implicitImports.size > 0) {
  console.log('Names used without an import, imported from their package:');
  for (const [k, n] of [...implicitImports].sort()) console.log(`  ${k} (${n}×)`);
}
if (verbose && untyped.length > 0) {
  console.log(`Names taken as given, declared 'any' (add a typed entry to PLACEHOLDERS to check their use):`);
  for (const u of untyped) console.log(`  ${u}`);
}
for (const f of failures) console.error(f);
const files = new Set(entries.map((e) => e.source)).size;
console.log(
  `check-examples: ${entries.length} @example blocks from ${files} files, ${failures.length} errors, ${untyped.length} names declared any` +
    ` (${skippedBlocks} ts blocks outside @example skipped; ${seconds} s; generated in ${path.relative(root, outDir)}/)`,
);
process.exit(failures.length > 0 ? 1 : 0);
