// One measurement of bench/row-pruning.mjs, run inside the checkout whose advx it measures (imports
// resolve from this file's location): one attack on the first N shipped MNIST test images of a zoo
// model, on wasm. Prints one JSON line: wall time, white-box passes, success rate and a SHA-256 of
// the adversarial batch (equal hashes = bit-for-bit equal results).
//
// node bench/row-pruning-worker.mjs <model> <attack: pgd40 | apgd-ce> <n> <threads>
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { apgdCe, pgd } from '@advx/attacks';
import { useWasm } from '@advx/backend-wasm';
import { loadDataset, loadModel } from '@advx/models-zoo';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const [modelId, attackName, nArg, threadsArg] = process.argv.slice(2);
const n = Number(nArg);
await useWasm({ threads: Number(threadsArg) });
const zoo = await loadModel(modelId, { directory: join(ROOT, 'packages/models-zoo/models', modelId) });
const { x, y } = await loadDataset('mnist', { count: n, source: 'shipped' });
const attack = attackName === 'pgd40' ? pgd({ steps: 40, stepSize: 0.01 }) : apgdCe({ steps: 100 });
// Warm-up on a few images (kernels, wasm code), then the timed run.
const warm = await attack.run(zoo.model, tf.slice(x, 0, 8), { labels: tf.slice(y, 0, 8) }, { epsilons: [0.3], seed: 0 });
warm.dispose();
const t0 = performance.now();
const r = await attack.run(zoo.model, x, { labels: y }, { epsilons: [0.3], seed: 0 });
const bytes = await r.clipped[0].data();
const ms = performance.now() - t0;
const sha256 = createHash('sha256')
  .update(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  .digest('hex');
const success = r.success[0].filter(Boolean).length / n;
console.log(JSON.stringify({ model: modelId, attack: attackName, n, ms: Math.round(ms), passes: r.passes, success, sha256 }));
r.dispose();
