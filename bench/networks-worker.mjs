// One tfjs process of the networks benchmark (bench/networks.mjs starts it; not meant to be run alone).
//
// Bundled by scripts/run-bundled.mjs (tfjs-core's Node entry registers no gradients). Builds the
// MobileNetV2-style and ResNet-18-style networks of bench/networks_torch.py with plain tfjs ops (NHWC)
// from the weights that script exported (PyTorch layouts, converted here), wraps them with
// fromFunction of @advx/core, and:
//   --role check --backend B --nets a,b --out FILE
//       logits and input gradient of the exported reference images against PyTorch's, per network
//   --role bench --backend B [--threads N] --net NAME --plan '<json>' --out FILE
//       times forward, input gradient and PGD-10 (the library's pgd) on one network, with
//       tf.profile of one input gradient (peak tf.memory, time per kernel)
//   --work DIR --root DIR
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { pgd } from '@advx/attacks';
import { useWasm } from '@advx/backend-wasm';
import { useWebGPU } from '@advx/backend-webgpu';
import { fromFunction } from '@advx/core';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const ROLE = opt('role', 'bench');
const WORK = resolve(opt('work', 'bench/.tmp/nets'));
const OUT = resolve(opt('out', join(WORK, 'result.json')));
const ROOT = resolve(opt('root', '.'));
const EPSILON = 8 / 255;

tf.env().set('PROD', true);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (v, d = 1) => +v.toFixed(d);
const log = (...m) => process.stderr.write(`[${opt('name', ROLE)}] ${m.join(' ')}\n`);

/** The exported weights of `net` as tfjs tensors in tfjs layouts, and the reference batch. */
function readNet(net) {
  const meta = JSON.parse(readFileSync(join(WORK, `${net}.json`), 'utf8'));
  const buf = readFileSync(join(WORK, `${net}.bin`));
  const floats = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const part = (e) => floats.subarray(e.offset, e.offset + e.length);
  const raw = new Map(meta.weights.map((e) => [e.name, { shape: e.shape, values: part(e) }]));
  const ref = meta.reference;
  return {
    meta,
    raw,
    reference: { x: part(ref.x), logits: part(ref.logits), inputGrad: part(ref.inputGrad), labels: Int32Array.from(ref.labels), batch: ref.batch },
  };
}

/**
 * Builds the network's forward function from PyTorch-layout weights: conv [out, in, kh, kw] →
 * [kh, kw, in, out]; depthwise [C, 1, kh, kw] → [kh, kw, C, 1]; linear [out, in] → [in, out]. Batch
 * norm in inference mode (tf.batchNorm with the running statistics, eps 1e-5, as PyTorch), not folded.
 */
function buildNet(net, raw) {
  const weights = [];
  const t = (name, perm) => {
    const w = raw.get(name);
    if (w === undefined) throw new Error(`${net}: no weight ${name}`);
    const base = tf.tensor(w.values, w.shape, 'float32');
    const out = perm ? tf.transpose(base, perm) : base;
    if (perm) base.dispose();
    weights.push(out);
    return out;
  };
  const convBn = (prefix, { depthwise = false, stride = 1 } = {}) => {
    const shape = raw.get(`${prefix}.0.weight`).shape;
    const k = shape[2];
    const filter = t(`${prefix}.0.weight`, depthwise ? [2, 3, 0, 1] : [2, 3, 1, 0]);
    const bn = ['running_mean', 'running_var', 'bias', 'weight'].map((p) => t(`${prefix}.1.${p}`));
    const pad = k === 1 ? 'valid' : (k - 1) / 2;
    return (x) => {
      const y = depthwise ? tf.depthwiseConv2d(x, filter, stride, pad) : tf.conv2d(x, filter, stride, pad);
      return tf.batchNorm(y, bn[0], bn[1], bn[2], bn[3], 1e-5);
    };
  };
  const fcW = t('fc.weight', [1, 0]);
  const fcB = t('fc.bias');
  const small = net.endsWith('-32');
  const fc = (x) => tf.add(tf.matMul(tf.mean(x, [1, 2]), fcW), fcB);
  let forward;
  if (net.startsWith('mobilenetv2')) {
    const config = [
      [1, 16, 1, 1],
      [6, 24, 2, 2],
      [6, 32, 3, 2],
      [6, 64, 4, 2],
      [6, 96, 3, 1],
      [6, 160, 3, 2],
      [6, 320, 1, 1],
    ];
    const stem = convBn('stem', { stride: small ? 1 : 2 });
    const blocks = [];
    let cin = 32;
    config.forEach(([e, c, n, s], i) => {
      const stage = small && i === 1 ? 1 : s;
      for (let j = 0; j < n; j++) {
        const stride = j === 0 ? stage : 1;
        const p = `blocks.${blocks.length}`;
        const expand = e !== 1 ? convBn(`${p}.expand`) : null;
        const dw = convBn(`${p}.dw`, { depthwise: true, stride });
        const project = convBn(`${p}.project`);
        const residual = stride === 1 && cin === c;
        blocks.push((x) => {
          const h = project(tf.relu6(dw(expand ? tf.relu6(expand(x)) : x)));
          return residual ? tf.add(x, h) : h;
        });
        cin = c;
      }
    });
    const head = convBn('head');
    forward = (x) => fc(tf.relu6(head(blocks.reduce((h, b) => b(h), tf.relu6(stem(x))))));
  } else {
    const stem = convBn('stem', { stride: small ? 1 : 2 });
    const blocks = [];
    let cin = 64;
    [64, 128, 256, 512].forEach((c, i) => {
      for (let j = 0; j < 2; j++) {
        const stride = i > 0 && j === 0 ? 2 : 1;
        const p = `blocks.${blocks.length}`;
        const a = convBn(`${p}.a`, { stride });
        const b = convBn(`${p}.b`);
        const down = stride !== 1 || cin !== c ? convBn(`${p}.down`, { stride }) : null;
        blocks.push((x) => tf.relu(tf.add(b(tf.relu(a(x))), down ? down(x) : x)));
        cin = c;
      }
    });
    forward = (x) => {
      let h = tf.relu(stem(x));
      if (!small) h = tf.maxPool(h, 3, 2, 1);
      return fc(blocks.reduce((hh, b) => b(hh), h));
    };
  }
  return { forward, weights };
}

function makeModel(net) {
  const { meta, raw, reference } = readNet(net);
  const { forward, weights } = buildNet(net, raw);
  const model = fromFunction(forward, { inputShape: meta.inputShape, numClasses: meta.numClasses, bounds: [0, 1], output: 'logits' });
  return { meta, model, reference, dispose: () => tf.dispose(weights) };
}

/** Mean cross-entropy of integer labels (PyTorch's F.cross_entropy). */
const ce = (logits, labels, k) => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, k), logits);

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

async function setUpBackend(backend, threads) {
  if (backend === 'cpu') {
    if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend did not start');
    return { backend: 'cpu' };
  }
  if (backend === 'wasm') return { ...(await useWasm({ threads })) };
  if (backend === 'webgpu') {
    const icd = join(ROOT, '.gl/lavapipe/lvp_icd.json');
    if (process.env.VK_ICD_FILENAMES === undefined && existsSync(icd)) process.env.VK_ICD_FILENAMES = icd;
    return { ...(await useWebGPU()), vkIcd: process.env.VK_ICD_FILENAMES ?? null };
  }
  throw new Error(`unknown backend ${backend}`);
}

/** Logits and input gradients of the reference images, against PyTorch's. */
async function check(net, batch) {
  const { meta, model, reference, dispose } = makeModel(net);
  const [h, w, c] = meta.inputShape;
  const n = Math.min(batch ?? reference.batch, reference.batch);
  const per = h * w * c;
  const x = tf.tensor4d(reference.x.subarray(0, n * per), [n, h, w, c]);
  const labels = tf.tensor1d(reference.labels.subarray(0, n), 'int32');
  const before = tf.memory().numTensors;
  const t0 = performance.now();
  const logits = tf.tidy(() => model.logits(x));
  const grad = tf.tidy(() => tf.grad((xx) => ce(model.logits(xx), labels, meta.numClasses))(x));
  const row = {
    images: n,
    logits: compare(await logits.data(), reference.logits.subarray(0, n * meta.numClasses)),
    // The reference gradient is of the mean over reference.batch images; rescale to the mean over n.
    inputGrad: compare(
      Float32Array.from(await grad.data(), (v) => (v * n) / reference.batch),
      reference.inputGrad.subarray(0, n * per),
    ),
    seconds: round((performance.now() - t0) / 1000, 2),
  };
  tf.dispose([logits, grad]);
  row.tensorsFlat = tf.memory().numTensors === before;
  tf.dispose([x, labels]);
  dispose();
  log(
    `${net} on ${n} images: logits max |diff| ${row.logits.maxAbsDiff.toExponential(2)} (max ${row.logits.maxAbsReference.toFixed(2)}), ` +
      `input gradient relative max |diff| ${row.inputGrad.relMaxDiff.toExponential(2)}, cosine ${row.inputGrad.cosine.toFixed(7)}`,
  );
  return row;
}

/** Times `once` (results read back inside): `runs` timed runs after one warm-up unless `warmup` is false. */
async function timeIt(name, { batch, runs, warmup = true }, once) {
  let warmupMs;
  if (warmup) {
    const t0 = performance.now();
    await once();
    warmupMs = Math.round(performance.now() - t0);
  }
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await once();
    ms.push(performance.now() - s);
  }
  const med = median(ms);
  const row = { batch, runs, imgPerSec: round((batch * 1000) / med, 3), medianMs: round(med), runsMs: ms.map((v) => Math.round(v)), warmupMs };
  log(`${name} (batch ${batch}): ${row.imgPerSec} img/s, median ${row.medianMs} ms of [${row.runsMs.join(', ')}]${warmup ? `, warm-up ${warmupMs} ms` : ''}`);
  return row;
}

/** Seeded uniform images in [0, 1) and labels below `k` (mulberry32). */
function randomBatch(n, shape, k, seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const per = shape[0] * shape[1] * shape[2];
  const xs = Float32Array.from({ length: n * per }, next);
  const ys = Int32Array.from({ length: n }, () => Math.floor(next() * k));
  return { x: tf.tensor4d(xs, [n, ...shape]), labels: tf.tensor1d(ys, 'int32') };
}

async function bench(net, plan) {
  const { meta, model, dispose } = makeModel(net);
  const k = meta.numClasses;
  const result = { net, inputShape: meta.inputShape, numClasses: k, parameters: meta.parameters, plan, workloads: {} };
  const tensorsAtStart = tf.memory().numTensors;
  const w = plan.workloads;
  const save = () => writeFileSync(OUT, JSON.stringify({ ...result, partial: true }, null, 1));
  if (w.forward) {
    const { x, labels } = randomBatch(w.forward.batch, meta.inputShape, k, 2);
    result.workloads.forward = await timeIt(`${net} forward`, w.forward, async () => {
      const y = tf.tidy(() => model.logits(x));
      await y.data();
      y.dispose();
    });
    tf.dispose([x, labels]);
    save();
  }
  if (w.inputGrad) {
    const { x, labels } = randomBatch(w.inputGrad.batch, meta.inputShape, k, 2);
    const once = async () => {
      const g = tf.tidy(() => tf.grad((xx) => ce(model.logits(xx), labels, k))(x));
      await g.data();
      g.dispose();
    };
    result.workloads.inputGrad = await timeIt(`${net} inputGrad`, w.inputGrad, once);
    if (plan.profile) {
      // One more input gradient through tf.profile: peak tf.memory and time per kernel (on wasm and cpu
      // the profiler reads the clock around each kernel; on webgpu it waits for each kernel's GPU time).
      const info = await tf.profile(once);
      const byKernel = new Map();
      for (const kk of info.kernels) {
        const e = byKernel.get(kk.name) ?? { ms: 0, calls: 0 };
        e.ms += kk.kernelTimeMs || 0;
        e.calls += 1;
        byKernel.set(kk.name, e);
      }
      const top = [...byKernel].sort((a, b) => b[1].ms - a[1].ms);
      result.profile = {
        peakBytes: info.peakBytes,
        kernels: info.kernels.length,
        totalKernelMs: Math.round(top.reduce((s, [, e]) => s + e.ms, 0)),
        byKernel: Object.fromEntries(top.slice(0, 14).map(([name, e]) => [name, { ms: Math.round(e.ms), calls: e.calls }])),
        slowestCalls: [...info.kernels]
          .sort((a, b) => (b.kernelTimeMs || 0) - (a.kernelTimeMs || 0))
          .slice(0, 12)
          .map((kk) => ({ name: kk.name, ms: Math.round(kk.kernelTimeMs || 0), inputShapes: kk.inputShapes, outputShapes: kk.outputShapes })),
      };
      log(
        `profile: ${result.profile.totalKernelMs} ms in ${info.kernels.length} kernels; ${top
          .slice(0, 8)
          .map(([n, e]) => `${n} ${Math.round(e.ms)}`)
          .join(', ')}`,
      );
    }
    tf.dispose([x, labels]);
    save();
  }
  if (w.pgd10) {
    const { x, labels } = randomBatch(w.pgd10.batch, meta.inputShape, k, 2);
    const attack = pgd({ norm: 'linf', steps: 10, relStepSize: 0.25, randomStart: true, earlyStop: false });
    let successRate;
    result.workloads.pgd10 = await timeIt(`${net} pgd10`, { ...w.pgd10, warmup: false }, async () => {
      const r = await attack.run(model, x, { labels }, { epsilons: [EPSILON], seed: 1 });
      successRate = r.success[0].filter(Boolean).length / r.success[0].length;
      r.dispose();
    });
    result.workloads.pgd10.successRate = successRate;
    result.workloads.pgd10.options = 'pgd({ norm: linf, steps: 10, relStepSize: 0.25 (α = 2/255), randomStart: true, earlyStop: false }), ε = 8/255';
    tf.dispose([x, labels]);
    save();
  }
  result.tensors = { atStart: tensorsAtStart, atEnd: tf.memory().numTensors };
  result.tensors.flat = result.tensors.atStart === result.tensors.atEnd;
  dispose();
  result.memory = { maxRssBytes: process.resourceUsage().maxRSS * 1024, tfMemoryBytesAtEnd: tf.memory().numBytes };
  return result;
}

const backend = opt('backend', 'cpu');
const threads = Number(opt('threads', '1'));
const setup = await setUpBackend(backend, threads);
await tf.ready();
const head = {
  backend,
  threads: backend === 'wasm' ? threads : undefined,
  engine: tf.getBackend(),
  setup: { ...setup, kernels: setup.kernels },
  startedAt: new Date().toISOString(),
};
if (ROLE === 'check') {
  const rows = {};
  for (const spec of opt('nets', '').split(',')) {
    const [net, n] = spec.split(':');
    rows[net] = await check(net, n ? Number(n) : undefined);
  }
  writeFileSync(OUT, JSON.stringify({ ...head, check: rows }, null, 1));
} else {
  const net = opt('net', '');
  const plan = JSON.parse(opt('plan', '{}'));
  // Correctness first (logits and input gradient of the reference images against PyTorch's), then timing.
  const vsPyTorch = await check(net, plan.checkImages);
  const r = await bench(net, plan);
  writeFileSync(OUT, JSON.stringify({ ...head, vsPyTorch, ...r, endedAt: new Date().toISOString() }, null, 1));
}
