/**
 * The binarization test of Zimmermann et al. (NeurIPS 2022): an active check that an attack finds an
 * adversarial example where one is known to exist.
 */
import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, checkInteger, checkNumber, deriveSeed, fromFunction, Rng, validateGoal, validateInput, type Attack, type Model } from '@advx/core';
import { disposable, forEachChunk } from '@advx/core/plugin';

import { clopperPearson } from './clopper-pearson.js';

/**
 * Norms of the binarization test: those the paper's reference code samples in.
 *
 * @public
 */
export type BinarizationNorm = 'linf' | 'l2';

/**
 * Options of {@link binarizationTest} (and of {@link binarizeSample}, which takes one sample).
 *
 * @public
 */
export interface BinarizationTestOptions {
  /** The white-box model under evaluation; its features define every binary classifier. */
  readonly model: Model;
  /** Clean samples `[n, ...model.inputShape]` inside the model's bounds, and their int32 labels `[n]`. */
  readonly data: {
    /** The clean samples `[n, ...model.inputShape]`. */
    readonly x: tf.Tensor;
    /** Their labels `[n]` (int32). */
    readonly labels: tf.Tensor1D;
  };
  /** The attack under test, configured for `norm` (e.g. `pgd({ steps: 100 })`). Fixed-epsilon or minimization. */
  readonly attack: Attack;
  /** Radius of the threat model, > 0, in the units of the input. */
  readonly epsilon: number;
  /** Norm of the threat model: `'linf'` or `'l2'`. */
  readonly norm: BinarizationNorm;
  /**
   * Random inner points (class 0) drawn per sample besides the clean sample itself, an integer ≥ 1.
   * Default: 999 (the paper's case studies: 999 inner points and 1 boundary point), lowered to
   * `d − 3` for features of dimension `d < 1002`, so that the `inner + 2` training points stay fewer
   * than the feature dimension, as the reference code asks (it warns otherwise); with the default
   * logits features of a 10-class model that is 7.
   */
  readonly inner?: number;
  /**
   * Features `φ(x)` the linear readout is fitted on: a differentiable function of a raw batch (the
   * input of `model.logits`) to `[n, d]`, built from tfjs ops. Default: `model.logits`. The paper uses
   * the penultimate layer (e.g. `(x) => layersModel.execute(x, penultimate.output.name)`).
   */
  readonly features?: (x: tf.Tensor) => tf.Tensor2D;
  /** Seed of every random draw (default 0); sample `i` draws from a stream derived from `(seed, i)`. */
  readonly seed?: number;
  /** Images per forward pass when computing the features of the training points (default 128). Results do not depend on it. */
  readonly batchSize?: number;
  /** Gap between inner and boundary points relative to ε (default 0.05: inner points lie within 0.95·ε, as in the reference code). */
  readonly innerGap?: number;
  /** Most Adam steps of the logistic-regression fit (default 5000); a sample whose fit does not separate its points in time is indeterminate. */
  readonly fitSteps?: number;
  /** Aborts the test between samples with AdvxError `ABORTED`, leaking nothing. */
  readonly signal?: AbortSignal;
}

/**
 * Outcome of the test on one sample: the attack found the known-to-exist adversarial (`pass`), did
 * not (`fail`), or the test could not be set up (`indeterminate`).
 *
 * @public
 */
export type BinarizationStatus = 'pass' | 'fail' | 'indeterminate';

/**
 * Why a sample is `indeterminate`: the model misclassifies the clean sample; no point of the
 * bounds lies on the ε-sphere in the sampled direction; or the fitted readout does not classify the
 * clean sample, every inner point and the boundary point correctly (on the binary model itself).
 *
 * @public
 */
export type BinarizationReason = 'misclassified' | 'no-boundary-point' | 'not-separable';

/**
 * The test on one sample.
 *
 * @public
 */
export interface BinarizationSample {
  /** Index of the sample in `data`. */
  readonly index: number;
  /** `pass`, `fail` or `indeterminate`. */
  readonly status: BinarizationStatus;
  /** Why the sample is indeterminate (absent otherwise). */
  readonly reason?: BinarizationReason;
  /** Readout score `s = w·φ + b` of the known adversarial (> 0 on valid tests; NaN when not built). */
  readonly boundaryScore: number;
  /** Readout score of the attack's output clipped to ε (> 0 means adversarial; NaN when not attacked). */
  readonly attackScore: number;
  /** Adam steps the readout fit took (0 when not fitted). */
  readonly fitSteps: number;
}

/**
 * Result of {@link binarizationTest}.
 *
 * @public
 */
export interface BinarizationTestResult {
  /** One entry per sample, in order. */
  readonly samples: readonly BinarizationSample[];
  /** Counts of each status; `valid` = `pass + fail`. */
  readonly counts: {
    /** Valid tests the attack passed. */
    readonly pass: number;
    /** Valid tests it failed. */
    readonly fail: number;
    /** Samples without a valid test. */
    readonly indeterminate: number;
    /** `pass + fail`. */
    readonly valid: number;
    /** All samples. */
    readonly total: number;
  };
  /** Indeterminate samples by reason. */
  readonly indeterminateReasons: Readonly<Record<BinarizationReason, number>>;
  /** `pass / valid` (NaN when no test was valid). */
  readonly passRate: number;
  /** Clopper–Pearson 95 % interval of the pass rate ([0, 1] when no test was valid). */
  readonly interval: readonly [number, number];
  /** The settings the test ran with (defaults filled in). */
  readonly config: {
    /** The attack's registry name. */
    readonly attack: string;
    /** The ε of every test. */
    readonly epsilon: number;
    /** The norm of every test. */
    readonly norm: BinarizationNorm;
    /** Inner points per sample. */
    readonly inner: number;
    /** Dimension of the features the readout is fitted on. */
    readonly featureDimension: number;
    /** The base seed. */
    readonly seed: number;
  };
}

/**
 * The binary classifier of one sample, from {@link binarizeSample}. The caller disposes it.
 *
 * @public
 */
export interface BinarizedSample {
  /** Why the construction failed; absent when the test on this sample is valid. */
  readonly reason?: BinarizationReason;
  /**
   * The binary model `z(x') = [0, w·(φ(x') − φ(x)) + b]` (bounds of the original model, logits;
   * class 1 is adversarial). Present unless the reason is `misclassified` or `no-boundary-point`.
   */
  readonly model?: Model;
  /** The known adversarial `x̃` `[1, ...inputShape]` (class 1, at distance ε up to rounding), when one was drawn. */
  readonly knownAdversarial?: tf.Tensor;
  /** The clean sample and the inner points `[1 + inner, ...inputShape]` (class 0), when drawn. */
  readonly innerPoints?: tf.Tensor;
  /** Readout score of the known adversarial on the binary model (NaN when not built). */
  readonly boundaryScore: number;
  /** Adam steps the fit took. */
  readonly fitSteps: number;
  /** Disposes every tensor held (the readout weights and the points). */
  dispose(): void;
}

interface Resolved {
  readonly model: Model;
  readonly attack: Attack;
  readonly epsilon: number;
  readonly norm: BinarizationNorm;
  readonly inner: number;
  readonly features: (x: tf.Tensor) => tf.Tensor2D;
  readonly featureDimension: number;
  readonly seed: number;
  readonly batchSize: number;
  readonly innerGap: number;
  readonly fitSteps: number;
}

const NAME = 'binarizationTest';
/** Adam settings of the fit: the reference code's learning rate 5e-2, PyTorch's betas and epsilon. */
const LEARNING_RATE = 0.05;
const BETA1 = 0.9;
const BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;
/** The fit stops once the largest gradient entry is below this (scikit-learn's default `tol`), the points separated. */
const GRADIENT_TOLERANCE = 1e-4;
/** A fit counts as separating once every training point is on its side by this fraction of the score range (float32 safety). */
const FIT_MARGIN = 1e-3;
/** Boundary points sit at ε·(1 − 2⁻²⁰): on the sphere, kept inside the closed ball after float32 rounding. */
const SPHERE_SHRINK = 1 - 2 ** -20;

function fail(message: string, code: 'INVALID_OPTION' | 'INVALID_MODEL' | 'UNSUPPORTED_NORM' = 'INVALID_OPTION'): never {
  throw new AdvxError(code, `${NAME}: ${message}`);
}

async function resolve(options: BinarizationTestOptions, withData: boolean): Promise<Resolved> {
  if (options === null || typeof options !== 'object') fail('needs { model, data: { x, labels }, attack, epsilon, norm }.');
  const { model, attack } = options;
  if (model === null || typeof model !== 'object' || model.kind !== 'model' || typeof model.logits !== 'function') {
    fail('model must be an advx white-box Model: wrap tfjs models with fromLayersModel, fromGraphModel or fromFunction.', 'INVALID_MODEL');
  }
  if (attack === null || typeof attack !== 'object' || typeof attack.run !== 'function' || typeof attack.meta !== 'object') {
    fail('attack must be a configured Attack, e.g. pgd({ steps: 100 }).');
  }
  const norm = options.norm;
  if (norm !== 'linf' && norm !== 'l2') {
    fail(`norm must be 'linf' or 'l2' (the norms the test samples in), got ${String(norm)}.`, 'UNSUPPORTED_NORM');
  }
  const attackNorm = (attack.options as { norm?: unknown }).norm;
  if (!attack.meta.norms.includes(norm) || (attackNorm !== undefined && attackNorm !== norm)) {
    fail(
      `the attack ${attack.meta.name} uses norm '${String(attackNorm ?? attack.meta.norms.join(', '))}', not the test's '${norm}'. Configure it with { norm: '${norm}' }.`,
      'UNSUPPORTED_NORM',
    );
  }
  const epsilon = checkNumber(`${NAME}: epsilon`, options.epsilon, 0, Infinity, true);
  const seed = checkInteger(`${NAME}: seed`, options.seed ?? 0, 0, 2 ** 32 - 1);
  const batchSize = checkInteger(`${NAME}: batchSize`, options.batchSize ?? 128, 1);
  const innerGap = checkNumber(`${NAME}: innerGap`, options.innerGap ?? 0.05, 0, 1);
  const fitSteps = checkInteger(`${NAME}: fitSteps`, options.fitSteps ?? 5000, 1);
  if (options.inner !== undefined) checkInteger(`${NAME}: inner`, options.inner, 1);
  if (options.features !== undefined && typeof options.features !== 'function') fail('features must be a function (x: Tensor) => Tensor2D.');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) fail('signal must be an AbortSignal.');
  if (withData) {
    const data = options.data;
    if (data === null || typeof data !== 'object' || !(data.x instanceof tf.Tensor)) fail('data must be { x, labels } with x a tf.Tensor [n, ...inputShape].');
    await validateInput(model, data.x);
    await validateGoal({ labels: data.labels }, data.x.shape[0] as number, model.numClasses);
  }
  const features = options.features ?? ((x: tf.Tensor) => model.logits(x));
  const probe = tf.tidy(() => features(tf.fill([1, ...model.inputShape], (model.bounds[0] + model.bounds[1]) / 2)));
  const shape = probe.shape;
  probe.dispose();
  if (shape.length !== 2 || shape[0] !== 1 || !(shape[1] >= 1))
    fail(`features must return [n, d] for a batch of n; got shape [${shape.join(', ')}] for n = 1.`);
  const featureDimension = shape[1] as number;
  const inner = options.inner ?? Math.max(1, Math.min(999, featureDimension - 3));
  return { model, attack, epsilon, norm, inner, features, featureDimension, seed, batchSize, innerGap, fitSteps };
}

function l2Length(v: Float64Array): number {
  let sum = 0;
  for (const e of v) sum += e * e;
  return Math.sqrt(sum);
}

/** Clipped uniform draw inside the ball of radius `radius` around `x` (inner points). */
function sampleInner(x: Float32Array, r: Resolved, radius: number, rng: Rng): Float32Array {
  const [lo, hi] = r.model.bounds;
  const out = new Float32Array(x.length);
  if (r.norm === 'linf') {
    for (let k = 0; k < x.length; k++) out[k] = Math.min(hi, Math.max(lo, (x[k] as number) + (2 * rng.uniform() - 1) * radius));
    return out;
  }
  const g = Float64Array.from(x, () => rng.normal());
  const len = l2Length(g) || 1;
  const scale = (radius * rng.uniform() ** (1 / x.length)) / len;
  for (let k = 0; k < x.length; k++) out[k] = Math.min(hi, Math.max(lo, (x[k] as number) + scale * (g[k] as number)));
  return out;
}

/**
 * A point at distance `radius` from `x` inside the bounds, with the reference code's clipping-aware
 * rescaling: linf draws δ uniform in [−ε, ε] and scales it so that its largest entry with room for
 * ε reaches ε; l2 draws a uniform direction and scales it so that the clipped point is at L2 distance
 * ε. `undefined` when the bounds leave no such point in the drawn direction.
 */
function sampleBoundary(x: Float32Array, r: Resolved, radius: number, rng: Rng): Float32Array | undefined {
  const [lo, hi] = r.model.bounds;
  const out = new Float32Array(x.length);
  const room = (k: number, d: number) => (d >= 0 ? hi - (x[k] as number) : (x[k] as number) - lo);
  if (r.norm === 'linf') {
    const delta = Float64Array.from(x, () => (2 * rng.uniform() - 1) * radius);
    let largest = 0;
    for (let k = 0; k < x.length; k++) if (room(k, delta[k] as number) >= radius) largest = Math.max(largest, Math.abs(delta[k] as number));
    if (largest === 0) return undefined;
    const s = radius / largest;
    for (let k = 0; k < x.length; k++) out[k] = Math.min(hi, Math.max(lo, (x[k] as number) + s * (delta[k] as number)));
    return out;
  }
  const g = Float64Array.from(x, () => rng.normal());
  const reach = (t: number) => {
    let sum = 0;
    for (let k = 0; k < x.length; k++) {
      const step = Math.abs(g[k] as number);
      if (step > 0) sum += Math.min(t * step, room(k, g[k] as number)) ** 2;
    }
    return Math.sqrt(sum);
  };
  if (reach(Infinity) < radius) return undefined;
  let tHi = radius / (l2Length(g) || 1);
  while (reach(tHi) < radius) tHi *= 2;
  let tLo = 0;
  for (let i = 0; i < 100; i++) {
    const mid = (tLo + tHi) / 2;
    if (reach(mid) < radius) tLo = mid;
    else tHi = mid;
  }
  for (let k = 0; k < x.length; k++) out[k] = Math.min(hi, Math.max(lo, (x[k] as number) + tLo * (g[k] as number)));
  return out;
}

/** Features of `points` (`count` rows of `size` values), `batchSize` rows per forward pass, as float64 rows. */
async function featuresOf(r: Resolved, points: Float32Array, count: number, size: number): Promise<Float64Array[]> {
  const rows: Float64Array[] = [];
  for (let start = 0; start < count; start += r.batchSize) {
    const m = Math.min(r.batchSize, count - start);
    const f = tf.tidy(() => r.features(tf.tensor(points.subarray(start * size, (start + m) * size), [m, ...r.model.inputShape], 'float32')));
    const values = await f.data();
    f.dispose();
    for (let i = 0; i < m; i++) rows.push(Float64Array.from(values.subarray(i * r.featureDimension, (i + 1) * r.featureDimension)));
  }
  return rows;
}

/**
 * Logistic regression of the labels `y` (1 only for the last row) on the features centered at row 0,
 * with balanced class weights, fitted by full-batch Adam from zero until every point is on its side by
 * {@link FIT_MARGIN} of the score range and the largest gradient entry is below
 * {@link GRADIENT_TOLERANCE} (or `maxSteps`), then rescaled so the scores of the training points span 1
 * (the reference code's `rescale_logits='fixed'`). Fitting on past first separation, as scikit-learn's
 * solver in the paper's case studies does, moves the boundary away from the clean sample.
 */
function fitReadout(rows: Float64Array[], maxSteps: number): { w: Float64Array; b: number; steps: number; separated: boolean } {
  const m = rows.length;
  const d = (rows[0] as Float64Array).length;
  const center = rows[0] as Float64Array;
  const scale = new Float64Array(d);
  const z = rows.map((row) => Float64Array.from(row, (v, j) => v - (center[j] as number)));
  for (let j = 0; j < d; j++) {
    let sq = 0;
    for (const row of z) sq += (row[j] as number) ** 2;
    scale[j] = Math.sqrt(sq / m) || 1;
  }
  for (const row of z) for (let j = 0; j < d; j++) row[j] = (row[j] as number) / (scale[j] as number);
  const weight = (i: number) => (i === m - 1 ? 0.5 : 0.5 / (m - 1));
  const sign = (i: number) => (i === m - 1 ? 1 : -1);
  const w = new Float64Array(d);
  let b = 0;
  const mw = new Float64Array(d + 1);
  const vw = new Float64Array(d + 1);
  const scores = new Float64Array(m);
  const grad = new Float64Array(d + 1);
  const evaluate = () => {
    let lo = Infinity;
    let hi = -Infinity;
    let margin = Infinity;
    for (let i = 0; i < m; i++) {
      const row = z[i] as Float64Array;
      let s = b;
      for (let j = 0; j < d; j++) s += (w[j] as number) * (row[j] as number);
      scores[i] = s;
      lo = Math.min(lo, s);
      hi = Math.max(hi, s);
      margin = Math.min(margin, sign(i) * s);
    }
    return margin > 0 && margin >= FIT_MARGIN * (hi - lo) ? hi - lo : 0;
  };
  const gradient = () => {
    grad.fill(0);
    for (let i = 0; i < m; i++) {
      const row = z[i] as Float64Array;
      const residual = weight(i) * (1 / (1 + Math.exp(-(scores[i] as number))) - (i === m - 1 ? 1 : 0));
      for (let j = 0; j < d; j++) grad[j] = (grad[j] as number) + residual * (row[j] as number);
      grad[d] = (grad[d] as number) + residual;
    }
    let largest = 0;
    for (const g of grad) largest = Math.max(largest, Math.abs(g));
    return largest;
  };
  let steps = 0;
  let range = evaluate();
  while (steps < maxSteps && !(range > 0 && gradient() <= GRADIENT_TOLERANCE)) {
    if (range === 0) gradient();
    steps++;
    const c1 = 1 - BETA1 ** steps;
    const c2 = 1 - BETA2 ** steps;
    for (let j = 0; j <= d; j++) {
      const g = grad[j] as number;
      mw[j] = BETA1 * (mw[j] as number) + (1 - BETA1) * g;
      vw[j] = BETA2 * (vw[j] as number) + (1 - BETA2) * g * g;
      const update = (LEARNING_RATE * ((mw[j] as number) / c1)) / (Math.sqrt((vw[j] as number) / c2) + ADAM_EPSILON);
      if (j === d) b -= update;
      else w[j] = (w[j] as number) - update;
    }
    range = evaluate();
  }
  if (range === 0) return { w, b, steps, separated: false };
  return { w: Float64Array.from(w, (v, j) => v / (scale[j] as number) / range), b: b / range, steps, separated: true };
}

function readoutModel(r: Resolved, center: tf.Tensor2D, weights: tf.Tensor2D, bias: tf.Scalar): Model {
  return fromFunction(
    (x) => {
      const s = tf.add(tf.matMul(tf.sub(r.features(x), center), weights), bias) as tf.Tensor2D;
      return tf.concat([tf.zerosLike(s), s], 1);
    },
    { inputShape: r.model.inputShape, numClasses: 2, bounds: r.model.bounds, output: 'logits' },
  );
}

async function scoresOf(model: Model, x: tf.Tensor): Promise<Float32Array> {
  const s = tf.tidy(() => {
    const z = model.logits(x);
    return tf.reshape(tf.slice(z, [0, 1], [-1, 1]), [-1]);
  });
  const values = (await s.data()) as Float32Array;
  s.dispose();
  return values;
}

async function binarize(r: Resolved, x: tf.Tensor, label: number, index: number): Promise<BinarizedSample> {
  const none = (reason: BinarizationReason, held: tf.Tensor[] = [], extra: Partial<BinarizedSample> = {}): BinarizedSample =>
    disposable({ reason, boundaryScore: Number.NaN, fitSteps: 0, ...extra }, held);
  const predicted = tf.tidy(() => tf.argMax(r.model.logits(x), 1));
  const [cls] = await predicted.data();
  predicted.dispose();
  if (cls !== label) return none('misclassified');

  const size = r.model.inputShape.reduce((p, s) => p * s, 1);
  const clean = (await x.data()) as Float32Array;
  const rng = new Rng(deriveSeed(r.seed, index));
  const innerRadius = (1 - r.innerGap) * r.epsilon;
  const count = r.inner + 2;
  const points = new Float32Array(count * size);
  points.set(clean, 0);
  for (let i = 1; i <= r.inner; i++) points.set(sampleInner(clean, r, innerRadius, rng), i * size);
  const boundary = sampleBoundary(clean, r, r.epsilon * SPHERE_SHRINK, rng);
  if (boundary === undefined) return none('no-boundary-point');
  points.set(boundary, (count - 1) * size);

  const rows = await featuresOf(r, points, count, size);
  const fit = fitReadout(rows, r.fitSteps);
  const center = tf.tensor2d(Float32Array.from(rows[0] as Float64Array), [1, r.featureDimension], 'float32');
  const weights = tf.tensor2d(Float32Array.from(fit.w), [r.featureDimension, 1], 'float32');
  const bias = tf.scalar(fit.b, 'float32');
  const innerPoints = tf.tensor(points.subarray(0, (count - 1) * size), [count - 1, ...r.model.inputShape], 'float32');
  const knownAdversarial = tf.tensor(boundary, [1, ...r.model.inputShape], 'float32');
  const held = [center, weights, bias, innerPoints, knownAdversarial];
  const model = readoutModel(r, center, weights, bias);
  const innerScores: number[] = [];
  let boundaryScore: number;
  try {
    await forEachChunk(innerPoints, r.batchSize, async (chunk) => {
      innerScores.push(...(await scoresOf(model, chunk)));
    });
    boundaryScore = (await scoresOf(model, knownAdversarial))[0] as number;
  } catch (e) {
    tf.dispose(held);
    throw e;
  }
  const valid = fit.separated && boundaryScore > 0 && innerScores.every((s) => s <= 0);
  return disposable(
    {
      ...(valid ? {} : { reason: 'not-separable' as const }),
      model,
      knownAdversarial,
      innerPoints,
      boundaryScore,
      fitSteps: fit.steps,
    },
    held,
  );
}

function checkAborted(signal: AbortSignal | undefined, done: number, total: number): void {
  if (signal?.aborted) throw new AdvxError('ABORTED', `${NAME} was aborted after ${done} of ${total} samples.`, { completed: done });
}

/**
 * Builds the binary classifier of the binarization test for sample `index` of `options.data`
 * (the construction {@link binarizationTest} attacks), to inspect it: the binary model, the known
 * adversarial and the inner points. The attack in `options` is only checked, not run.
 *
 * @param options - as for {@link binarizationTest}.
 * @param index - the sample, 0 ≤ index < n; its random draws are those {@link binarizationTest} makes for it.
 * @returns the construction; dispose it.
 * @throws AdvxError `INVALID_OPTION`, `UNSUPPORTED_NORM`, `INVALID_MODEL` and the input checks' codes, before any work.
 *
 * @example
 * ```ts
 * const b = await binarizeSample({ model, data: { x, labels }, attack: pgd(), epsilon: 0.3, norm: 'linf' }, 0);
 * if (b.reason === undefined) console.log(b.model!.logits(b.knownAdversarial!).arraySync()); // class 1 wins
 * b.dispose();
 * ```
 * @public
 */
export async function binarizeSample(options: BinarizationTestOptions, index: number): Promise<BinarizedSample> {
  const r = await resolve(options, true);
  const n = options.data.x.shape[0] as number;
  checkInteger(`${NAME}: index`, index, 0, n - 1);
  const labels = await options.data.labels.data();
  const x = tf.slice(options.data.x, index, 1);
  try {
    return await binarize(r, x, labels[index] as number, index);
  } finally {
    x.dispose();
  }
}

/**
 * The binarization test: does the attack find an adversarial example where one is known to exist?
 *
 * Paper: Roland S. Zimmermann, Wieland Brendel, Florian Tramèr, Nicholas Carlini (2022), "Increasing
 * Confidence in Adversarial Robustness Evaluations", NeurIPS 2022, {@link https://arxiv.org/abs/2206.13991}
 * (reference code: `active_tests/decision_boundary_binarization.py` of google-research/active-adversarial-tests).
 *
 * For every correctly classified sample `x`: draw `inner` points uniformly in the ball of radius
 * `(1 − innerGap)·ε` around `x` (clipped to the bounds) and one boundary point `x̃` at distance ε
 * (clipping-aware rescaling); fit a linear readout `s = w·(φ(x') − φ(x)) + b` on the features `φ` that
 * puts `x` and the inner points in class 0 (`s ≤ 0`) and `x̃` in class 1 (`s > 0`); the test is valid
 * only when the binary model `z(x') = [0, s(x')]` itself classifies them all so (else
 * `indeterminate`). Then `x̃` is an adversarial of `z` inside the ε-ball, and the attack, run on `z`
 * at ε with label 0, must find one: `pass` when it does, `fail` when not. A sound attack passes nearly
 * every valid test; a low pass rate shows a weak or broken attack (or an evaluation that a defense
 * fools), as in the paper's case studies.
 *
 * Adaptations of the reference code: the default features are the logits (a {@link Model} exposes no
 * penultimate layer; pass `features` for it), and the default `inner` shrinks to `d − 3` for small
 * feature dimensions `d`; the readout is fitted in float64 by Adam (the reference's default optimizer and
 * learning rate 0.05) with balanced class weights and standardized features, to scikit-learn's gradient
 * tolerance 1e-4 once the points are separated (the case studies fit with scikit-learn; stopping at
 * first separation leaves the clean sample next to the boundary), then scaled so the training scores
 * span 1 (`rescale_logits='fixed'`); L2 inner points are
 * uniform in the ball (the reference rescales them onto the 0.95·ε sphere); the paper's optional
 * far-off points, detector checks and random-attack baselines are not part of it.
 *
 * Choose the features with care: few features leave few inner points and a large class-1 region, so
 * the test is easy (on the zoo's mnist-cnn at ε = 0.3 with its 10 logits even FGSM passes every valid
 * test); the penultimate layer (128 features there, 999 inner points) tells FGSM from PGD.
 *
 * Every sample gets its own binary model, so the attack runs once per valid sample (a batch of one,
 * with a seed derived from `(seed, index)`): results do not depend on `batchSize` or on the other samples.
 *
 * Options (defaults): `inner` (999, or `d − 3` for `d < 1002` features), `features` (the logits),
 * `seed` (0), `batchSize` (128), `innerGap` (0.05), `fitSteps` (5000), `signal`.
 *
 * @param options - see {@link BinarizationTestOptions}.
 * @returns per-sample outcomes, counts and the pass rate over valid samples with its Clopper–Pearson 95 % interval.
 * @throws AdvxError `INVALID_OPTION` (bad option), `UNSUPPORTED_NORM` (norm not linf/l2, or not the attack's),
 * `INVALID_MODEL`, and the input checks' `INVALID_SHAPE`, `OUT_OF_BOUNDS`, `LABEL_OUT_OF_RANGE`, …, all before
 * any work; `ABORTED` when `signal` fires.
 *
 * @example
 * ```ts
 * import { pgd } from '@advx/attacks';
 * import { binarizationTest } from '@advx/eval';
 *
 * const result = await binarizationTest({ model, data: { x, labels }, attack: pgd({ steps: 100 }), epsilon: 0.3, norm: 'linf' });
 * console.log(result.passRate, result.interval, result.counts); // e.g. 1, [0.93, 1], { pass: 48, fail: 0, indeterminate: 2, ... }
 * ```
 * @public
 */
export async function binarizationTest(options: BinarizationTestOptions): Promise<BinarizationTestResult> {
  const r = await resolve(options, true);
  const { x: data, labels: labelTensor } = options.data;
  const n = data.shape[0] as number;
  const labels = await labelTensor.data();
  const samples: BinarizationSample[] = [];
  const goal = tf.tensor1d([0], 'int32');
  try {
    await forEachChunk(data, 1, async (x, i) => {
      checkAborted(options.signal, i, n);
      let built: BinarizedSample | undefined;
      try {
        built = await binarize(r, x, labels[i] as number, i);
        if (built.reason !== undefined || built.model === undefined) {
          samples.push({
            index: i,
            status: 'indeterminate',
            reason: built.reason,
            boundaryScore: built.boundaryScore,
            attackScore: Number.NaN,
            fitSteps: built.fitSteps,
          });
          return;
        }
        const result = await r.attack.run(
          built.model,
          x,
          { labels: goal },
          { epsilons: [r.epsilon], seed: deriveSeed(r.seed, i, 1), ...(options.signal ? { signal: options.signal } : {}) },
        );
        let attackScore = Number.NaN;
        try {
          attackScore = (await scoresOf(built.model, result.clipped[0] as tf.Tensor))[0] as number;
        } finally {
          result.dispose();
        }
        const found = result.success[0]?.[0] === true && attackScore > 0;
        samples.push({ index: i, status: found ? 'pass' : 'fail', boundaryScore: built.boundaryScore, attackScore, fitSteps: built.fitSteps });
      } finally {
        built?.dispose();
      }
    });
  } finally {
    goal.dispose();
  }
  const count = (s: BinarizationStatus) => samples.filter((e) => e.status === s).length;
  const pass = count('pass');
  const failed = count('fail');
  const valid = pass + failed;
  const byReason = (reason: BinarizationReason) => samples.filter((e) => e.reason === reason).length;
  return {
    samples,
    counts: { pass, fail: failed, indeterminate: count('indeterminate'), valid, total: n },
    indeterminateReasons: {
      misclassified: byReason('misclassified'),
      'no-boundary-point': byReason('no-boundary-point'),
      'not-separable': byReason('not-separable'),
    },
    passRate: valid === 0 ? Number.NaN : pass / valid,
    interval: clopperPearson(pass, valid),
    config: { attack: r.attack.meta.name, epsilon: r.epsilon, norm: r.norm, inner: r.inner, featureDimension: r.featureDimension, seed: r.seed },
  };
}
