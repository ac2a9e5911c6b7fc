/**
 * `@advx/core` lists `@tensorflow/tfjs-layers` and `@tensorflow/tfjs-converter` as optional peers: a user
 * who installs neither must still get working types. The test emits core's declarations from its
 * sources, puts them in a temporary `node_modules/@advx/core` next to tfjs-core only, and type-checks a
 * small consumer there with `skipLibCheck: false`, so an import of either package in the declarations
 * fails (TS2307), and a declaration that degraded to `any` makes the `@ts-expect-error` lines fail.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../../..');
const coreDir = path.resolve(__dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(coreDir, 'package.json'), 'utf8')) as {
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};
const OPTIONAL = ['@tensorflow/tfjs-converter', '@tensorflow/tfjs-layers'];

const tmp = mkdtempSync(path.join(os.tmpdir(), 'advx-core-types-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function format(diagnostics: readonly ts.Diagnostic[]): string[] {
  return diagnostics.map((d) => {
    const where = d.file === undefined ? '' : `${path.relative(tmp, d.file.fileName)}: `;
    return `${where}TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

/** Emits core's .d.ts files from src/ into `outDir`; returns their text by relative path. */
function emitDeclarations(outDir: string): Map<string, string> {
  const program = ts.createProgram([path.join(coreDir, 'src/index.ts'), path.join(coreDir, 'src/register-gradients.ts')], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    customConditions: ['@advx/source'],
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    strict: true,
    skipLibCheck: true,
    declaration: true,
    emitDeclarationOnly: true,
    rootDir: path.join(coreDir, 'src'),
    outDir,
  });
  const emitted = new Map<string, string>();
  const result = program.emit(undefined, (fileName, text) => {
    mkdirSync(path.dirname(fileName), { recursive: true });
    writeFileSync(fileName, text);
    emitted.set(path.relative(outDir, fileName), text);
  });
  expect(format(result.diagnostics)).toEqual([]);
  return emitted;
}

const CONSUMER = `
import * as tf from '@tensorflow/tfjs-core';
import { fromGraphModel, fromLayersModel, type GraphModelLike, type LayersModelLike, type Model } from '@advx/core';

declare const net: LayersModelLike;
declare const graph: GraphModelLike;
const a: Model = fromLayersModel(net, { bounds: [0, 1] });
const b: Model = fromGraphModel(graph, { bounds: [0, 1], output: 'logits' });
export const classes: number = a.numClasses + b.numClasses;
export const logits: tf.Tensor2D = a.logits(tf.zeros([1, 4]));

// @ts-expect-error a plain object is no LayersModel (fails if the parameter type degraded to any)
fromLayersModel({}, { bounds: [0, 1] });
// @ts-expect-error a graph needs inputs, outputs and execute
fromGraphModel({ inputs: [] }, { bounds: [0, 1], output: 'logits' });
`;

describe('@advx/core types without tfjs-layers and tfjs-converter', () => {
  it('lists both as optional peers of the same tfjs version as tfjs-core', () => {
    for (const name of OPTIONAL) {
      expect(pkg.peerDependencies[name]).toBe(pkg.peerDependencies['@tensorflow/tfjs-core']);
      expect(pkg.peerDependenciesMeta[name]).toEqual({ optional: true });
    }
  });

  it('type-checks a consumer that has only tfjs-core and @advx/core installed', () => {
    const modules = path.join(tmp, 'node_modules');
    const coreOut = path.join(modules, '@advx/core');
    const emitted = emitDeclarations(path.join(coreOut, 'dist'));
    expect(emitted.has('index.d.ts')).toBe(true);
    const imported = [...emitted.values()].flatMap((text) => ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName));
    expect(imported).toContain('@tensorflow/tfjs-core');
    expect(imported.filter((name) => /tfjs-(layers|converter)/.test(name))).toEqual([]);
    const types = (entry: string) => ({ types: `./dist/${entry}.d.ts` });
    writeFileSync(
      path.join(coreOut, 'package.json'),
      JSON.stringify({
        name: '@advx/core',
        type: 'module',
        exports: { '.': types('index'), './register-gradients': types('register-gradients') },
      }),
    );
    mkdirSync(path.join(modules, '@tensorflow'), { recursive: true });
    symlinkSync(path.join(root, 'node_modules/@tensorflow/tfjs-core'), path.join(modules, '@tensorflow/tfjs-core'), 'dir');
    const consumer = path.join(tmp, 'consumer.ts');
    writeFileSync(consumer, CONSUMER);

    const program = ts.createProgram([consumer], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
      types: [],
      strict: true,
      skipLibCheck: false,
      noEmit: true,
    });
    const seen = program.getSourceFiles().map((f) => f.fileName);
    expect(seen.some((f) => f.includes('tfjs-layers') || f.includes('tfjs-converter'))).toBe(false);
    expect(seen).toContain(path.join(coreOut, 'dist/adapters/from-layers-model.d.ts'));
    const coreAndConsumer = program
      .getSourceFiles()
      .filter((f) => !f.fileName.includes('/node_modules/@tensorflow/') && !f.fileName.includes('/typescript/lib/'));
    const diagnostics = [
      ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...coreAndConsumer.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
    ];
    expect(format(diagnostics)).toEqual([]);
  });
});
