// The advx quick start (`npm start`): how robust is a bundled MNIST CNN, against which attacks, at which ε?
//
// Loads the zoo's `mnist-cnn` and the MNIST evaluation set shipped in @advx/models-zoo, sets up the wasm
// backend with the @advx/backend-wasm gradient kernels, and prints clean accuracy and robust accuracy
// under FGSM, PGD-40 and APGD-CE for several Linf ε, then the same for the adversarially trained
// `mnist-cnn-at` when it is in the zoo. (`advx eval` of @advx/eval replaces this script when it lands.)
import os from 'node:os';

import * as tf from '@tensorflow/tfjs-core';
import { apgdCe, fgsm, pgd } from '@advx/attacks';
import { useWasm } from '@advx/backend-wasm';
import { listModels, loadDataset, loadModel } from '@advx/models-zoo';

const N = Number(process.env.ADVX_N ?? 300);
const epsilons = [0.1, 0.2, 0.3];

tf.env().set('PROD', true);
const info = await useWasm({ threads: Math.min(2, os.availableParallelism()) });
console.log(`backend: ${info.backend} (SIMD ${info.simd}, ${info.threads} threads), tfjs ${tf.version_core}`);
const { x, y } = await loadDataset('mnist', { count: N });
const available = new Set((await listModels()).map((m) => m.id));

for (const id of ['mnist-cnn', 'mnist-cnn-at'].filter((m) => available.has(m))) {
  const zoo = await loadModel(id);
  const clean = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(zoo.model.logits(x), 1), y), 'float32')));
  console.log(`\n${id}: ${zoo.card.title}`);
  console.log(`clean accuracy ${((await clean.data())[0] * 100).toFixed(1)} % on the first ${N} MNIST test images`);
  clean.dispose();
  console.log(`robust accuracy (Linf)   ${epsilons.map((e) => `ε=${e}`.padStart(8)).join('')}     time`);
  for (const [name, attack] of [
    ['FGSM', fgsm()],
    ['PGD-40', pgd({ steps: 40, stepSize: 0.01 })],
    ['APGD-CE-100', apgdCe({ steps: 100 })],
  ]) {
    const t0 = performance.now();
    const result = await attack.run(zoo.model, x, { labels: y }, { epsilons, seed: 0 });
    const cells = result.success.map((s) => `${((100 * s.filter((v) => !v).length) / s.length).toFixed(1)} %`.padStart(8));
    console.log(`${name.padEnd(24)}${cells.join('')} ${((performance.now() - t0) / 1000).toFixed(1).padStart(7)} s`);
    result.dispose();
  }
  zoo.layers.dispose();
}
tf.dispose([x, y]);
