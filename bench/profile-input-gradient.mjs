// Per-kernel profile of one input gradient (mean cross-entropy w.r.t. x) of the zoo's mnist-cnn at
// batch 128 on wasm: `node bench/run-profile.mjs [--threads N] [--runs R]`. Prints img/s (median of R
// runs after 2 warm-ups) and the time per kernel of one run from tf.profile. A tool to find the next
// kernel to speed up; bench/backends.mjs gives the comparable figures.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { useWasm } from '@advx/backend-wasm';
import { loadDataset, loadModel } from '@advx/models-zoo';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const threads = Number(opt('threads', '1'));
const runs = Number(opt('runs', '7'));
const root = resolve(opt('root', '.'));
tf.env().set('PROD', true);
await useWasm({ threads });
const zoo = await loadModel('mnist-cnn', { directory: join(root, 'packages/models-zoo/models/mnist-cnn') });
const { x, y } = await loadDataset('mnist', { count: 128 });
const grad = tf.grad((xb) => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), zoo.model.logits(xb)));
const once = async () => {
  const g = grad(x);
  await g.data();
  g.dispose();
};
await once();
await once();
const times = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  await once();
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const med = times[times.length >> 1];
console.log(
  `input gradient, batch 128, wasm ${threads} thread(s): median ${med.toFixed(1)} ms = ${((128 / med) * 1000).toFixed(0)} img/s (runs: ${times.map((t) => t.toFixed(0)).join(' ')})`,
);
const info = await tf.profile(once);
const byName = new Map();
for (const k of info.kernels) {
  const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
  e.ms += ms;
  e.calls += 1;
  byName.set(k.name, e);
}
const total = [...byName.values()].reduce((s, e) => s + e.ms, 0);
console.log(`tf.profile: ${info.kernels.length} kernels, ${total.toFixed(1)} ms in kernels`);
for (const [name, e] of [...byName].sort((a, b) => b[1].ms - a[1].ms))
  console.log(`  ${name.padEnd(24)} ${e.ms.toFixed(1).padStart(7)} ms  (${e.calls} calls)`);
for (const k of info.kernels.filter((k) => k.kernelTimeMs > 2))
  console.log(`    ${k.name} ${k.inputShapes.map((s) => `[${s}]`).join(' ')} ${k.kernelTimeMs.toFixed(1)} ms`);
tf.dispose([x, y]);
zoo.layers.dispose();
