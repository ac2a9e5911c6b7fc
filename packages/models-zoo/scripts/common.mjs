/**
 * Pieces shared by the zoo's training scripts (train.mjs, train-autoencoder.mjs): seeded
 * randomness, rounding, saving a tfjs layers model as `<name>.json` + weights with sha256, the
 * description of the training machine for the model card, and the card's FGSM and PGD entries
 * (also re-measured for shipped models by measure-fgsm.mjs and measure-pgd.mjs).
 *
 * Plain ESM with no import of tfjs itself: the caller passes its `tf` / `tfl` modules, so a bundled
 * script keeps its single copy of the tfjs engine.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { sha256Hex } from '../src/platform-node.ts';

/**
 * sfc32, seeded through splitmix32: the same seed gives the same stream everywhere.
 * Returns a function giving uniform numbers in [0, 1).
 */
export function makeRng(seed) {
  const mix = (a) => {
    let z = (a + 0x9e3779b9) | 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = mix(seed >>> 0),
    b = mix(a ^ 0x1b873593),
    c = mix(b ^ 0xcc9e2d51),
    d = 1;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** A Fisher–Yates permutation of 0..n-1 (Int32Array) drawn from `rng`. */
export function permutation(n, rng) {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** `v` rounded to `digits` decimals, as a number. */
export const round = (v, digits = 4) => Number(v.toFixed(digits));

/**
 * Saves a tfjs layers model into `outDir` as `jsonName` (model.json format, weights manifest
 * pointing at `weightsName`) and `weightsName`; returns the card's file entries
 * `[{ path, bytes, sha256 }]` of both files, in that order.
 *
 * train.mjs writes `model.json` + `weights.bin`: `await saveLayersModel(tf, tfl, model, outDir)`.
 */
export async function saveLayersModel(tf, tfl, model, outDir, jsonName = 'model.json', weightsName = 'weights.bin') {
  let files = [];
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = Array.isArray(artifacts.weightData) ? tf.io.concatenateArrayBuffers(artifacts.weightData) : artifacts.weightData;
      const weights = new Uint8Array(weightData);
      const modelJson = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [weightsName], weights: artifacts.weightSpecs }],
      };
      const json = new TextEncoder().encode(JSON.stringify(modelJson));
      writeFileSync(join(outDir, jsonName), json);
      writeFileSync(join(outDir, weightsName), weights);
      files = [
        { path: jsonName, bytes: json.length, sha256: sha256Hex(json) },
        { path: weightsName, bytes: weights.length, sha256: sha256Hex(weights) },
      ];
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.length } };
    }),
  );
  return files;
}

/** A backend and its thread count as the cards write them: `'wasm, 2 threads'`, `'cpu, 1 thread'`. */
export function backendLabel(backend, threads) {
  return `${backend}, ${threads} thread${threads === 1 ? '' : 's'}`;
}

/**
 * The `training.machine` entry of a model card: CPU, cores, memory, platform, Node, tfjs and its
 * backend, and the wasm backend's XNNPACK thread count where given.
 */
export function machineInfo(tf, threads) {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    platform: `${process.platform}-${process.arch}`,
    node: process.version,
    tfjs: tf.version_core,
    backend: tf.getBackend(),
    ...(threads !== undefined ? { threads } : {}),
  };
}

/**
 * The closing sections of a card.md, the same for every zoo model: License (weights Apache-2.0 and
 * the data's license) and Files (a table with the sha256 of every file), ending with the sentence on
 * how `loader` verifies them (`what`: "the model" / "the models").
 */
export function cardLicenseAndFiles(dataLicense, files, loader, what) {
  return `## License

- Weights: Apache-2.0.
- Training data: ${dataLicense}.

## Files

| File | Bytes | sha256 |
|---|---|---|
${files.map((f) => `| ${f.path} | ${f.bytes} | \`${f.sha256}\` |`).join('\n')}

\`${loader}\` verifies these checksums before building ${what} and throws \`AdvxError\` \`CHECKSUM_MISMATCH\` on a mismatch.
`;
}

/**
 * The card's FGSM entry (Goodfellow et al. 2015: x' = clip(x + eps * sign(grad_x CE), 0, 1), the
 * cross-entropy of the layers model's softmax output clipped to [1e-7, 1]) of `model` (a tfjs
 * LayersModel ending in softmax) on `x` (NHWC in [0, 1]), `y` (int32 labels), in batches of 500:
 * the error rate and the mean top-1 confidence on the errors. `tf` is the caller's tfjs-core module.
 */
export async function fgsmCardEntry(tf, model, x, y, epsilon) {
  let errors = 0;
  let confSum = 0;
  const n = x.shape[0];
  const sample = x.shape.slice(1);
  const classes = model.outputs[0].shape.at(-1);
  const lossFn = (yb) => (xb) => {
    const p = tf.clipByValue(model.apply(xb), 1e-7, 1);
    return tf.neg(tf.sum(tf.mul(tf.oneHot(yb, classes), tf.log(p))));
  };
  for (let i = 0; i < n; i += 500) {
    const size = Math.min(500, n - i);
    const [e, c] = tf.tidy(() => {
      const xb = tf.slice(x, [i, ...sample.map(() => 0)], [size, ...sample]);
      const yb = tf.slice(y, [i], [size]);
      const g = tf.grad(lossFn(yb))(xb);
      const adv = tf.clipByValue(tf.add(xb, tf.mul(tf.sign(g), epsilon)), 0, 1);
      const p = model.predict(adv);
      const wrong = tf.cast(tf.notEqual(tf.argMax(p, 1), yb), 'float32');
      return [tf.sum(wrong), tf.sum(tf.mul(tf.max(p, 1), wrong))];
    });
    errors += (await e.data())[0];
    confSum += (await c.data())[0];
    tf.dispose([e, c]);
  }
  return { epsilon, clipped: true, errorRate: round(errors / n), meanConfidenceOnErrors: round(errors > 0 ? confSum / errors : 0), samples: n };
}

/** The test images an entry was measured on, as the card rows name them (the full test sets have 10,000). */
export const sampleSetLabel = (samples) => (samples === 10000 ? 'full test set' : `first ${samples} test images`);

/** The card.md table row of a {@link fgsmCardEntry}. */
export function fgsmCardRow(entry) {
  const pct = (v) => `${(100 * v).toFixed(2)}%`;
  return `| FGSM eps ${entry.epsilon} (clipped to [0, 1]), ${sampleSetLabel(entry.samples)} | error ${pct(entry.errorRate)}, mean confidence on errors ${pct(entry.meanConfidenceOnErrors)} |`;
}

/** The usual Linf radius per dataset (MNIST 0.3, Madry et al.; Fashion-MNIST 0.1). */
export const STANDARD_EPSILON = { mnist: 0.3, 'fashion-mnist': 0.1 };

/**
 * The card's PGD-40 entry (Madry et al.: 40 steps of eps / 30, i.e. 0.01 at 0.3, random start) of
 * `model` (an advx `Model`, bounds [0, 1]) on `x`, `y` (`set` names them in the card): the robust
 * accuracy under `pgd` (the factory of @advx/attacks, passed in so that a bundled caller keeps its
 * single copy of the library), seed 0, in batches of 250.
 */
export async function pgdCardEntry(pgd, model, x, y, dataset, set) {
  const epsilon = STANDARD_EPSILON[dataset];
  const stepSize = round(epsilon / 30, 5);
  const t0 = performance.now();
  const result = await pgd({ steps: 40, stepSize }).run(model, x, { labels: y }, { epsilons: [epsilon], seed: 0, batchSize: 250 });
  const success = result.success[0];
  result.dispose();
  const robust = success.filter((s) => !s).length / success.length;
  const seconds = Math.round((performance.now() - t0) / 1000);
  return { epsilon, steps: 40, stepSize, randomStart: true, robustAccuracy: round(robust), samples: success.length, set, timeSeconds: seconds };
}

/** The card.md table row of a {@link pgdCardEntry}. */
export function pgdCardRow(entry) {
  return `| PGD-40 eps ${entry.epsilon} (step ${entry.stepSize}, random start; @advx/attacks), ${entry.set} (${entry.samples}) | robust accuracy ${(100 * entry.robustAccuracy).toFixed(2)}% |`;
}

/**
 * The command line of the re-measuring scripts (measure-fgsm.mjs, measure-pgd.mjs), one rule for both:
 * `[<id> ...] [--threads N] [--count N] [--dry-run]`. `ids` are zoo model ids (checked against
 * `knownIds`; none = the script's default set); `threads` the wasm threads (default: every core);
 * `count` the first N test images (absent: the full test set; the card rows then name the count);
 * `dryRun` prints the figures and leaves the cards unchanged. Throws on an unknown id or flag.
 */
export function parseMeasureArgs(argv, knownIds, cores) {
  const args = [...argv];
  const take = (name) => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const v = args[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`);
    args.splice(i, 2);
    return v;
  };
  const threads = Number(take('--threads') ?? cores);
  const countArg = take('--count');
  const count = countArg === undefined ? undefined : Number(countArg);
  const dryRun = args.includes('--dry-run');
  const unknown = args.filter((a) => a.startsWith('--') && a !== '--dry-run');
  if (unknown.length > 0) throw new Error(`unknown flag ${unknown[0]}; flags: --threads N, --count N, --dry-run`);
  const ids = args.filter((a) => !a.startsWith('--'));
  for (const id of ids) if (!knownIds.includes(id)) throw new Error(`unknown zoo model '${id}'; ids: ${knownIds.join(', ')}`);
  if (!Number.isInteger(threads) || threads < 1) throw new Error('--threads must be an integer >= 1');
  if (count !== undefined && !(Number.isInteger(count) && count >= 1)) throw new Error('--count must be an integer >= 1');
  return { ids, threads, count, dryRun };
}
