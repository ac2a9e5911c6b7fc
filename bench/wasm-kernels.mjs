// Benchmark (not a test): input gradient and one training step (weights gradient) of the small
// MNIST CNN (conv32 3x3 relu → conv64 3x3 relu → maxpool 2 → flatten → dense128 relu → dense10),
// batch 128, on cpu, on stock wasm and on wasm with the @advx/backend-wasm kernels.
//
// tfjs-core's Node entry registers no gradients and its ESM files cannot be imported by Node
// directly, so this script is bundled first (esbuild is installed at the root):
//
//   npx esbuild bench/wasm-kernels.mjs --bundle --platform=node --format=esm --main-fields=module,main \
//     --outfile=bench/wasm-kernels-scratch/bench.mjs \
//     --banner:js="import { createRequire as __cr } from 'node:module'; import { dirname as __dn } from 'node:path'; import { fileURLToPath as __fp } from 'node:url'; const require = __cr(import.meta.url); const __filename = __fp(import.meta.url); const __dirname = __dn(__filename);"
//
// (tfjs-backend-wasm's Emscripten glue uses require and __dirname in Node, which an ESM bundle
// lacks: the banner provides them. --main-fields=module,main picks the ESM builds that the tfjs
// packages list in "sideEffects"; with esbuild's Node default the bare backend-cpu import is
// dropped as side-effect free.)
//   node bench/wasm-kernels-scratch/bench.mjs [--runs 5] [--cpu-runs 1] [--threads 1] [--profile] [--json out.json]
//
// --threads N initialises wasm with N XNNPACK threads (fixed per process: run once per N).
//
// Numbers are medians over --runs timed runs after one warm-up. The machine has 2 cores and other
// work runs at the same time: expect ±30 % noise between invocations.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { writeFileSync } from 'node:fs';
import { registerWasmKernels, unregisterWasmKernels, useWasm } from '../packages/backend-wasm/src/index.ts';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const RUNS = Number(opt('runs', '5'));
const THREADS = Number(opt('threads', '1'));
const CPU_RUNS = Number(opt('cpu-runs', '1'));
const PROFILE = args.includes('--profile');
const JSON_OUT = opt('json', undefined);
const BATCH = 128;

if (!process.env.BENCH_DEBUG) tf.env().set('PROD', true);

/** mulberry32 in [-1, 1). */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}
const rand = seeded(1);
const data = (n, scale = 1) => Float32Array.from({ length: n }, () => rand() * scale);

const shapes = {
  w1: [3, 3, 1, 32],
  b1: [32],
  w2: [3, 3, 32, 64],
  b2: [64],
  w3: [12 * 12 * 64, 128],
  b3: [128],
  w4: [128, 10],
  b4: [10],
};
const size = (s) => s.reduce((a, b) => a * b, 1);
const init = Object.fromEntries(
  Object.entries(shapes).map(([k, s]) => [k, data(size(s), k.startsWith('b') ? 0.01 : Math.sqrt(6 / (s.length > 2 ? s[0] * s[1] * s[2] : s[0])))]),
);
const xData = data(BATCH * 28 * 28).map((v) => (v + 1) / 2);
const labelData = Int32Array.from({ length: BATCH }, (_, i) => i % 10);

function makeParams() {
  return Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, tf.tensor(init[k], s)]));
}

function logits(p, x) {
  const h1 = tf.fused.conv2d({ x, filter: p.w1, strides: 1, pad: 'valid', bias: p.b1, activation: 'relu' });
  const h2 = tf.fused.conv2d({ x: h1, filter: p.w2, strides: 1, pad: 'valid', bias: p.b2, activation: 'relu' });
  const pooled = tf.maxPool(h2, 2, 2, 'valid');
  const flat = tf.reshape(pooled, [x.shape[0], -1]);
  const h3 = tf.fused.matMul({ a: flat, b: p.w3, bias: p.b3, activation: 'relu' });
  return tf.fused.matMul({ a: h3, b: p.w4, bias: p.b4 });
}

function loss(p, x, labels) {
  return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), logits(p, x));
}

/** One step: returns the tensors to read back (one value each, to force completion). */
function inputGradStep(p, x, labels) {
  return tf.tidy(() => {
    const g = tf.grad((xx) => loss(p, xx, labels))(x);
    return [tf.sum(g)];
  });
}

function trainStep(p, x, labels) {
  return tf.tidy(() => {
    const names = Object.keys(shapes);
    const gs = tf.grads((...ws) => loss(Object.fromEntries(names.map((n, i) => [n, ws[i]])), x, labels))(names.map((n) => p[n]));
    return gs.map((g) => tf.sum(g));
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function timeIt(step, runs) {
  const p = makeParams();
  const x = tf.tensor4d(xData, [BATCH, 28, 28, 1]);
  const labels = tf.tensor1d(labelData, 'int32');
  const once = async () => {
    const t0 = performance.now();
    const outs = step(p, x, labels);
    await Promise.all(outs.map((o) => o.data()));
    tf.dispose(outs);
    return performance.now() - t0;
  };
  await once(); // warm-up (operator creation, weight packing)
  const ms = [];
  for (let i = 0; i < runs; i++) ms.push(await once());
  let profile;
  if (PROFILE) {
    const info = await tf.profile(async () => {
      const outs = step(p, x, labels);
      await Promise.all(outs.map((o) => o.data()));
      tf.dispose(outs);
    });
    const byKernel = new Map();
    for (const k of info.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + k.kernelTimeMs);
    profile = [...byKernel]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([k, t]) => `${k} ${t.toFixed(0)}`);
  }
  tf.dispose([...Object.values(p), x, labels]);
  const med = median(ms);
  return { medianMs: +med.toFixed(1), imgPerSec: +((BATCH * 1000) / med).toFixed(1), runsMs: ms.map((v) => +v.toFixed(0)), profile };
}

async function measure(label, runs) {
  const row = { engine: label };
  row.inputGrad = await timeIt(inputGradStep, runs);
  try {
    row.trainStep = await timeIt(trainStep, runs);
  } catch (e) {
    row.trainStep = { error: String(e.message ?? e).slice(0, 160) };
  }
  console.log(JSON.stringify(row));
  return row;
}

const rows = [];
const info = await useWasm({ kernels: false, threads: THREADS });
console.log(JSON.stringify({ wasm: info }));
const t = info.threads === 1 ? '' : `, ${info.threads} threads`;
rows.push(await measure(`wasm stock${t}`, RUNS));
registerWasmKernels();
rows.push(await measure(`wasm + @advx/backend-wasm kernels${t}`, RUNS));
unregisterWasmKernels();
if (CPU_RUNS > 0) {
  await tf.setBackend('cpu');
  rows.push(await measure('cpu', CPU_RUNS));
}
if (JSON_OUT) {
  const meta = { batch: BATCH, runs: RUNS, cpuRuns: CPU_RUNS, threads: info.threads, node: process.version, date: new Date().toISOString() };
  writeFileSync(JSON_OUT, JSON.stringify({ ...meta, rows }, null, 2));
}
