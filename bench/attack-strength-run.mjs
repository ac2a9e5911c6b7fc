/** The measurement of attack-strength.mjs (run through it: bundled so that tfjs registers its gradients). */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@advx/attacks/register-all';
import { useWasm } from '@advx/backend-wasm';
import { getAttack } from '@advx/core';
import { loadDataset, loadModel } from '@advx/models-zoo';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const N = Number(arg('--n', '40'));
const MODELS = arg('--models', 'mnist-cnn,mnist-cnn-at').split(',');
/** Per-sample budget of forward + backward passes (per ε for fixed-ε attacks), or none. */
const MAX_PASSES = arg('--max-passes', undefined) === undefined ? undefined : Number(arg('--max-passes'));

/** The ε grid per norm (MNIST in [0, 1]). */
const GRID = {
  linf: [0.05, 0.1, 0.15, 0.2, 0.25, 0.3],
  l2: [0.5, 1, 1.5, 2, 2.5, 3],
  l1: [2.5, 5, 7.5, 10, 12.5, 15],
};
/** Attacks per norm and their settings (the registry name, options). */
const ATTACKS = {
  linf: [
    ['fgsm', {}],
    ['pgd', { steps: 40, relStepSize: 0.1 }],
    ['apgd-ce', { steps: 100 }],
    ['deepfool', {}],
    ['fmn', { steps: 100 }],
    ['fab', { steps: 50 }],
    ['fab-t', { steps: 50, numTargets: 3 }],
  ],
  l2: [
    ['pgd', { steps: 40, relStepSize: 0.1 }],
    ['apgd-ce', { steps: 100 }],
    ['deepfool', {}],
    ['carlini-wagner-l2', { steps: 150, binarySearchSteps: 6, learningRate: 0.1, initialConst: 0.1 }],
    ['ddn', { steps: 100 }],
    ['fmn', { steps: 100 }],
    ['fab', { steps: 50 }],
    ['fab-t', { steps: 50, numTargets: 3 }],
  ],
  l1: [
    ['pgd', { steps: 40, relStepSize: 0.1 }],
    ['apgd-ce', { steps: 100 }],
    ['ead', { steps: 100, binarySearchSteps: 5, initialConst: 1, learningRate: 0.05, decisionRule: 'l1' }],
    ['fmn', { steps: 100 }],
    ['fab', { steps: 50 }],
  ],
};

/** Mean and largest forward + backward passes per sample and run (per ε for fixed-ε attacks). */
function meanPasses(r, runs) {
  const per = Array.from(r.samplePasses ?? [], (p) => p / runs);
  return { mean: per.reduce((a, b) => a + b, 0) / Math.max(1, per.length), max: Math.max(0, ...per) };
}

tf.env().set('PROD', true);
await useWasm();
const { x, y } = await loadDataset('mnist', { count: N, source: 'shipped' });
const report = {
  date: new Date().toISOString(),
  n: N,
  backend: `wasm, tfjs ${tf.version_core}`,
  maxPasses: MAX_PASSES ?? null,
  grid: GRID,
  attacks: ATTACKS,
  models: {},
};
const budget = MAX_PASSES === undefined ? {} : { maxPasses: MAX_PASSES };

for (const id of MODELS) {
  const zoo = await loadModel(id);
  const model = zoo.model;
  const pred = tf.tidy(() => tf.argMax(model.logits(x), 1));
  const labels = await y.data();
  const correct = Array.from(await pred.data(), (p, i) => p === labels[i]);
  pred.dispose();
  const clean = correct.filter(Boolean).length / N;
  report.models[id] = { clean, norms: {} };
  for (const [norm, list] of Object.entries(ATTACKS)) {
    const grid = GRID[norm];
    /** Per attack: fooled[e][i] — sample i misclassified or fooled within grid[e]. */
    const fooledBy = {};
    const seconds = {};
    const passes = {};
    for (const [name, options] of list) {
      const factory = getAttack(name);
      const attack = factory({ ...options, norm });
      const t0 = Date.now();
      const fooled = grid.map(() => correct.map((c) => !c));
      if (factory.meta.kind === 'minimization') {
        const r = await attack.run(model, x, { labels: y }, { epsilons: [grid[grid.length - 1]], seed: 0, ...budget });
        grid.forEach((eps, e) => r.distances.forEach((d, i) => (fooled[e][i] ||= d <= eps * (1 + 1e-6))));
        passes[name] = meanPasses(r, 1);
        r.dispose();
      } else {
        const r = await attack.run(model, x, { labels: y }, { epsilons: grid, seed: 0, ...budget });
        grid.forEach((_, e) => r.success[e].forEach((s, i) => (fooled[e][i] ||= s)));
        passes[name] = meanPasses(r, grid.length);
        r.dispose();
      }
      seconds[name] = (Date.now() - t0) / 1000;
      fooledBy[name] = fooled;
      console.log(
        `${id} ${norm} ${name}: ${grid.map((_, e) => (1 - fooled[e].filter(Boolean).length / N).toFixed(2)).join(' ')} (${seconds[name].toFixed(0)} s)`,
      );
    }
    const ra = (fooled) => grid.map((_, e) => 1 - fooled[e].filter(Boolean).length / N);
    const best = grid.map((_, e) => 1 - correct.filter((_, i) => Object.values(fooledBy).some((f) => f[e][i]) || !correct[i]).length / N);
    const maxGap = best.reduce((s, b) => s + (clean - b), 0);
    const rows = list.map(([name]) => {
      const curve = ra(fooledBy[name]);
      const gap = curve.reduce((s, v, e) => s + (v - best[e]), 0);
      return { attack: name, curve, optimality: maxGap > 0 ? 1 - gap / maxGap : 1, seconds: seconds[name], passes: passes[name] };
    });
    report.models[id].norms[norm] = { best, rows };
  }
  zoo.layers.dispose();
}
tf.dispose([x, y]);

const pct = (v) => `${(100 * v).toFixed(0)} %`;
const lines = [];
for (const [id, m] of Object.entries(report.models)) {
  for (const [norm, t] of Object.entries(m.norms)) {
    const within = MAX_PASSES === undefined ? '' : `; budget ${MAX_PASSES} passes per sample and run`;
    lines.push(
      '',
      `${id}, ${norm} (clean ${pct(m.clean)}, n = ${N}${within}); robust accuracy at ε = ${GRID[norm].join(' / ')}`,
      '',
      '| attack | optimality | robust accuracy | passes / sample and run (mean, max) | time (s) |',
      '|---|---|---|---|---|',
    );
    for (const r of t.rows)
      lines.push(
        `| ${r.attack} | ${r.optimality.toFixed(3)} | ${r.curve.map(pct).join(' / ')} | ${r.passes.mean.toFixed(0)}, ${r.passes.max.toFixed(0)} | ${r.seconds.toFixed(0)} |`,
      );
    lines.push(`| best of all (per sample) | 1 | ${t.best.map(pct).join(' / ')} | | |`);
  }
}
console.log(lines.join('\n'));
const dir = join(process.cwd(), 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `attack-strength-${report.date.slice(0, 16).replace(':', '-')}${MAX_PASSES === undefined ? '' : `-budget-${MAX_PASSES}`}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 1)}\n`);
console.log(`wrote ${file}`);
