// Benchmark (not a test), issue #21: end to end, what a user waits for. The default grid of
// `advx eval` (fgsm, pgd:steps=40:stepSize=0.01, apgd-ce:steps=100 at ε 0.1, 0.2, 0.3 Linf, seed 0,
// diagnostics on) on the zoo's mnist-cnn and mnist-cnn-at, first N MNIST test images, against the
// same grid written with torchattacks-style PyTorch code (bench/race_torch.py) on the same weights
// and images, at equal thread counts: wall clock of each process and the ratio.
//
//   node bench/race.mjs                       # n = 1000, both models; writes bench/results/race-<date>.json
//   node bench/race.mjs --quick               # n = 64, nothing saved (to try changes)
//   node bench/race.mjs --n 300 --models mnist-cnn --workers --torch-early-stop
//
// Options: --n N (1000), --models a,b (mnist-cnn,mnist-cnn-at), --threads T (2: advx --threads T and
// torch.set_num_threads(T)), --workers (also time `advx eval --workers 2 --threads 1`),
// --torch-early-stop (also time the PyTorch side with advx's early stop), --quick, --out FILE.
// Environment: ADVX_BENCH_PYTHON (default /usr/bin/python3, Debian's, which has python3-torch).
//
// Per model: the tfjs weights, the first N images and their tfjs (cpu backend) logits are exported
// once (`--worker export`, bundled by scripts/run-bundled.mjs as bench/backends.mjs does; the format
// of bench/pytorch_bench.py's load_export), untimed. Then each side runs as its own process, timed
// from spawn to exit: `node packages/eval/bin/advx.js eval --model M --n N --threads T --out DIR`
// (default backend wasm; it writes results.json, the reports and example images, as a user's run
// does) and `python3 bench/race_torch.py --threads T` (which checks its logits against tfjs first).
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};

if (args.includes('--worker')) {
  if (process.env.ADVX_RACE_BUNDLED !== '1') {
    // The launcher's child: bundle this file (tfjs-core's Node entry registers no gradients, and the
    // workspace packages are read from source) and run the bundle, which takes the branch below.
    process.env.ADVX_RACE_BUNDLED = '1';
    const here = dirname(fileURLToPath(import.meta.url));
    const { runBundled } = await import(pathToFileURL(join(here, '..', 'scripts', 'run-bundled.mjs')).href);
    await runBundled(fileURLToPath(import.meta.url));
  } else {
    await exportForTorch(resolve(opt('root', '.')), opt('model', 'mnist-cnn'), Number(opt('n', '1000')), resolve(opt('work', '.')));
  }
  process.exit(0);
}

/**
 * Writes `<work>/export-data.json` and `.bin` in the layout bench/pytorch_bench.py's load_export reads:
 * the zoo model's weights, the first `n` MNIST test images (`loadDataset('mnist', { count: n })`,
 * the images `advx eval --n n` takes with its default `--sample first`), their labels and the
 * logits of the tfjs cpu backend. `xNoise` (backends.mjs's noise batch) points at the images.
 */
async function exportForTorch(root, id, n, work) {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  const { loadDataset, loadModel } = await import('@advx/models-zoo');
  if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend did not start');
  // The bundle lives outside the zoo package, so the zoo cannot find its own folder: name it.
  const zoo = await loadModel(id, { directory: join(root, 'packages/models-zoo/models', id) });
  const data = await loadDataset('mnist', { count: n });
  const names = zoo.layers.weights.map((w) => w.originalName ?? w.name);
  const values = zoo.layers.getWeights();
  const manifest = [];
  const parts = [];
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    const v = Float32Array.from(await values[i].data());
    manifest.push({ name: names[i], shape: values[i].shape, offset: at, length: v.length });
    parts.push(v);
    at += v.length;
  }
  const logits = [];
  for (let s = 0; s < n; s += 128) {
    const l = tf.tidy(() => zoo.model.logits(tf.slice(data.x, s, Math.min(128, n - s))));
    logits.push(await l.data());
    l.dispose();
  }
  const xOffset = at;
  parts.push(await data.x.data());
  at += n * 784;
  const logitsOffset = at;
  for (const l of logits) parts.push(l);
  const floats = new Float32Array(at + n * zoo.model.numClasses);
  let p = 0;
  for (const part of parts) {
    floats.set(part, p);
    p += part.length;
  }
  writeFileSync(join(work, 'export-data.bin'), new Uint8Array(floats.buffer));
  const meta = {
    model: id,
    layout: 'tfjs layers: NHWC input, conv kernels [kh, kw, in, out], dense kernels [in, out]; float32 little-endian',
    weights: manifest,
    x: { shape: data.x.shape, offset: xOffset },
    xNoise: { shape: data.x.shape, offset: xOffset, note: 'the images themselves (race.mjs has no noise batch)' },
    tfjsLogits: { shape: [n, zoo.model.numClasses], offset: logitsOffset, backend: 'cpu' },
    labels: Array.from(await data.y.data()),
    dataSource: data.source,
    sha256OfWeights: zoo.card.files.find((f) => f.path === 'weights.bin')?.sha256,
  };
  writeFileSync(join(work, 'export-data.json'), JSON.stringify(meta));
  tf.dispose([data.x, data.y]);
  zoo.layers.dispose();
  process.stderr.write(`[race export] ${id}: ${manifest.reduce((s, m) => s + m.length, 0)} weights, ${n} MNIST test images (${data.source} data)\n`);
}

// ---------------------------------------------------------------- the driver

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const QUICK = args.includes('--quick');
const N = QUICK ? 64 : Number(opt('n', '1000'));
const MODELS = opt('models', 'mnist-cnn,mnist-cnn-at').split(',');
const THREADS = Number(opt('threads', '2'));
const WORKERS = args.includes('--workers');
const TORCH_EARLY_STOP = args.includes('--torch-early-stop');
const PYTHON = process.env.ADVX_BENCH_PYTHON ?? '/usr/bin/python3';
if (!Number.isInteger(N) || N < 1) throw new Error(`--n: '${opt('n')}' is not a positive integer`);
const work = join(here, '.tmp', 'race');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const log = (m) => process.stderr.write(`[race] ${m}\n`);

/** Runs a process to its end with stdout and stderr into `logFile`; returns its wall time in seconds. */
function timed(cmd, argv, logFile, env = process.env) {
  const fd = openSync(logFile, 'w');
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { cwd: root, stdio: ['ignore', fd, fd], env });
  const seconds = (performance.now() - t0) / 1000;
  closeSync(fd);
  const tail = () => readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
  if (r.status !== 0) return { error: `${relative(root, cmd) || cmd} exited with ${r.status}${r.signal ? ` (signal ${r.signal})` : ''}: ${tail()}`, seconds };
  return { seconds: +seconds.toFixed(2) };
}

function exportModel(id, dir) {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync(process.execPath, [join(here, 'race.mjs'), '--worker', '--root', root, '--model', id, '--n', String(N), '--work', dir], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0 || !existsSync(join(dir, 'export-data.json'))) throw new Error(`exporting ${id} failed (exit code ${r.status}; see above)`);
}

function runAdvx(id, label, extra) {
  const out = join(work, id, `advx-${label}`);
  const r = timed(
    process.execPath,
    [join(root, 'packages/eval/bin/advx.js'), 'eval', '--model', id, '--n', String(N), '--out', out, ...extra],
    join(work, id, `advx-${label}.log`),
  );
  if (r.error) return { command: `advx eval --model ${id} --n ${N} ${extra.join(' ')}`, ...r };
  const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  return {
    command: `advx eval --model ${id} --n ${N} ${extra.join(' ')}`.trim(),
    wallSeconds: r.seconds,
    n: res.n,
    batchSize: res.config.batchSize,
    cleanAccuracy: res.cleanAccuracy,
    attackSeconds: +(res.attacks.reduce((s, a) => s + a.timeMs, 0) / 1000).toFixed(2),
    attacks: res.attacks.map((a) => ({
      label: a.label,
      seconds: +(a.timeMs / 1000).toFixed(2),
      passes: a.passes,
      perEpsilon: a.perEpsilon.map((p) => ({ epsilon: p.epsilon, robustAccuracy: p.robustAccuracy, successRate: p.successRate, attacked: p.attacked })),
    })),
    warnings: res.warnings.map((w) => w.code),
  };
}

function runTorch(id, label, extra) {
  const out = join(work, id, `torch-${label}.json`);
  const argv = [join(here, 'race_torch.py'), '--work', join(work, id), '--out', out, '--threads', String(THREADS), ...extra];
  const r = timed(PYTHON, argv, join(work, id, `torch-${label}.log`));
  if (r.error) return { command: `race_torch.py ${extra.join(' ')}`, ...r };
  const res = JSON.parse(readFileSync(out, 'utf8'));
  return {
    command: `${PYTHON} bench/race_torch.py --threads ${THREADS} ${extra.join(' ')}`.trim(),
    wallSeconds: r.seconds,
    ...res,
    attackSeconds: +res.attacks.reduce((s, a) => s + a.seconds, 0).toFixed(2),
  };
}

/** The torch check before any timing: Debian's python3-torch for /usr/bin/python3. */
const check = spawnSync(PYTHON, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
if (check.status !== 0) {
  log(
    `PyTorch is not available for ${PYTHON}: ${(check.stderr || check.error?.message || '').trim().split('\n').pop()}. ` +
      "Install Debian's package: sudo apt-get install python3-torch (or set ADVX_BENCH_PYTHON to a Python that has torch).",
  );
  process.exit(1);
}
const cli = join(root, 'packages/eval/dist/cli.js');
if (!existsSync(cli)) {
  log(`${relative(root, cli)} is missing: build first (npx nx run-many -t build)`);
  process.exit(1);
}

const loadAverage = () => os.loadavg().map((v) => +v.toFixed(2));
const startedAt = new Date();
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  logicalCores: os.cpus().length,
  node: process.version,
  torch: check.stdout.trim(),
  advxCliBuiltAt: statSync(cli).mtime.toISOString(),
  loadAverageAtStart: loadAverage(),
  note: 'Shared machine: other jobs may run at the same time; see the load averages.',
};
log(`machine: ${machine.cpu}, ${machine.logicalCores} cores, load ${machine.loadAverageAtStart.join(' ')}; n = ${N}, threads ${THREADS}`);

const models = [];
for (const id of MODELS) {
  const dir = join(work, id);
  exportModel(id, dir);
  const runs = { advx: runAdvx(id, 'wasm', ['--threads', String(THREADS)]) };
  log(`${id}: advx (wasm, ${THREADS} threads) ${runs.advx.wallSeconds ?? runs.advx.error} s`);
  if (WORKERS) {
    runs.advxWorkers = runAdvx(id, 'workers', ['--workers', '2', '--threads', '1']);
    log(`${id}: advx (2 workers × 1 thread) ${runs.advxWorkers.wallSeconds ?? runs.advxWorkers.error} s`);
  }
  runs.torch = runTorch(id, 'all-steps', []);
  log(`${id}: PyTorch (${THREADS} threads) ${runs.torch.wallSeconds ?? runs.torch.error} s`);
  if (TORCH_EARLY_STOP) {
    runs.torchEarlyStop = runTorch(id, 'early-stop', ['--early-stop']);
    log(`${id}: PyTorch (${THREADS} threads, early stop) ${runs.torchEarlyStop.wallSeconds ?? runs.torchEarlyStop.error} s`);
  }
  models.push({ id, runs });
}
machine.loadAverageAtEnd = loadAverage();

const pct = (v) => (v === undefined || v === null ? '—' : `${(100 * v).toFixed(1)} %`);
const pp = (a, b) => (a === undefined || b === undefined ? '—' : `${100 * (b - a) >= 0 ? '+' : ''}${(100 * (b - a)).toFixed(1)}`);
const sec = (v) => (v === undefined ? '—' : v.toFixed(1));
const ratio = (torch, advx) => (torch?.wallSeconds && advx?.wallSeconds ? +(torch.wallSeconds / advx.wallSeconds).toFixed(2) : null);

const lines = [
  `| model | advx wall s (attacks s) | PyTorch wall s (attacks s) | ratio PyTorch / advx |${WORKERS ? ' advx 2 workers × 1 thread wall s (ratio) |' : ''}${TORCH_EARLY_STOP ? ' PyTorch early stop wall s (ratio) |' : ''}`,
  `|---|---|---|---|${WORKERS ? '---|' : ''}${TORCH_EARLY_STOP ? '---|' : ''}`,
];
for (const m of models) {
  const { advx, torch, advxWorkers, torchEarlyStop } = m.runs;
  const cell = (r) => (r.error ? `error: ${r.error.split('\n')[0]}` : `${sec(r.wallSeconds)} (${sec(r.attackSeconds)})`);
  const r = ratio(torch, advx);
  lines.push(
    `| ${m.id} | ${cell(advx)} | ${cell(torch)} | ${r === null ? '—' : `${r.toFixed(2)}×`} |` +
      (WORKERS ? ` ${cell(advxWorkers)} (${ratio(torch, advxWorkers) ?? '—'}×) |` : '') +
      (TORCH_EARLY_STOP ? ` ${cell(torchEarlyStop)} (${ratio(torchEarlyStop, advx) ?? '—'}×) |` : ''),
  );
}
const attackLines = [
  '| model | attack | ε | advx robust acc. | PyTorch robust acc. | PyTorch − advx (points) | advx s | PyTorch s | gradient rows advx / PyTorch |',
  '|---|---|---|---|---|---|---|---|---|',
];
const differences = [];
for (const m of models) {
  const { advx, torch } = m.runs;
  if (advx.error || torch.error) continue;
  attackLines.push(`| ${m.id} | clean | — | ${pct(advx.cleanAccuracy)} | ${pct(torch.cleanAccuracy)} | ${pp(advx.cleanAccuracy, torch.cleanAccuracy)} | | | |`);
  advx.attacks.forEach((a, i) => {
    const t = torch.attacks[i];
    a.perEpsilon.forEach((p, e) => {
      const q = t?.perEpsilon[e];
      differences.push({
        model: m.id,
        attack: a.label,
        torchAttack: t?.label,
        epsilon: p.epsilon,
        advx: p.robustAccuracy,
        torch: q?.robustAccuracy,
        torchMinusAdvx: q ? +(q.robustAccuracy - p.robustAccuracy).toFixed(4) : null,
      });
      attackLines.push(
        `| ${m.id} | ${a.label} / ${t?.label ?? '—'} | ${p.epsilon} | ${pct(p.robustAccuracy)} | ${pct(q?.robustAccuracy)} | ${pp(p.robustAccuracy, q?.robustAccuracy)} | ${e === 0 ? sec(a.seconds) : ''} | ${e === 0 ? sec(t?.seconds) : ''} | ${e === 0 ? `${a.passes?.backward ?? '—'} / ${t?.passes?.backward ?? '—'}` : ''} |`,
      );
    });
  });
}
const table = lines.join('\n');
const attackTable = attackLines.join('\n');
process.stdout.write(`\n${QUICK ? `quick run (n = ${N}), not saved\n\n` : ''}${table}\n\n${attackTable}\n\n`);

const result = {
  description:
    'bench/race.mjs (issue #21): wall clock from spawn to exit of `advx eval` with its default grid (wasm) and of bench/race_torch.py (torchattacks-style PyTorch CPU) ' +
    'on the same weights and first N MNIST test images, equal thread counts; ratio = PyTorch wall / advx wall (> 1: advx faster). attackSeconds: the time inside the attacks (advx: results.json timeMs).',
  startedAt: startedAt.toISOString(),
  endedAt: new Date().toISOString(),
  n: N,
  threads: THREADS,
  machine,
  models: models.map((m) => ({ ...m, ratio: ratio(m.runs.torch, m.runs.advx), ratioWorkers: WORKERS ? ratio(m.runs.torch, m.runs.advxWorkers) : undefined })),
  robustAccuracyDifferences: differences,
  table,
  attackTable,
};
if (QUICK && !args.includes('--out')) {
  log('--quick: results not saved');
} else {
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const file = opt('out', join(dir, `race-${startedAt.toISOString().slice(0, 16).replace(':', '-')}.json`));
  writeFileSync(file, `${JSON.stringify(result, null, 1)}\n`);
  log(`wrote ${relative(root, file)}`);
}
