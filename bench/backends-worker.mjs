// One process of the backends benchmark (bench/backends.mjs starts it; not meant to be run alone).
//
// Bundled by scripts/run-bundled.mjs (tfjs-core's Node entry registers no gradients), then run with
// the arguments of the launcher:
//   --role export                       writes the zoo's mnist-cnn weights, a batch of MNIST test
//                                       images and the tfjs (cpu) logits to --work, for the PyTorch side
//   --role bench --backend cpu|wasm|webgpu [--threads N] --plan '<json>'
//                                       times the workloads on one backend and writes a JSON result
//   --work DIR --out FILE
//
// One process per backend and thread count: the wasm thread count is fixed when the backend starts,
// and process-wide figures (peak RSS) then belong to one configuration.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { pgd } from '@advx/attacks';
import { useWasm } from '@advx/backend-wasm';
import { useWebGPU } from '@advx/backend-webgpu';
import { adversarialTraining } from '@advx/defenses';
import { loadDataset, loadModel } from '@advx/models-zoo';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const ROLE = opt('role', 'bench');
const WORK = resolve(opt('work', 'bench/.work'));
const OUT = resolve(opt('out', join(WORK, 'result.json')));
const ROOT = resolve(opt('root', '.'));
const BATCH = 128;
const EPSILON = 0.3;
const NUM_CLASSES = 10;

tf.env().set('PROD', true);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (v, d = 1) => +v.toFixed(d);
const log = (...m) => process.stderr.write(`[${opt('name', ROLE)}] ${m.join(' ')}\n`);

function zooModel() {
  // The bundle lives outside the zoo package, so the zoo cannot find its own folder: name it.
  return loadModel('mnist-cnn', { directory: join(ROOT, 'packages/models-zoo/models/mnist-cnn') });
}

/** Mean cross-entropy of integer labels (what the PyTorch side uses: F.cross_entropy). */
const ce = (logits, labels) => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, NUM_CLASSES), logits);
/** The trainers' loss (packages/defenses/src/internal/train-loop.ts softCrossEntropy). */
const softCe = (logits, targets) => tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1)));

/** `n` uniform values in [0, 1) from mulberry32 seeded with `seed`. */
function uniformNoise(n, seed) {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

async function exportForPyTorch() {
  if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend did not start');
  const zoo = await zooModel();
  const data = await loadDataset('mnist', { count: BATCH });
  const names = zoo.layers.weights.map((w) => w.originalName ?? w.name);
  const values = zoo.layers.getWeights();
  const parts = [];
  const manifest = [];
  let offset = 0;
  for (let i = 0; i < values.length; i++) {
    const v = await values[i].data();
    manifest.push({ name: names[i], shape: values[i].shape, offset, length: v.length });
    parts.push(Float32Array.from(v));
    offset += v.length;
  }
  const logits = tf.tidy(() => zoo.model.logits(data.x));
  const x = await data.x.data();
  const labels = await data.y.data();
  const l = await logits.data();
  // Uniform noise images (seeded): no tied max-pooling windows, so input gradients can be compared exactly.
  const noise = uniformNoise(x.length, 1);
  const floats = new Float32Array(offset + x.length + noise.length + l.length);
  let at = 0;
  for (const p of parts) {
    floats.set(p, at);
    at += p.length;
  }
  floats.set(x, at);
  floats.set(noise, at + x.length);
  floats.set(l, at + x.length + noise.length);
  writeFileSync(join(WORK, 'export-data.bin'), new Uint8Array(floats.buffer));
  const meta = {
    model: 'mnist-cnn',
    layout: 'tfjs layers: NHWC input, conv kernels [kh, kw, in, out], dense kernels [in, out]; float32 little-endian',
    weights: manifest,
    x: { shape: data.x.shape, offset: at },
    xNoise: { shape: data.x.shape, offset: at + x.length },
    tfjsLogits: { shape: logits.shape, offset: at + x.length + noise.length, backend: 'cpu' },
    labels: Array.from(labels),
    dataSource: data.source,
    sha256OfWeights: zoo.card.files.find((f) => f.path === 'weights.bin')?.sha256,
  };
  writeFileSync(join(WORK, 'export-data.json'), JSON.stringify(meta, null, 1));
  tf.dispose([logits, data.x, data.y]);
  zoo.layers.dispose();
  writeFileSync(OUT, JSON.stringify({ ok: true, parameters: offset }));
  log(`exported ${offset} weights and ${BATCH} MNIST test images`);
}

async function setUpBackend(backend, threads) {
  if (backend === 'cpu') {
    if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend did not start');
    return { backend: 'cpu' };
  }
  if (backend === 'wasm') return { ...(await useWasm({ threads })) };
  if (backend === 'webgpu') {
    // The lavapipe driver of packages/backend-webgpu/scripts/install-lavapipe.sh, when nothing else is set.
    const icd = join(ROOT, '.gl/lavapipe/lvp_icd.json');
    if (process.env.VK_ICD_FILENAMES === undefined && existsSync(icd)) process.env.VK_ICD_FILENAMES = icd;
    return { ...(await useWebGPU()), vkIcd: process.env.VK_ICD_FILENAMES ?? null };
  }
  throw new Error(`unknown backend ${backend}`);
}

/**
 * Times `once` (an async function that finishes its work, results read back) on `spec.batch` images:
 * `spec.runs` timed runs, after one untimed warm-up unless `spec.warmup` is false (PGD reuses the
 * kernels the input gradient warmed up; on the slow engines a second attack would not fit in the
 * time). One run goes through tf.profile for the peak of tf.memory().numBytes after any kernel and the
 * time per kernel: the warm-up (`spec.profile` 'warmup', the default) or the first timed run ('first':
 * on cpu and wasm, where the profiler only reads the clock around each kernel), or none ('none').
 */
async function timeIt(name, spec, once) {
  const { batch, runs, warmup = true } = spec;
  const profileAt = spec.profile ?? (warmup ? 'warmup' : 'none');
  const tensorsBefore = tf.memory().numTensors;
  let profile;
  const profiled = async () => {
    try {
      const info = await tf.profile(once);
      const byKernel = new Map();
      for (const k of info.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs || 0));
      const top = [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 8);
      profile = {
        peakBytes: info.peakBytes,
        kernels: info.kernels.length,
        topKernelsMs: top[0]?.[1] > 0 ? Object.fromEntries(top.map(([k, t]) => [k, Math.round(t)])) : undefined,
      };
    } catch (e) {
      profile = { error: String(e?.message ?? e).slice(0, 200) };
    }
  };
  let warmupMs;
  if (warmup) {
    const t0 = performance.now();
    if (profileAt === 'warmup') await profiled();
    else await once();
    warmupMs = Math.round(performance.now() - t0);
  }
  const tensorsAfterWarmup = tf.memory().numTensors;
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    if (i === 0 && profileAt === 'first') await profiled();
    else await once();
    ms.push(performance.now() - s);
  }
  const tensorsAfterRuns = tf.memory().numTensors;
  const med = median(ms);
  const row = {
    batch,
    runs,
    imgPerSec: round((batch * 1000) / med, 2),
    medianMs: round(med),
    runsMs: ms.map((v) => Math.round(v)),
    warmupMs,
    profiledRun: profileAt,
    peakBytes: profile?.peakBytes,
    kernelsPerRun: profile?.kernels,
    topKernelsMs: profile?.topKernelsMs,
    profileError: profile?.error,
    tensorsBefore,
    tensorsAfterWarmup,
    tensorsAfterRuns,
    // Without a warm-up the first run may create state the workload keeps (Adam's moments).
    tensorsFlat: warmup ? tensorsAfterWarmup === tensorsAfterRuns : undefined,
  };
  log(`${name} (batch ${batch}): ${row.imgPerSec} img/s, median ${row.medianMs} ms of [${row.runsMs.join(', ')}]${warmup ? `, warm-up ${warmupMs} ms` : ''}`);
  return row;
}

function readExport() {
  const meta = JSON.parse(readFileSync(join(WORK, 'export-data.json'), 'utf8'));
  const buf = readFileSync(join(WORK, 'export-data.bin'));
  const floats = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const n = meta.x.shape.reduce((a, b) => a * b, 1);
  return {
    meta,
    x: floats.slice(meta.x.offset, meta.x.offset + n),
    xNoise: floats.slice(meta.xNoise.offset, meta.xNoise.offset + n),
    labels: Int32Array.from(meta.labels),
  };
}

function readPyTorchReference() {
  const path = join(WORK, 'pytorch-reference.json');
  if (!existsSync(path)) return undefined;
  const ref = JSON.parse(readFileSync(path, 'utf8'));
  const buf = readFileSync(join(WORK, 'pytorch-reference.bin'));
  const floats = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const part = (k) => floats.slice(ref[k].offset, ref[k].offset + ref[k].length);
  return { ref, logits: part('logits'), inputGrad: part('inputGrad'), inputGradNoise: part('inputGradNoise') };
}

function compare(a, b) {
  let maxAbs = 0;
  let maxRef = 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
    maxRef = Math.max(maxRef, Math.abs(b[i]));
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return { maxAbsDiff: maxAbs, maxAbsReference: maxRef, relMaxDiff: maxAbs / maxRef, cosine: dot / Math.sqrt(na * nb) };
}

async function bench(backend, threads, plan) {
  const startedAt = new Date().toISOString();
  const setup = await setUpBackend(backend, threads);
  await tf.ready();
  log(`backend ${tf.getBackend()} ${JSON.stringify({ ...setup, kernels: setup.kernels?.length })}`);
  const { x: xAll, xNoise, labels: labelsAll } = readExport();
  const reference = readPyTorchReference();
  const zoo = await zooModel();
  const trainZoo = await zooModel(); // the training step changes weights: its own copy
  const model = zoo.model;
  const tensorsAtStart = tf.memory().numTensors;

  const batchOf = (b) => ({
    x: tf.tensor4d(xAll.subarray(0, b * 784), [b, 28, 28, 1]),
    labels: tf.tensor1d(labelsAll.subarray(0, b), 'int32'),
  });
  const result = {
    backend,
    threads: backend === 'wasm' ? threads : undefined,
    engine: tf.getBackend(),
    setup: { ...setup, kernels: setup.kernels },
    plan,
    startedAt,
    workloads: {},
  };

  // Correctness against PyTorch on the same 128 images (logits and input gradient of the CE loss).
  if (reference) {
    const full = batchOf(BATCH);
    const logits = tf.tidy(() => model.logits(full.x));
    const grad = tf.tidy(() => tf.grad((xx) => ce(model.logits(xx), full.labels))(full.x));
    const noise = tf.tensor4d(xNoise, [BATCH, 28, 28, 1]);
    const gradNoise = tf.tidy(() => tf.grad((xx) => ce(model.logits(xx), full.labels))(noise));
    result.vsPyTorch = {
      logits: compare(await logits.data(), reference.logits),
      inputGradNoise: compare(await gradNoise.data(), reference.inputGradNoise),
      inputGrad: compare(await grad.data(), reference.inputGrad),
      note:
        'inputGradNoise: on uniform-noise images (no tied pooling windows) the gradients must agree. inputGrad: on MNIST images max pooling ' +
        'routes the gradient of a tied window (constant background after conv + ReLU) to a different element on each engine (PyTorch and ' +
        'tfjs cpu: the first maximum, tfjs webgpu: the last), all valid subgradients, so those gradients differ in places.',
    };
    tf.dispose([logits, grad, noise, gradNoise, full.x, full.labels]);
    const v = result.vsPyTorch;
    log(
      `vs PyTorch: logits max |diff| ${v.logits.maxAbsDiff.toExponential(2)}; input gradient on noise: relative max |diff| ` +
        `${v.inputGradNoise.relMaxDiff.toExponential(2)}, cosine ${v.inputGradNoise.cosine.toFixed(6)}; on MNIST (ties): cosine ${v.inputGrad.cosine.toFixed(4)}`,
    );
  }

  const w = plan.workloads;
  // Saved after every workload, so that an interrupted run keeps what it measured (partial: true).
  const save = () => writeFileSync(OUT, JSON.stringify({ ...result, partial: true }, null, 1));
  if (w.forward) {
    const { x, labels } = batchOf(w.forward.batch);
    result.workloads.forward = await timeIt('forward', w.forward, async () => {
      const y = tf.tidy(() => model.logits(x));
      await y.data();
      y.dispose();
    });
    tf.dispose([x, labels]);
    save();
  }
  if (w.inputGrad) {
    const { x, labels } = batchOf(w.inputGrad.batch);
    result.workloads.inputGrad = await timeIt('inputGrad', w.inputGrad, async () => {
      const g = tf.tidy(() => tf.grad((xx) => ce(model.logits(xx), labels))(x));
      await g.data();
      g.dispose();
    });
    tf.dispose([x, labels]);
    save();
  }
  // Tensor counts across many input-gradient steps (a smaller batch: counts do not depend on it).
  if (plan.leak) {
    const { x, labels } = batchOf(plan.leak.batch);
    const every = plan.leak.steps / 4;
    const counts = [];
    const t0 = performance.now();
    for (let i = 0; i <= plan.leak.steps; i++) {
      if (i % every === 0) counts.push({ step: i, numTensors: tf.memory().numTensors });
      if (i === plan.leak.steps) break;
      const g = tf.tidy(() => tf.grad((xx) => ce(model.logits(xx), labels))(x));
      await g.data();
      g.dispose();
    }
    result.leak = {
      steps: plan.leak.steps,
      batch: plan.leak.batch,
      counts,
      flat: counts.every((c) => c.numTensors === counts[0].numTensors),
      seconds: round((performance.now() - t0) / 1000),
    };
    tf.dispose([x, labels]);
    log(`leak check: ${plan.leak.steps} input-gradient steps, numTensors ${counts.map((c) => c.numTensors).join(' → ')}`);
    save();
  }

  if (w.pgd40) {
    const { x, labels } = batchOf(w.pgd40.batch);
    // The library's attack, all 40 steps on every sample (earlyStop off: PyTorch's loop runs 40 steps too).
    const attack = pgd({ norm: 'linf', steps: 40, relStepSize: 0.01 / 0.3, randomStart: true, earlyStop: false });
    let seed = 0;
    let successRate;
    result.workloads.pgd40 = await timeIt('pgd40', w.pgd40, async () => {
      const r = await attack.run(model, x, { labels }, { epsilons: [EPSILON], seed: seed++ });
      const s = r.success[0];
      successRate = s.filter(Boolean).length / s.length;
      r.dispose();
    });
    result.workloads.pgd40.successRate = successRate;
    result.workloads.pgd40.options = 'pgd({ norm: linf, steps: 40, relStepSize: 0.01/0.3 (α = 0.01), randomStart: true, earlyStop: false }), ε = 0.3';
    tf.dispose([x, labels]);
    save();
  }
  if (w.advTrain) {
    const { x, labels } = batchOf(w.advTrain.batch);
    const targets = tf.tidy(() => tf.cast(tf.oneHot(labels, NUM_CLASSES), 'float32'));
    const fgsmRs = pgd({ steps: 1, relStepSize: 1.25 }); // FGSM with random start (Wong et al.), as the trainer's docs
    const optimizer = tf.train.adam(1e-3);
    const variables = trainZoo.layers.trainableWeights.map((v) => v.read());
    let seed = 0;
    result.workloads.advTrain = await timeIt('advTrain', w.advTrain, async () => {
      const r = await fgsmRs.run(trainZoo.model, x, { labels }, { epsilons: [EPSILON], seed: seed++ });
      const xAdv = r.clipped[0];
      const cost = optimizer.minimize(() => softCe(trainZoo.model.logits(xAdv), targets), true, variables);
      await cost.data();
      cost.dispose();
      r.dispose();
    });
    result.workloads.advTrain.path =
      "direct step, the body of @advx/defenses' adversarialTraining batch loop: pgd({ steps: 1, relStepSize: 1.25 }).run (FGSM-RS, ε = 0.3) " +
      'then optimizer.minimize (tf.train.adam(1e-3)) of the soft cross-entropy on the adversarial batch';
    optimizer.dispose();
    tf.dispose([x, labels, targets]);
    save();
  }
  if (w.trainerFit) {
    const { x, labels } = batchOf(w.trainerFit.batch);
    const trainer = adversarialTraining({ attack: pgd({ steps: 1, relStepSize: 1.25 }), epsilon: EPSILON, epochs: 1, batchSize: w.trainerFit.batch });
    result.workloads.trainerFit = await timeIt('trainerFit', w.trainerFit, async () => {
      const r = await trainer.fit(trainZoo.layers, { x, y: labels }, { seed: 1 });
      r.model.dispose();
    });
    result.workloads.trainerFit.path =
      'adversarialTraining({ attack: FGSM-RS, epsilon: 0.3, epochs: 1 }).fit on exactly one batch: one Adam step plus what fit adds per call ' +
      '(input validation, cloning the model, one-hot targets)';
    tf.dispose([x, labels]);
    save();
  }

  result.tensors = { atStart: tensorsAtStart, atEnd: tf.memory().numTensors };
  result.tensors.flat = result.tensors.atStart === result.tensors.atEnd;
  zoo.layers.dispose();
  trainZoo.layers.dispose();
  result.memory = { tfMemoryAtEnd: tf.memory(), maxRssBytes: process.resourceUsage().maxRSS * 1024 };
  result.endedAt = new Date().toISOString();
  writeFileSync(OUT, JSON.stringify(result, null, 1));
}

if (ROLE === 'export') {
  await exportForPyTorch();
} else {
  await bench(opt('backend', 'cpu'), Number(opt('threads', '1')), JSON.parse(opt('plan', '{}')));
}
