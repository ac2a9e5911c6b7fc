// Benchmark (not a test): MobileNetV2-style and ResNet-18-style networks at 32×32×3 and 224×224×3,
// built in PyTorch (bench/networks_torch.py) and with plain tfjs ops (bench/networks-worker.mjs) with
// identical weights (PyTorch's seeded initialisation, exported), timed side by side: forward, input
// gradient of the cross-entropy, one PGD-10 Linf attack (ε = 8/255), in images per second, with peak
// process RSS, on PyTorch CPU (1 and 2 threads), advx wasm (1 and 2 threads) and advx webgpu (Dawn on
// lavapipe). Each tfjs process first checks its logits and input gradients against PyTorch's.
//
//   node bench/networks.mjs                      # everything (853–890 s measured on a 2-core machine at load 5–9)
//   node bench/networks.mjs --only wasm1,pytorch1 --nets resnet18-32 --quick   # a small try, not saved
//
// Options: --only <engines> (pytorch1, pytorch2, wasm1, wasm2, webgpu), --nets <list>, --quick (tiny
// batches, one run each; nothing saved unless --out), --out <file>, --retable (rebuild the tables and
// the JSON from the per-process files of the last run in bench/.tmp/networks/).
// Environment: ADVX_BENCH_PYTHON (default /usr/bin/python3, Debian's python3-torch), VK_ICD_FILENAMES
// (default: the lavapipe driver of packages/backend-webgpu/scripts/install-lavapipe.sh).
//
// One process per engine and network: the wasm thread count is fixed per process and the peak RSS
// then belongs to one network. Writes bench/results/networks-<date>.json and prints markdown tables.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = process.argv.slice(2);

if (args.includes('--worker')) {
  const { runBundled } = await import('../scripts/run-bundled.mjs');
  await runBundled(join(here, 'networks-worker.mjs'));
  process.exit(0);
}

const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const QUICK = args.includes('--quick');
const RETABLE = args.includes('--retable');
const ENGINES = ['pytorch2', 'pytorch1', 'wasm2', 'wasm1', 'webgpu'];
const NETS = ['mobilenetv2-32', 'resnet18-32', 'mobilenetv2-224', 'resnet18-224'];
const ONLY = opt('only', ENGINES.join(',')).split(',');
const ONLY_NETS = opt('nets', NETS.join(',')).split(',');
const PYTHON = process.env.ADVX_BENCH_PYTHON ?? '/usr/bin/python3';
const work = join(here, '.tmp', 'networks');
mkdirSync(work, { recursive: true });
const log = (m) => process.stderr.write(`[networks] ${m}\n`);

// Batches and timed runs, sized so that one 224×224 row stays near a minute on a 2-core machine:
// forward and input gradient after one warm-up, PGD-10 once (the input-gradient runs warmed its
// kernels). webgpu on lavapipe is several times slower than wasm here: a single small batch, one run.
const size = (net) => (net.endsWith('-224') ? 224 : 32);
function plan(engine, net) {
  const big = size(net) === 224;
  if (QUICK) return { batch: big ? 1 : 2, runs: { forward: 1, inputGrad: 1, pgd10: 1 } };
  if (engine === 'webgpu') return { batch: big ? 1 : 2, runs: { forward: 1, inputGrad: 1, pgd10: 1 } };
  // PyTorch at wasm's batch, so that the ratios compare equal work.
  return { batch: big ? 2 : 8, runs: { forward: 3, inputGrad: 2, pgd10: 1 } };
}

const loadAverage = () => os.loadavg().map((v) => +v.toFixed(2));

function exportNets() {
  for (const net of ONLY_NETS) {
    if (existsSync(join(work, `${net}.json`))) continue;
    const r = spawnSync(PYTHON, [join(here, 'networks_torch.py'), '--role', 'export', '--net', net, '--work', work, '--ref-batch', '4'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.status !== 0) {
      log(`exporting ${net} failed (exit ${r.status}): PyTorch (Debian's python3-torch for ${PYTHON}) is needed to build the weights both sides share`);
      process.exit(1);
    }
  }
}

function runOne(engine, net) {
  const out = join(work, `${engine}-${net}.json`);
  const p = plan(engine, net);
  const load = loadAverage();
  const t0 = Date.now();
  let r;
  if (engine.startsWith('pytorch')) {
    const runs = Object.entries(p.runs)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    r = spawnSync(
      PYTHON,
      [
        join(here, 'networks_torch.py'),
        '--role',
        'bench',
        '--net',
        net,
        '--work',
        work,
        '--threads',
        engine.slice(-1),
        '--batch',
        String(p.batch),
        '--runs',
        runs,
        '--out',
        out,
      ],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
  } else {
    const backend = engine.replace(/\d+$/, '');
    const workloads = Object.fromEntries(Object.entries(p.runs).map(([k, v]) => [k, { batch: p.batch, runs: v }]));
    const workerPlan = { workloads, profile: engine !== 'webgpu', checkImages: size(net) === 224 ? 1 : 4 };
    r = spawnSync(
      process.execPath,
      [
        join(here, 'networks.mjs'),
        '--worker',
        '--name',
        `${engine} ${net}`,
        '--role',
        'bench',
        '--backend',
        backend,
        '--threads',
        engine.slice(-1) === '2' ? '2' : '1',
        '--net',
        net,
        '--work',
        work,
        '--root',
        root,
        '--out',
        out,
        '--plan',
        JSON.stringify(workerPlan),
      ],
      { stdio: ['ignore', 'inherit', 'inherit'], cwd: root, env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? os.tmpdir() } },
    );
  }
  const seconds = Math.round((Date.now() - t0) / 1000);
  if (r.status !== 0 || !existsSync(out)) {
    const e = { error: `exit code ${r.status}${r.signal ? `, signal ${r.signal}` : ''} (see the log)`, seconds, loadAverageBefore: load };
    writeFileSync(out, JSON.stringify(e));
    return e;
  }
  const result = { ...JSON.parse(readFileSync(out, 'utf8')), seconds, loadAverageBefore: load, loadAverageAfter: loadAverage() };
  writeFileSync(out, JSON.stringify(result, null, 1));
  return result;
}

function gitCommit() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--', 'bench', 'packages/backend-wasm', 'packages/core', 'packages/attacks'], {
        cwd: root,
        encoding: 'utf8',
      }).trim() !== '';
    return dirty ? `${head} (uncommitted changes under bench/ or the packages it uses)` : head;
  } catch {
    return null;
  }
}
const versionOf = (pkg) => {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
};

const startedAt = new Date();
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  logicalCores: os.cpus().length,
  memoryBytes: os.totalmem(),
  node: process.version,
  tfjs: versionOf('@tensorflow/tfjs-core'),
  tfjsBackendWasm: versionOf('@tensorflow/tfjs-backend-wasm'),
  tfjsBackendWebgpu: versionOf('@tensorflow/tfjs-backend-webgpu'),
  loadAverageAtStart: loadAverage(),
  note: 'Shared 2-core machine: other jobs may run at the same time; each row records the load average before and after it.',
};
log(`machine: ${machine.cpu}, ${machine.logicalCores} cores, load ${machine.loadAverageAtStart.join(' ')}`);

const rows = {};
if (RETABLE) {
  for (const net of ONLY_NETS) {
    rows[net] = {};
    for (const engine of ONLY) {
      const f = join(work, `${engine}-${net}.json`);
      if (existsSync(f)) rows[net][engine] = JSON.parse(readFileSync(f, 'utf8'));
    }
  }
} else {
  exportNets();
  for (const net of ONLY_NETS) {
    rows[net] = {};
    for (const engine of ENGINES) if (ONLY.includes(engine)) rows[net][engine] = runOne(engine, net);
  }
}
machine.loadAverageAtEnd = loadAverage();

const LABELS = {
  pytorch2: 'PyTorch CPU, 2 threads',
  pytorch1: 'PyTorch CPU, 1 thread',
  wasm2: 'advx wasm, 2 threads',
  wasm1: 'advx wasm, 1 thread',
  webgpu: 'advx webgpu (Dawn, lavapipe)',
};
const PEER = { wasm1: 'pytorch1', wasm2: 'pytorch2', webgpu: 'pytorch2' };
const WORK = ['forward', 'inputGrad', 'pgd10'];
const fmt = (v) => (v === undefined || v === null ? '—' : v >= 100 ? String(Math.round(v)) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
const mib = (b) => `${Math.round(b / 2 ** 20)} MiB`;
const tables = {};
for (const net of ONLY_NETS) {
  const r = rows[net];
  const first = Object.values(r).find((e) => e?.inputShape || e?.net);
  const lines = [
    `| engine (${net}) | batch | forward | input gradient | PGD-10 (one attack) | peak RSS | logits vs PyTorch (max abs / max) | input gradient vs PyTorch (max diff / max) | load before → after |`,
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const engine of ENGINES) {
    const e = r[engine];
    if (!e) continue;
    if (e.error) {
      lines.push(`| ${LABELS[engine]} | ${e.error} | | | | | | | |`);
      continue;
    }
    const peer = r[PEER[engine]];
    const cells = WORK.map((k) => {
      const mine = e.workloads[k]?.imgPerSec;
      // Only at PyTorch's batch (the per-image cost grows at small batches).
      const same = peer?.workloads?.[k]?.batch === e.workloads[k]?.batch;
      const ratio = same && peer.workloads[k].imgPerSec ? mine / peer.workloads[k].imgPerSec : null;
      return `${fmt(mine)}${ratio === null ? '' : ` (${ratio.toFixed(2)}×)`}`;
    });
    const rss = e.maxRssBytes ?? e.memory?.maxRssBytes;
    const v = e.vsPyTorch;
    const load = `${e.loadAverageBefore?.[0] ?? '—'} → ${e.loadAverageAfter?.[0] ?? '—'}`;
    lines.push(
      `| ${LABELS[engine]} | ${e.workloads.forward?.batch ?? '—'} | ${cells.join(' | ')} | ${rss ? mib(rss) : '—'} | ` +
        `${v ? `${v.logits.maxAbsDiff.toExponential(1)} / ${v.logits.maxAbsReference.toFixed(2)}` : 'reference'} | ${v ? v.inputGrad.relMaxDiff.toExponential(1) : 'reference'} | ${load} |`,
    );
  }
  tables[net] = lines.join('\n');
  if (first) process.stdout.write(`\n${tables[net]}\n`);
}

const result = {
  description:
    'bench/networks.mjs: MobileNetV2 and ResNet-18 (CIFAR variants at 32×32×3 with 10 classes, ImageNet variants at 224×224×3 with 1000 classes), ' +
    "identical weights (PyTorch's seeded default initialisation, random batch-norm statistics, exported to tfjs), batch norm in inference mode (not folded), " +
    'uniform random images in [0, 1]. img/s = batch / median of the timed runs after one warm-up; PGD-10: one attack, no warm-up of its own. ' +
    'Ratios: advx / PyTorch CPU at the same thread count (webgpu ↔ 2 threads). Peak RSS: process maxRSS (PyTorch: ru_maxrss), one process per engine and network; ' +
    'for webgpu it is the Node process, lavapipe runs in it (the GPU buffers are host memory).',
  startedAt: startedAt.toISOString(),
  endedAt: new Date().toISOString(),
  commit: gitCommit(),
  quick: QUICK,
  machine,
  rows,
  tables,
};
if (QUICK && !args.includes('--out')) {
  log('--quick: results not saved');
} else {
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const file = opt('out', join(dir, `networks-${startedAt.toISOString().slice(0, 16).replace(':', '-')}.json`));
  writeFileSync(file, `${JSON.stringify(result, null, 1)}\n`);
  log(`wrote ${relative(root, file)} (${Math.round((Date.now() - startedAt.getTime()) / 1000)} s in all)`);
}
