// Benchmark (not a test): memory of `advx eval --data <image folder>` at 224×224×3. Writes N synthetic
// 224×224 JPEGs into a temporary folder (10 classes as sub-folders), saves a small random-weight
// 224×224×3 conv net as a tfjs layers model.json, runs the built command (packages/eval/dist/cli.js,
// after `npx nx run-many -t build`) with FGSM, and samples the command's resident set size
// (/proc/<pid>/status VmRSS) every 200 ms; the peak is VmHWM. Results JSON into bench/results/.
//
//   node bench/folder-eval-memory.mjs [--n 2000] [--batch-size 100] [--backend wasm]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import jpeg from 'jpeg-js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const N = Number(arg('n', '2000'));
const BATCH = arg('batch-size', '100');
const BACKEND = arg('backend', 'wasm');
const SIZE = 224;
const CLASSES = 10;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'advx-folder-mem-'));
const data = path.join(tmp, 'images');

/** Deterministic smooth colour images (a gradient and a class-dependent stripe), JPEG quality 85. */
function writeImages() {
  const rgba = Buffer.alloc(SIZE * SIZE * 4);
  let bytes = 0;
  for (let i = 0; i < N; i++) {
    const cls = i % CLASSES;
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const o = 4 * (y * SIZE + x);
        rgba[o] = (x + 3 * i) & 255;
        rgba[o + 1] = (y * (cls + 1)) & 255;
        rgba[o + 2] = ((x + y) * 7 + 40 * Math.sin((x + i) / 9)) & 255;
        rgba[o + 3] = 255;
      }
    }
    const dir = path.join(data, `class-${cls}`);
    mkdirSync(dir, { recursive: true });
    const file = jpeg.encode({ width: SIZE, height: SIZE, data: rgba }, 85).data;
    writeFileSync(path.join(dir, `${String(i).padStart(6, '0')}.jpg`), file);
    bytes += file.length;
  }
  return bytes;
}

async function writeModel() {
  await tf.setBackend('cpu');
  const m = tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [SIZE, SIZE, 3],
        filters: 8,
        kernelSize: 3,
        strides: 4,
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
      }),
      tfl.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: CLASSES, kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
    ],
  });
  const dir = path.join(tmp, 'model');
  mkdirSync(dir, { recursive: true });
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      writeFileSync(
        path.join(dir, 'model.json'),
        JSON.stringify({ modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] }),
      );
      writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(a.weightData));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  m.dispose();
  return path.join(dir, 'model.json');
}

function status(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN);
    return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
  } catch {
    return undefined;
  }
}

const t0 = Date.now();
const jpegBytes = writeImages();
const writeMs = Date.now() - t0;
const model = await writeModel();
const out = path.join(tmp, 'report');
const args = [
  path.join(root, 'packages/eval/dist/cli.js'),
  'eval',
  '--model',
  model,
  '--data',
  data,
  '--attacks',
  'fgsm',
  '--eps',
  '0.01',
  '--backend',
  BACKEND,
  '--batch-size',
  BATCH,
  '--examples',
  '0',
  '--out',
  out,
];
const started = Date.now();
const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
const samples = [];
let peak = 0;
let stderr = '';
let stdout = '';
child.stdout.on('data', (d) => (stdout += d));
child.stderr.on('data', (d) => (stderr += d));
const timer = setInterval(() => {
  const s = status(child.pid);
  if (s === undefined) return;
  peak = Math.max(peak, s.hwm);
  samples.push({ t: (Date.now() - started) / 1000, rssMiB: Math.round(s.rss / 2 ** 20) });
}, 200);
const code = await new Promise((resolve) => child.on('exit', resolve));
clearInterval(timer);
const wallS = (Date.now() - started) / 1000;
if (code !== 0) {
  process.stderr.write(stderr);
  rmSync(tmp, { recursive: true, force: true });
  throw new Error(`advx eval exited with ${code}`);
}
const result = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
// RSS at a quarter, half, three quarters and the end of the run: flat when decoding is per chunk.
const at = (f) => samples[Math.min(samples.length - 1, Math.floor(f * (samples.length - 1)))]?.rssMiB;
const report = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, totalMemMiB: Math.round(os.totalmem() / 2 ** 20) },
  images: N,
  imageSize: [SIZE, SIZE, 3],
  classes: CLASSES,
  jpegMiB: Math.round((jpegBytes / 2 ** 20) * 10) / 10,
  decodedFloat32MiBIfAllAtOnce: Math.round((N * SIZE * SIZE * 3 * 4) / 2 ** 20),
  command: `advx ${args.slice(1).join(' ').replaceAll(tmp, '<tmp>')}`,
  backend: BACKEND,
  batchSize: Number(BATCH),
  writeImagesS: writeMs / 1000,
  wallS,
  imagesPerS: Math.round((N / wallS) * 10) / 10,
  peakRssMiB: Math.round(peak / 2 ** 20),
  rssMiBAt: { quarter: at(0.25), half: at(0.5), threeQuarters: at(0.75), end: at(1) },
  cleanAccuracy: result.cleanAccuracy,
  n: result.n,
  rssTimeline: samples.filter((_, i) => i % 5 === 0),
};
rmSync(tmp, { recursive: true, force: true });
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
const file = path.join(root, 'bench/results', `folder-eval-memory-${N}-${report.date.slice(0, 16).replace(':', '-')}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 1)}\n`);
process.stdout.write(
  `${N} images 224×224: peak RSS ${report.peakRssMiB} MiB, RSS at 1/4 ${report.rssMiBAt.quarter}, 1/2 ${report.rssMiBAt.half}, 3/4 ${report.rssMiBAt.threeQuarters}, end ${report.rssMiBAt.end} MiB; ${wallS.toFixed(0)} s (${report.imagesPerS} img/s) → ${path.relative(root, file)}\n`,
);
