/**
 * Writes the attack gallery and the "Which attack?" page of the docs site:
 * docs/gallery/attacks.json (registry meta, defaults, option declarations, settings, measured figures),
 * docs/public/gallery/<name>.png (original | magnified perturbation | adversarial), and the pages
 * rendered from the JSON by render-attack-pages.mjs.
 *
 *   node docs/scripts/run-make-attack-pages.mjs     # bundles this file first (tfjs ESM, gradients), then runs it
 *   node docs/scripts/run-make-attack-pages.mjs --only fmn,ddn   # measures only these again (the others keep their figures)
 *
 * Every attack registered by @advx/attacks/register-all runs on the zoo's mnist-cnn, wasm backend
 * (1 thread, so the timings compare), seed 0: on the first MNIST test image for the picture, and on the
 * first SAMPLES test images for the figures. Attacks without an entry in SETTINGS run with their defaults
 * at their first norm's standard ε.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import * as attacks from '@advx/attacks';
import '@advx/attacks/register-all';
import { useWasm } from '@advx/backend-wasm';
import { describeOptions, getAttack, getNorm, listAttacks, toQueryModel } from '@advx/core';
import { loadDataset, loadModel } from '@advx/models-zoo';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';

const SAMPLES = 32;
const MODEL = 'mnist-cnn';
// Runs as the bundle in docs/scripts/.bundle/ (run-make-attack-pages.mjs), two levels below docs/.
const docs = new URL('../../', import.meta.url).pathname;
const { writePages } = await import(`${docs}scripts/render-attack-pages.mjs`);

/** The standard ε per norm on MNIST in [0, 1] (l0: pixels). */
const EPSILON = { linf: 0.3, l2: 3, l1: 15, l0: 36 };
/** Per attack: options that keep the gallery run short (few steps or queries), and the norm. */
const SETTINGS = {
  'adversarial-patch': { options: { steps: 20, restarts: 1 } },
  'apgd-t': { options: { steps: 20, numTargets: 3 } },
  apgd: { options: { steps: 20 } },
  'apgd-ce': { options: { steps: 20 } },
  'apgd-dlr': { options: { steps: 20 } },
  'boundary-attack': { options: { maxQueries: 1000 } },
  'carlini-wagner-l2': { options: { steps: 100, binarySearchSteps: 5, initialConst: 1, learningRate: 0.05 } },
  ead: { options: { steps: 100, binarySearchSteps: 5, initialConst: 1, learningRate: 0.05 } },
  fab: { options: { steps: 20 } },
  'fab-t': { options: { steps: 20, numTargets: 3 } },
  'finite-differences': { options: { maxQueries: 2000 } },
  'hop-skip-jump': { options: { maxQueries: 1000 } },
  jsma: { options: {} },
  nes: { options: { maxQueries: 2000 } },
  'one-pixel': { options: { pixels: 5, populationSize: 40, generations: 10 }, epsilon: 5 },
  pgd: { options: { steps: 40, stepSize: 0.01 } },
  simba: { options: { maxQueries: 1000 } },
  spsa: { options: { maxQueries: 2000 } },
  square: { options: { maxQueries: 1000 } },
};

tf.env().set('PROD', true);
await useWasm({ threads: 1 });
const zoo = await loadModel(MODEL);
const data = await loadDataset('mnist', { count: SAMPLES });
/** Name, values and one-line doc of every option, from the attack's option declarations. */
const optionDocs = (factory) => describeOptions(factory.schema).map(({ name, type, doc }) => ({ name, type, doc }));
const exportOf = new Map(Object.entries(attacks).filter(([, f]) => typeof f === 'function' && f.meta).map(([k, f]) => [f.meta.name, k]));

function accessOf(meta) {
  if (meta.threat === 'score') return { model: toQueryModel(zoo.model, { output: 'scores' }), text: 'a query model returning scores' };
  if (meta.threat === 'decision') return { model: toQueryModel(zoo.model, { output: 'label' }), text: 'a query model returning the label only' };
  return { model: zoo.model, text: 'the white-box model' };
}

const probabilities = (x) => tf.tidy(() => tf.softmax(zoo.model.logits(x)));
async function top(x) {
  const p = probabilities(x);
  const values = await p.data();
  p.dispose();
  let best = 0;
  for (let k = 1; k < values.length; k++) if (values[k] > values[best]) best = k;
  return { label: best, confidence: Number(values[best].toFixed(4)) };
}

/** Original | perturbation (δ scaled to the grey range) | adversarial, 28×28 each, ×4, 8 px apart. */
async function writePanel(name, x, adv) {
  const [a, b] = [await x.data(), await adv.data()];
  const delta = b.map((v, i) => v - a[i]);
  const m = Math.max(1e-12, ...delta.map(Math.abs));
  const panels = [a, delta.map((d) => 0.5 + d / (2 * m)), b];
  const s = 4;
  const gap = 8;
  const png = new PNG({ width: 3 * 28 * s + 2 * gap, height: 28 * s });
  png.data.fill(255);
  panels.forEach((p, k) => {
    for (let r = 0; r < 28 * s; r++) {
      for (let c = 0; c < 28 * s; c++) {
        const v = Math.round(255 * Math.min(1, Math.max(0, p[Math.floor(r / s) * 28 + Math.floor(c / s)])));
        const o = 4 * (r * png.width + k * (28 * s + gap) + c);
        png.data[o] = png.data[o + 1] = png.data[o + 2] = v;
        png.data[o + 3] = 255;
      }
    }
  });
  writeFileSync(join(docs, 'public', 'gallery', `${name}.png`), PNG.sync.write(png));
}

mkdirSync(join(docs, 'public', 'gallery'), { recursive: true });
mkdirSync(join(docs, 'gallery'), { recursive: true });
// `--only a,b`: measure only the named attacks again; every other entry keeps its measured example and
// figures from the committed attacks.json (its meta, defaults and option docs are refreshed from the registry).
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? new Set(process.argv[onlyAt + 1].split(',')) : undefined;
const previous = only ? new Map(JSON.parse(readFileSync(join(docs, 'gallery', 'attacks.json'), 'utf8')).entries.map((e) => [e.meta.name, e])) : new Map();
const entries = [];
for (const meta of listAttacks()) {
  const exportName = exportOf.get(meta.name);
  const factory = getAttack(meta.name);
  const kept = only && !only.has(meta.name) ? previous.get(meta.name) : undefined;
  if (kept) {
    entries.push({ ...kept, exportName, meta: JSON.parse(JSON.stringify(meta)), defaults: JSON.parse(JSON.stringify(factory.defaults)), options: optionDocs(factory) });
    continue;
  }
  const s = SETTINGS[meta.name] ?? { options: {} };
  const norm = s.options.norm ?? factory.defaults.norm ?? meta.norms[0];
  const epsilon = s.epsilon ?? EPSILON[norm];
  const access = accessOf(meta);
  const attack = factory(s.options);
  // Targeted-only attacks (JSMA) aim at the next class, (label + 1) mod 10.
  const targeted = !meta.goals.includes('untargeted');
  const run = async (x, labels) => {
    const targets = targeted ? tf.tidy(() => tf.cast(tf.mod(tf.add(labels, 1), 10), 'int32')) : undefined;
    try {
      return await attack.run(access.model, x, targets ? { targets, labels } : { labels }, { epsilons: [epsilon], seed: 0 });
    } finally {
      targets?.dispose();
    }
  };

  const x1 = tf.slice(data.x, 0, 1);
  const y1 = tf.slice(data.y, 0, 1);
  const one = await run(x1, y1);
  const adv = one.clipped[0];
  const d1 = getNorm(norm).distance(adv, x1);
  const distance = Number((await d1.data())[0].toFixed(4));
  d1.dispose();
  const example = { before: await top(x1), after: await top(adv), success: one.success[0][0], distance };
  await writePanel(meta.name, x1, adv);
  one.dispose();
  tf.dispose([x1, y1]);

  const t0 = performance.now();
  const all = await run(data.x, data.y);
  const ms = (performance.now() - t0) / SAMPLES;
  const success = all.success[0];
  const finite = Array.from(all.distances).filter(Number.isFinite).sort((p, q) => p - q);
  const mean = (arr) => (arr ? Array.from(arr).reduce((p, v) => p + v, 0) / arr.length : null);
  const figures = {
    successRate: success.filter(Boolean).length / success.length,
    medianDistance: meta.kind === 'minimization' && finite.length > 0 ? Number(finite[Math.floor((finite.length - 1) / 2)].toFixed(4)) : null,
    meanQueries: all.queries ? Number(mean(all.queries).toFixed(1)) : null,
    msPerImage: Number(ms.toFixed(1)),
  };
  all.dispose();
  entries.push({
    exportName,
    meta: JSON.parse(JSON.stringify(meta)),
    defaults: JSON.parse(JSON.stringify(factory.defaults)),
    options: optionDocs(factory),
    setting: { options: s.options, norm, epsilon, access: access.text, goal: targeted ? 'targeted at (label + 1) mod 10' : 'untargeted' },
    example,
    figures,
  });
  console.log(`${meta.name}: ${JSON.stringify(figures)}`);
}
const run = { model: MODEL, dataset: 'MNIST', samples: SAMPLES, backend: `wasm (1 thread), tfjs ${tf.version_core}` };
writePages(docs, run, entries);
tf.dispose([data.x, data.y]);
zoo.layers.dispose();
