/**
 * Importing `@advx/backend-wasm` must not change tfjs's global state: before `useWasm()`, no wasm
 * backend is registered (the stock tfjs-backend-wasm registers itself when imported, at a higher
 * priority than cpu, and would become the default backend without the advx kernels), and the
 * default backend stays cpu. Checked in fresh Node processes (the engine is a process-wide
 * singleton): the sources (bundled for Node with esbuild) and, once built, dist/ in ESM and CJS.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const pkgRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(pkgRoot, '..', '..');
const distBuilt = existsSync(join(pkgRoot, 'dist', 'index.js')) && existsSync(join(pkgRoot, 'dist', 'platform-node.js'));

/** Prints the wasm factory and the backend after the import, then after useWasm(). */
const ESM_PROGRAM = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { useWasm } from '@advx/backend-wasm';
tf.env().set('PROD', true);
const before = { wasmFactory: tf.findBackendFactory('wasm') !== null, backends: Object.keys(tf.engine().registryFactory).sort() };
await tf.ready();
before.backend = tf.getBackend();
const info = await useWasm();
console.log(JSON.stringify({ before, after: { backend: tf.getBackend(), kernels: info.kernels.length } }));
`;

const CJS_PROGRAM = `
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const { useWasm } = require('@advx/backend-wasm');
tf.env().set('PROD', true);
const before = { wasmFactory: tf.findBackendFactory('wasm') !== null, backends: Object.keys(tf.engine().registryFactory).sort() };
tf.ready().then(async () => {
  before.backend = tf.getBackend();
  const info = await useWasm();
  console.log(JSON.stringify({ before, after: { backend: tf.getBackend(), kernels: info.kernels.length } }));
});
`;

interface Observed {
  before: { wasmFactory: boolean; backends: string[]; backend: string };
  after: { backend: string; kernels: number };
}

function run(args: string[]): Observed {
  const out = execFileSync(process.execPath, args, { cwd: pkgRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const line = out.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Observed;
}

function expectNoImportEffect(o: Observed): void {
  expect(o.before).toEqual({ wasmFactory: false, backends: ['cpu'], backend: 'cpu' });
  // useWasm() itself still does the work.
  expect(o.after.backend).toBe('wasm');
  expect(o.after.kernels).toBeGreaterThan(5);
}

describe("import '@advx/backend-wasm' changes no global state", () => {
  it('from the sources (bundled for Node)', async () => {
    const cache = join(repoRoot, 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    const dir = mkdtempSync(join(cache, 'advx-wasm-import-'));
    try {
      const file = join(dir, 'program.mjs');
      await build({
        stdin: { contents: ESM_PROGRAM, resolveDir: pkgRoot, loader: 'ts' },
        bundle: true,
        outfile: file,
        platform: 'node',
        format: 'esm',
        conditions: ['@advx/source'],
        // The tfjs packages stay Node's; tfjs-core's gradient registrations (a deep import in core's
        // sources, which Node cannot load) are bundled, as core's Node build does.
        plugins: [
          {
            name: 'tfjs-packages-external',
            setup(b) {
              b.onResolve({ filter: /^@tensorflow\/tfjs-(core|backend-cpu|backend-wasm)$/ }, (a) => ({ path: a.path, external: true }));
            },
          },
        ],
        logLevel: 'silent',
      });
      expectNoImportEffect(run([file]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!distBuilt)('from dist/, ESM and CommonJS (skipped before `npm run build`)', () => {
    expectNoImportEffect(run(['--input-type=module', '-e', ESM_PROGRAM]));
    expectNoImportEffect(run(['-e', CJS_PROGRAM]));
  });
});
