// Targeted PGD with a minimal visible change: make the zoo's mnist-cnn read each digit as a chosen class
// ("the panda experiment" on MNIST). For each sample we look for the smallest Linf ε on a grid at which
// targeted PGD reaches the target, and report the ε, the L2 size and the model's confidence in the target.
import * as tf from '@tensorflow/tfjs-core';
import { pgd } from '@advx/attacks';
import { useWasm } from '@advx/backend-wasm';
import { loadDataset, loadModel } from '@advx/models-zoo';

tf.env().set('PROD', true);
await useWasm();
const zoo = await loadModel('mnist-cnn');
const { x, y } = await loadDataset('mnist', { count: 8 });
const labels = Array.from(await y.data());
const targets = tf.tensor1d(
  labels.map((l) => (l + 5) % 10),
  'int32',
);
const epsilons = [0.05, 0.1, 0.15, 0.2, 0.25];
const result = await pgd({ steps: 100, relStepSize: 0.05, earlyStop: false }).run(zoo.model, x, { targets, labels: y }, { epsilons, seed: 0, quantize: 8 });

const probs = tf.tidy(() => tf.softmax(zoo.model.logits(result.raw)));
const p = await probs.array();
const t = await targets.data();
const l2 = await tf.tidy(() => tf.sqrt(tf.sum(tf.square(tf.reshape(tf.sub(result.raw, x), [x.shape[0], -1])), 1))).data();
console.log('label → target   smallest Linf ε   L2 of the change   confidence in the target (8-bit image)');
labels.forEach((label, i) => {
  const e = result.success.findIndex((row) => row[i]);
  const eps = e < 0 ? 'not reached' : `${epsilons[e]}`;
  console.log(`    ${label} → ${t[i]}        ${eps.padStart(11)}        ${l2[i].toFixed(2).padStart(8)}            ${(100 * p[i][t[i]]).toFixed(1)} %`);
});
console.log(`8-bit round trip: ${result.quantization.survived.join(', ')} of ${result.quantization.before.join(', ')} adversarials survived per ε`);
tf.dispose([x, y, targets, probs]);
result.dispose();
zoo.layers.dispose();
