/**
 * Builds the docs site (`npm run docs`, after typedoc wrote docs/api): copies the assets the
 * playground loads (the zoo models it offers and the MNIST evaluation set, tfjs-backend-wasm's
 * binaries) into docs/public/, then runs `vitepress build docs` and fails on any warning or dead
 * link (VitePress fails on dead internal links itself). Output: docs/.vitepress/dist.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const docs = fileURLToPath(new URL('../', import.meta.url));
const require = createRequire(import.meta.url);
const zoo = dirname(require.resolve('@advx/models-zoo/package.json'));
const wasm = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');

/** The zoo models the playground offers (docs/.vitepress/theme/playground/protocol.ts). */
export const PLAYGROUND_MODELS = ['mnist-cnn', 'mnist-cnn-at', 'mnist-mlp'];

rmSync(join(docs, 'public', 'zoo'), { recursive: true, force: true });
mkdirSync(join(docs, 'public', 'zoo', 'models'), { recursive: true });
for (const id of PLAYGROUND_MODELS) cpSync(join(zoo, 'models', id), join(docs, 'public', 'zoo', 'models', id), { recursive: true });
cpSync(join(zoo, 'data'), join(docs, 'public', 'zoo', 'data'), { recursive: true });
mkdirSync(join(docs, 'public', 'wasm'), { recursive: true });
for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) cpSync(join(wasm, f), join(docs, 'public', 'wasm', f));

const out = spawnSync(process.execPath, [join(docs, '..', 'node_modules', 'vitepress', 'bin', 'vitepress.js'), 'build', 'docs'], { encoding: 'utf8', cwd: join(docs, '..') });
process.stdout.write(out.stdout);
process.stderr.write(out.stderr);
const warnings = `${out.stdout}\n${out.stderr}`.split('\n').filter((l) => /\(!\)|warn|dead link/i.test(l));
if (out.status !== 0) process.exit(out.status ?? 1);
if (warnings.length > 0) {
  console.error(`docs: the site build printed ${warnings.length} warning line(s); fix them:\n${warnings.join('\n')}`);
  process.exit(1);
}
