// Benchmark (not a test): images per second of the four workloads of adversarial ML — forward
// (logits), input gradient of the cross-entropy, one PGD-40 Linf attack, one adversarial-training step
// (FGSM-RS + one Adam update) — on the zoo's mnist-cnn at batch 128, for every tfjs backend advx sets
// up (cpu, wasm with 1 and 2 threads, webgpu through Dawn), and the same workloads in PyTorch CPU
// (Debian's python3-torch) on the identical architecture and weights, with the ratio advx / PyTorch.
// Also peak memory (process RSS, tf.memory().numBytes) and tensor counts across 1,000 steps.
//
//   npm run bench                      # the whole run (~10 minutes on a 2-core machine)
//   node bench/backends.mjs --only wasm1,pytorch --quick    # a subset, small and fast (no JSON written)
//
// Options: --only <list> (export is always run; names: pytorch, cpu, wasm1, wasm2, webgpu),
// --quick (16 images, one run each, for trying changes; results are not saved), --out <file>.
// Environment: ADVX_BENCH_PYTHON (default /usr/bin/python3: Debian's, which has python3-torch),
// VK_ICD_FILENAMES (default: the lavapipe driver of packages/backend-webgpu/scripts/install-lavapipe.sh).
//
// Each engine runs in its own process (the wasm thread count is fixed per process; peak RSS is per
// process). tfjs processes are bundled first by scripts/run-bundled.mjs (tfjs-core's Node entry
// registers no gradients). Writes bench/results/backends-<date>.json and prints a markdown table.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = process.argv.slice(2);

if (args.includes('--worker')) {
  // A child process: bundle and run the tfjs worker with these arguments.
  const { runBundled } = await import('../scripts/run-bundled.mjs');
  await runBundled(join(here, 'backends-worker.mjs'));
  process.exit(0);
}

const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const QUICK = args.includes('--quick');
const ONLY = opt('only', 'pytorch,cpu,wasm1,wasm2,webgpu').split(',');
const PYTHON = process.env.ADVX_BENCH_PYTHON ?? '/usr/bin/python3';
// --retable: no measuring, rebuild the tables and the JSON from the per-engine files of the last run.
const RETABLE = args.includes('--retable');
const work = join(here, '.work');
if (!RETABLE) {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
}

// --quick (for trying changes to this file): 16 images, one run each, results not saved.
const B = QUICK ? 16 : 128;
const q = (n) => (QUICK ? 1 : n);
// Timed runs per workload (after one warm-up unless warmup: false), sized so that the whole run stays
// near 10 minutes on an otherwise idle 2-core machine (it takes much longer when other jobs load it).
// PGD-40 runs once, without a warm-up of its own (the input-gradient runs warm the same kernels), and
// is profiled (peak tf.memory) on that run where the profiler only reads the clock (cpu, wasm). The
// pure-JS cpu backend needs ~10 s per input gradient of 128 images: one run each, and its PGD and
// training step run on 16 images. webgpu on lavapipe (~4 s per input gradient of 128): fewer runs,
// and PGD on 32 images.
/** wasm runs the same workloads on 1 and on 2 threads. */
const WASM_WORKLOADS = {
  forward: { batch: B, runs: q(5) },
  inputGrad: { batch: B, runs: q(3), profile: 'first' },
  pgd40: { batch: B, runs: 1, warmup: false, profile: 'first' },
  advTrain: { batch: B, runs: q(3) },
  trainerFit: { batch: B, runs: q(2) },
};
const PLANS = {
  wasm1: {
    threads: 1,
    workloads: WASM_WORKLOADS,
    leak: { steps: QUICK ? 40 : 1000, batch: 1 },
  },
  wasm2: {
    threads: 2,
    workloads: WASM_WORKLOADS,
  },
  webgpu: {
    workloads: {
      forward: { batch: B, runs: q(2) },
      inputGrad: { batch: B, runs: q(2) },
      pgd40: { batch: QUICK ? 8 : 32, runs: 1, warmup: false, profile: 'none' },
      advTrain: { batch: B, runs: 1 },
    },
  },
  cpu: {
    workloads: {
      forward: { batch: B, runs: 1 },
      inputGrad: { batch: B, runs: 1, warmup: false, profile: 'first' },
      pgd40: { batch: QUICK ? 4 : 16, runs: 1, warmup: false, profile: 'first' },
      advTrain: { batch: QUICK ? 4 : 16, runs: 1, warmup: false, profile: 'first' },
    },
  },
};
const PYTORCH_RUNS = QUICK ? 'forward=1,inputGrad=1,pgd40=1,advTrain=1' : 'forward=10,inputGrad=5,pgd40=1,advTrain=5';

const log = (m) => process.stderr.write(`[bench] ${m}\n`);

function runWorker(name, extra) {
  const out = join(work, `${name}.json`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(here, 'backends.mjs'), '--worker', '--name', name, '--root', root, '--work', work, '--out', out, ...extra], {
    stdio: ['ignore', 'inherit', 'inherit'],
    cwd: root,
  });
  const seconds = Math.round((Date.now() - t0) / 1000);
  if (r.status !== 0 || !existsSync(out)) return { error: `exit code ${r.status}${r.signal ? `, signal ${r.signal}` : ''} (see the log above)`, seconds };
  return { ...JSON.parse(readFileSync(out, 'utf8')), seconds };
}

function runPyTorch() {
  const check = spawnSync(PYTHON, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
  if (check.status !== 0) {
    const msg =
      `PyTorch is not available for ${PYTHON}: ${(check.stderr || check.error?.message || '').trim().split('\n').pop()}. ` +
      "Install Debian's package: sudo apt-get install python3-torch (or set ADVX_BENCH_PYTHON to a Python that has torch). " +
      'The advx numbers are still measured; the ratios are left out.';
    log(msg);
    return { error: msg };
  }
  const out = join(work, 'pytorch.json');
  const t0 = Date.now();
  const r = spawnSync(
    PYTHON,
    [join(here, 'pytorch_bench.py'), '--work', work, '--out', out, '--threads', '2,1', '--runs', PYTORCH_RUNS, '--batch', String(B)],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const seconds = Math.round((Date.now() - t0) / 1000);
  if (r.status !== 0 || !existsSync(out)) return { error: `pytorch_bench.py exited with ${r.status} (see the log above)`, seconds };
  return { ...JSON.parse(readFileSync(out, 'utf8')), seconds };
}

function versionOf(pkg) {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

function gitCommit() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'bench', 'packages', 'scripts'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} (uncommitted changes under bench/, packages/ or scripts/)` : head;
  } catch {
    return null;
  }
}

const loadAverage = () => os.loadavg().map((v) => +v.toFixed(2));
const startedAt = new Date();
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  logicalCores: os.cpus().length,
  memoryBytes: os.totalmem(),
  platform: `${os.type()} ${os.release()} ${os.arch()}`,
  node: process.version,
  tfjs: versionOf('@tensorflow/tfjs-core'),
  tfjsBackendWasm: versionOf('@tensorflow/tfjs-backend-wasm'),
  tfjsBackendWebgpu: versionOf('@tensorflow/tfjs-backend-webgpu'),
  webgpuNpm: versionOf('webgpu'),
  loadAverageAtStart: loadAverage(),
  note: 'Shared machine: other jobs (model training) may run at the same time; see the load averages. Expect ±30 % noise between runs.',
};
log(`machine: ${machine.cpu}, ${machine.logicalCores} cores, load ${machine.loadAverageAtStart.join(' ')}`);

const engines = {};
let exported;
if (RETABLE) {
  const read = (name) => (existsSync(join(work, `${name}.json`)) ? JSON.parse(readFileSync(join(work, `${name}.json`), 'utf8')) : undefined);
  exported = read('export');
  for (const name of ['pytorch', 'cpu', 'wasm1', 'wasm2', 'webgpu']) if (ONLY.includes(name) && read(name)) engines[name] = read(name);
  if (engines.pytorch?.runs?.[0]?.workloads?.forward?.batch !== B) log('--retable: the saved PyTorch batch differs from this mode (add or drop --quick)');
} else {
  exported = runWorker('export', ['--role', 'export']);
  if (exported.error) {
    log(`exporting the model failed: ${exported.error}`);
    process.exit(1);
  }
  if (ONLY.includes('pytorch')) engines.pytorch = runPyTorch();
  for (const name of ['wasm1', 'wasm2', 'webgpu', 'cpu']) {
    if (!ONLY.includes(name)) continue;
    const plan = PLANS[name];
    const backend = name.replace(/\d+$/, '');
    engines[name] = runWorker(name, ['--role', 'bench', '--backend', backend, '--threads', String(plan.threads ?? 1), '--plan', JSON.stringify(plan)]);
  }
}
machine.loadAverageAtEnd = loadAverage();
machine.torch = engines.pytorch?.torch ?? null;

// Ratios advx / PyTorch per workload: against PyTorch with the same thread count (wasm 1 ↔ torch 1,
// wasm 2 ↔ torch 2; the pure-JS cpu backend is single-threaded ↔ torch 1; webgpu on lavapipe uses
// every core ↔ torch 2), and against PyTorch at 2 threads (its best here) for all.
const WORKLOADS = ['forward', 'inputGrad', 'pgd40', 'advTrain'];
const torchAt = (t) => engines.pytorch?.runs?.find((r) => r.threads === t)?.workloads;
const peerThreads = { cpu: 1, wasm1: 1, wasm2: 2, webgpu: 2 };
const ratios = {};
for (const name of ['cpu', 'wasm1', 'wasm2', 'webgpu']) {
  const e = engines[name];
  if (!e?.workloads) continue;
  ratios[name] = {};
  for (const w of WORKLOADS) {
    // Only at the same batch as PyTorch's (per-image cost grows at small batches).
    const mine = e.workloads[w]?.batch === B ? e.workloads[w].imgPerSec : undefined;
    const peer = torchAt(peerThreads[name])?.[w]?.imgPerSec;
    const best = torchAt(2)?.[w]?.imgPerSec;
    ratios[name][w] = {
      vsSameThreads: mine && peer ? +(mine / peer).toFixed(3) : null,
      torchThreads: peerThreads[name],
      vsTorch2: mine && best ? +(mine / best).toFixed(3) : null,
    };
  }
}

const LABELS = {
  pytorch2: 'PyTorch CPU, 2 threads',
  pytorch1: 'PyTorch CPU, 1 thread',
  wasm2: 'advx wasm, 2 threads',
  wasm1: 'advx wasm, 1 thread',
  webgpu: 'advx webgpu (Dawn, lavapipe)',
  cpu: 'advx cpu (pure JS)',
};
const fmt = (v) => (v === undefined || v === null ? '—' : v >= 100 ? String(Math.round(v)) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const cell = (row) => {
  if (!row) return '—';
  return row.batch !== B ? `${fmt(row.imgPerSec)} (batch ${row.batch})` : fmt(row.imgPerSec);
};
const lines = [];
lines.push('| engine | forward | input gradient | PGD-40 (one attack) | adv. training step | peak RSS |');
lines.push('|---|---|---|---|---|---|');
for (const t of [2, 1]) {
  const w = torchAt(t);
  if (w)
    lines.push(
      `| ${LABELS[`pytorch${t}`]} | ${WORKLOADS.map((k) => cell(w[k])).join(' | ')} | ${Math.round((engines.pytorch.maxRssBytes ?? 0) / 2 ** 20)} MiB (both) |`,
    );
}
for (const name of ['wasm2', 'wasm1', 'webgpu', 'cpu']) {
  const e = engines[name];
  if (!e) continue;
  if (e.error) {
    lines.push(`| ${LABELS[name]} | ${e.error} | | | | |`);
    continue;
  }
  const r = ratios[name];
  const cells = WORKLOADS.map((k) => {
    const ratio = r[k].vsSameThreads;
    return `${cell(e.workloads[k])}${ratio === null ? '' : ` (${ratio.toFixed(2)}×)`}`;
  });
  lines.push(`| ${LABELS[name]} | ${cells.join(' | ')} | ${Math.round(e.memory.maxRssBytes / 2 ** 20)} MiB |`);
}
const mib = (b) => (b === undefined || b === null ? '—' : `${(b / 2 ** 20).toFixed(0)} MiB`);
const checks = [
  '| engine | logits vs PyTorch (max abs diff) | input gradient vs PyTorch, noise images (max diff / max) | same, MNIST images (cosine; tied pooling windows) | PGD-40 success rate | peak tf.memory (max over workloads) | tensor counts flat |',
  '|---|---|---|---|---|---|---|',
];
for (const t of [2, 1]) {
  const w = torchAt(t);
  if (w)
    checks.push(
      `| ${LABELS[`pytorch${t}`]} | reference (vs tfjs cpu: ${engines.pytorch.logitsVsTfjsCpu.maxAbsDiff.toExponential(1)}) | reference | reference | ${w.pgd40.successRate} | — | — |`,
    );
}
for (const name of ['wasm2', 'wasm1', 'webgpu', 'cpu']) {
  const e = engines[name];
  if (!e || e.error) continue;
  const v = e.vsPyTorch;
  const rows = Object.values(e.workloads);
  const peak = Math.max(...rows.map((r) => r.peakBytes ?? 0));
  // Per workload: equal counts between the warm-up and the end of the timed runs. Without a warm-up,
  // the first run creates what the workload keeps on purpose (Adam's moments): then the process-wide
  // check decides (the count once everything is disposed equals the count at the start).
  const flat = rows.every((r) => r.warmupMs === undefined || r.tensorsFlat) && e.tensors.flat && (e.leak?.flat ?? true);
  const leak = e.leak ? `; ${e.leak.steps} input-gradient steps: ${e.leak.counts[0].numTensors} → ${e.leak.counts.at(-1).numTensors}` : '';
  checks.push(
    `| ${LABELS[name]} | ${v ? v.logits.maxAbsDiff.toExponential(1) : '—'} | ${v ? v.inputGradNoise.relMaxDiff.toExponential(1) : '—'} | ` +
      `${v ? v.inputGrad.cosine.toFixed(3) : '—'} | ${e.workloads.pgd40?.successRate ?? '—'}${e.workloads.pgd40 && e.workloads.pgd40.batch !== B ? ` (batch ${e.workloads.pgd40.batch})` : ''} | ` +
      `${peak > 0 ? mib(peak) : '—'} | ${flat ? 'yes' : 'NO'}${leak} |`,
  );
}
const table = lines.join('\n');
const checksTable = checks.join('\n');

// --retable --out <an earlier result>: keep that run's time stamps, commit and machine figures.
const previous = RETABLE && opt('out') && existsSync(opt('out')) ? JSON.parse(readFileSync(opt('out'), 'utf8')) : undefined;
const result = {
  description:
    "bench/backends.mjs: the zoo's mnist-cnn, batch 128 of MNIST test images, images per second (batch / median time of the timed runs after one warm-up). " +
    'Ratios: advx / PyTorch CPU at the same thread count (cpu backend ↔ 1 thread, webgpu ↔ 2 threads); vsTorch2 against PyTorch at 2 threads.',
  startedAt: previous?.startedAt ?? startedAt.toISOString(),
  endedAt: previous?.endedAt ?? new Date().toISOString(),
  commit: previous?.commit ?? gitCommit(),
  quick: QUICK,
  machine: previous?.machine ?? machine,
  model: { id: 'mnist-cnn', parameters: exported.parameters, batch: B, epsilon: 0.3 },
  pytorchLogitsVsTfjs: engines.pytorch?.logitsVsTfjsCpu ?? null,
  engines,
  ratios,
  table,
  checksTable,
};

process.stdout.write(`\n${table}\n\n${checksTable}\n\n`);
if (previous) log(`--retable: time stamps, commit and machine figures kept from ${relative(root, opt('out'))}`);
for (const [name, e] of Object.entries(engines)) {
  if (e.error) continue;
  if (e.vsPyTorch)
    log(
      `${name}: logits max |diff| vs PyTorch ${e.vsPyTorch.logits.maxAbsDiff.toExponential(2)}, input-gradient cosine ${e.vsPyTorch.inputGrad.cosine.toFixed(5)}`,
    );
  if (e.leak)
    log(
      `${name}: numTensors over ${e.leak.steps} input-gradient steps: ${e.leak.counts.map((c) => c.numTensors).join(' → ')} (${e.leak.flat ? 'flat' : 'NOT FLAT'})`,
    );
}
if (QUICK && !args.includes('--out')) {
  log('--quick: results not saved');
} else {
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const file = opt('out', join(dir, `backends-${startedAt.toISOString().slice(0, 16).replace(':', '-')}.json`));
  writeFileSync(file, `${JSON.stringify(result, null, 1)}\n`);
  log(`wrote ${relative(root, file)} (${Math.round((Date.now() - startedAt.getTime()) / 1000)} s in all)`);
}
