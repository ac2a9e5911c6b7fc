/** The measurement of autoattack-figure.mjs (run through it: bundled so that tfjs registers its gradients). */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@advx/attacks/register-all';
import { useWasm } from '@advx/backend-wasm';
import { autoAttack, clopperPearson, evaluate } from '@advx/eval';
import { loadDataset, loadModel } from '@advx/models-zoo';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const N = Number(arg('--n', '100'));
const THREADS = Number(arg('--threads', '2'));
const MODEL = arg('--model', 'mnist-cnn-at');
const EPS = Number(arg('--eps', '0.3'));
const SEED = 0;
const BATCH = 128;
const NO_SAVE = args.includes('--no-save');

tf.env().set('PROD', true);
const wasm = await useWasm({ threads: THREADS });
const { x, y } = await loadDataset('mnist', { count: N, source: 'shipped' });
const zoo = await loadModel(MODEL);
const model = zoo.model;

const preset = autoAttack({ version: 'standard', norm: 'linf' });
const byLabel = Object.fromEntries(preset.attacks.map((a) => [a.label, a]));
/** The single-attack rows: PGD-40 as `advx eval`'s default grid has it, the rest with AutoAttack's settings. */
const SINGLE = [
  { name: 'pgd', options: { steps: 40, stepSize: 0.01 }, label: 'PGD-40' },
  { ...byLabel['APGD-CE'], label: 'APGD-CE' },
  { ...byLabel['APGD-T'], label: 'APGD-T' },
  { ...byLabel['FAB-T'], label: 'FAB-T' },
];

const started = new Date();
const stamp = started.toISOString().slice(0, 16).replace(':', '-');
const report = {
  date: started.toISOString(),
  partial: true,
  n: N,
  model: MODEL,
  norm: 'linf',
  epsilon: EPS,
  seed: SEED,
  batchSize: BATCH,
  diagnostics: false,
  backend: `wasm, tfjs ${tf.version_core}`,
  tfjs: tf.version_core,
  wasm: { simd: wasm.simd, threads: wasm.threads, kernels: wasm.kernels },
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, loadAverageAtStart: loadavg().map((v) => Math.round(v * 100) / 100) },
  autoAttack: { version: preset.ensemble.version, attacks: preset.attacks, omitted: preset.omitted },
  clean: null,
  rows: {},
  autoAttackStages: null,
  fabTVsApgdT: null,
};
const dir = join(process.cwd(), 'bench', 'results');
const file = join(dir, `autoattack-figure-${stamp}.json`);
const save = () => {
  if (NO_SAVE) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 1)}\n`);
};

const data = { x, labels: y, name: 'mnist' };
const common = { model, data, epsilons: [EPS], norm: 'linf', seed: SEED, batchSize: BATCH, diagnostics: false, modelId: MODEL };
const interval = (k) => clopperPearson(k, N).map((v) => Math.round(v * 1e4) / 1e4);
/** Per sample, whether the attack `a` of `result` fooled it at the one ε (true), failed (false) or did not run (null). */
const fooled = (result, a) => result.samples.map((s) => s.attacks[a].success[0]);

/** Runs one evaluate() call and returns the result and its wall time in seconds. */
async function timed(options) {
  const t0 = Date.now();
  const result = await evaluate({ ...common, ...options });
  return { result, seconds: (Date.now() - t0) / 1000 };
}

const perSample = {};
const order = ['PGD-40', 'APGD-CE', 'AutoAttack', 'APGD-T', 'FAB-T'];
for (const row of order) {
  const spec = SINGLE.find((s) => s.label === row);
  const { result, seconds } = spec ? await timed({ attacks: [spec] }) : await timed({ attacks: preset.attacks, mode: preset.mode, ensemble: preset.ensemble });
  if (report.clean === null) {
    const k = Math.round(result.cleanAccuracy * N);
    report.clean = { accuracy: result.cleanAccuracy, correct: k, interval: result.cleanInterval, intervalCheck: interval(k) };
  }
  const last = result.attacks[result.attacks.length - 1];
  const ra = last.perEpsilon[0].robustAccuracy;
  const robust = Math.round(ra * N);
  report.rows[row] = {
    attacks: result.config.attacks.map((a) => ({ label: a.label, name: a.name, options: a.options })),
    robustAccuracy: ra,
    robust,
    interval: last.perEpsilon[0].robustInterval,
    seconds,
    passes: result.attacks.map((a) => ({ label: a.label, passes: a.passes ?? null, timeMs: a.timeMs, meanQueries: a.perEpsilon[0].meanQueries })),
  };
  if (row === 'AutoAttack') {
    let before = report.clean.correct;
    report.autoAttackStages = result.attacks.map((a, i) => {
      const e = a.perEpsilon[0];
      const f = fooled(result, i);
      const fooledIdx = result.samples.filter((_, j) => f[j] === true).map((s) => s.index);
      const after = Math.round(e.robustAccuracy * N);
      const stage = {
        label: a.label,
        attacked: e.attacked,
        fooled: fooledIdx.length,
        fooledSamples: fooledIdx,
        robustAfter: after,
        robustAccuracyAfter: e.robustAccuracy,
        interval: e.robustInterval,
        seconds: a.timeMs / 1000,
        passes: a.passes ?? null,
        meanQueries: e.meanQueries,
        consistent: before - fooledIdx.length === after,
      };
      before = after;
      return stage;
    });
  } else {
    perSample[row] = fooled(result, 0);
  }
  console.log(
    `${row}: robust ${robust}/${N} = ${(100 * ra).toFixed(1)} % [${last.perEpsilon[0].robustInterval.map((v) => (100 * v).toFixed(1)).join('–')} %] (${seconds.toFixed(1)} s)`,
  );
  save();
}

// FAB-T against APGD-T, run alone on the same (clean-correct) samples.
const fab = perSample['FAB-T'];
const apgdT = perSample['APGD-T'];
const idx = (pred) =>
  fab
    .map((_, j) => j)
    .filter(pred)
    .map((j) => j);
report.fabTVsApgdT = {
  ranOn: fab.filter((v) => v !== null).length,
  fabTOnly: idx((j) => fab[j] === true && apgdT[j] !== true),
  apgdTOnly: idx((j) => apgdT[j] === true && fab[j] !== true),
  both: idx((j) => fab[j] === true && apgdT[j] === true).length,
  neither: idx((j) => fab[j] === false && apgdT[j] === false).length,
};
// Samples any single-attack row fooled that AutoAttack did not (should be none unless seeds or stage order matter).
const aaFooled = new Set(report.autoAttackStages.flatMap((s) => s.fooledSamples));
report.foolednotByAutoAttack = Object.fromEntries(
  Object.entries(perSample).map(([row, f]) => [row, f.map((v, j) => (v === true && !aaFooled.has(j) ? j : -1)).filter((j) => j >= 0)]),
);
report.ordering = {
  autoAttackLeApgdCe: report.rows.AutoAttack.robust <= report.rows['APGD-CE'].robust,
  apgdCeLePgd40: report.rows['APGD-CE'].robust <= report.rows['PGD-40'].robust,
};
report.partial = false;
report.totalSeconds = (Date.now() - started.getTime()) / 1000;
report.machine.loadAverageAtEnd = loadavg().map((v) => Math.round(v * 100) / 100);
save();

zoo.layers.dispose();
tf.dispose([x, y]);

const pct = (v) => `${(100 * v).toFixed(1)} %`;
const ci = (r) => `[${r.map((v) => (100 * v).toFixed(1)).join('–')} %]`;
const lines = [
  '',
  `${MODEL}, Linf ε = ${EPS}, n = ${N} (clean ${pct(report.clean.accuracy)}), wasm ${wasm.threads} threads, tfjs ${tf.version_core}`,
  '',
  '| attack | robust accuracy [95 % CI] | robust / n | time (s) |',
  '|---|---|---|---|',
];
for (const row of order) {
  const r = report.rows[row];
  lines.push(
    `| ${row === 'AutoAttack' ? 'AutoAttack standard' : row} | ${pct(r.robustAccuracy)} ${ci(r.interval)} | ${r.robust} / ${N} | ${r.seconds.toFixed(0)} |`,
  );
}
lines.push('', '| AutoAttack stage | ran on | fooled | robust after | time (s) |', '|---|---|---|---|---|');
for (const s of report.autoAttackStages)
  lines.push(`| ${s.label} | ${s.attacked} | ${s.fooled} | ${s.robustAfter} / ${N} ${ci(s.interval)} | ${s.seconds.toFixed(0)} |`);
const c = report.fabTVsApgdT;
lines.push(
  '',
  `FAB-T vs APGD-T alone (on ${c.ranOn} clean-correct samples): FAB-T only ${c.fabTOnly.length} [${c.fabTOnly.join(', ')}], APGD-T only ${c.apgdTOnly.length} [${c.apgdTOnly.join(', ')}], both ${c.both}, neither ${c.neither}`,
);
lines.push(
  `ordering AA ≤ APGD-CE: ${report.ordering.autoAttackLeApgdCe}; APGD-CE ≤ PGD-40: ${report.ordering.apgdCeLePgd40}; total ${report.totalSeconds.toFixed(0)} s`,
);
console.log(lines.join('\n'));
if (!NO_SAVE) console.log(`wrote ${file}`);
