import * as tf from '@tensorflow/tfjs-core';

import {
  AdvxError,
  assertLogitsOutput,
  crossEntropy,
  defineAttack,
  getNorm,
  option,
  resolveOptions,
  Rng,
  validateInput,
  type AttackResult,
  type FactoryOptions,
  type Model,
  type NormGeometry,
  type OptionsInput,
  type OptionsResolved,
} from '@advx/core';
import { abortedError, CHECKPOINT_OPTIONS, disposable, makeCheckpoint } from '@advx/core/plugin';

import { deepfool } from './deepfool.js';
import { checkEpsilonAndNorm, requireWhiteBox } from './internal/function-options.js';

const PAPER = 'Moosavi-Dezfooli, Fawzi, Fawzi & Frossard (2017), "Universal adversarial perturbations", https://arxiv.org/abs/1610.08401';

/** The options of the fitting, shared by {@link universalPerturbation} and the attack {@link universal}. */
const FIT_OPTIONS = {
  method: option.oneOf(
    ['deepfool', 'gradient'],
    'deepfool',
    "inner step: DeepFool's minimal step for each image not yet fooled (the paper's Algorithm 1), or stochastic gradient ascent on the mini-batch cross-entropy of the images not yet fooled (Shafahi et al. 2020, much faster)",
  ),
  relStepSize: option.number(0.1, 'gradient method: step α relative to ξ', { min: 0, above: true }),
  foolingRate: option.number(0.8, 'stop once this fraction of the images is fooled (1 − δ in the paper)', { min: 0, max: 1, above: true }),
  epochs: option.integer(5, 'maximum passes over the images', { min: 1 }),
  imagesPerStep: option.integer(
    0,
    "images per update of v; 0: the method's own (1 for DeepFool, the paper's sequential algorithm; 32 for the gradient method's mini-batches). DeepFool with more computes a chunk's steps at the same v, then folds them in one after the other",
  ),
  overshoot: option.number(0.02, 'DeepFool overshoot η', { min: 0 }),
  deepfoolSteps: option.integer(50, 'DeepFool steps per image', { min: 1 }),
  candidates: option.integer(10, 'DeepFool candidate classes', { min: 2 }),
};

const FUNCTION_OPTIONS = {
  epsilon: option.number(undefined, 'radius ξ of the perturbation in `norm`, in input units', { min: 0, above: true }),
  norm: option.oneOf(['linf', 'l2'], 'linf', 'perturbation norm; DeepFool runs in the same norm'),
  ...FIT_OPTIONS,
  validation: option.custom<tf.Tensor | null>(null, 'held-out images to report the fooling rate on (null: none)', {
    type: 'a tf.Tensor batch or null',
    accepts: (v) => v === null || v instanceof tf.Tensor,
  }),
  seed: option.number(0, 'seed of the order in which images are visited, reshuffled every epoch'),
  ...CHECKPOINT_OPTIONS,
  onProgress: { ...CHECKPOINT_OPTIONS.onProgress, doc: 'called after each chunk of images (batch: the epoch, batches: the maximum epochs)' },
};

/**
 * Options of {@link universalPerturbation}: `epsilon` is required.
 *
 * @public
 */
export type UniversalPerturbationOptions = OptionsInput<typeof FUNCTION_OPTIONS>;

/**
 * The result of {@link universalPerturbation}. The caller owns `perturbation` and must call `dispose()`.
 *
 * @public
 */
export interface UniversalPerturbationResult {
  /** The perturbation `v`, shape `[1, ...model.inputShape]`, with `‖v‖ ≤ epsilon`. */
  readonly perturbation: tf.Tensor;
  /** Fooling rate on the training images: fraction with `k̂(clip(x + v)) ≠ k̂(x)`. */
  readonly foolingRate: number;
  /** Fooling rate on the `validation` images, when given. */
  readonly validationFoolingRate?: number;
  /** Passes over the training images that were run. */
  readonly epochs: number;
  /** Disposes `perturbation`. */
  dispose(): void;
}

/** What a fit needs besides the images: how to call the model, count, report and abort. */
interface FitScope {
  /** The model for a call on rows `rows` of `x` (a counting model inside an attack). */
  readonly modelOf: (rows: Int32Array) => Model;
  /** The raw model, for the nested DeepFool runs. */
  readonly model: Model;
  /** Counts a nested DeepFool run on rows `rows`. */
  readonly chargeRun: (rows: Int32Array, result: AttackResult) => void;
  /** Abort point and progress report. */
  readonly checkpoint: (epoch: number, epochs: number, image: number, images: number) => Promise<void>;
  /** Rows per model call. */
  readonly rowsPerCall: number;
}

function range(start: number, size: number): Int32Array {
  return Int32Array.from({ length: size }, (_, i) => start + i);
}

/** Predicted classes of `clip(x + v)` (of `x` without `v`), `rowsPerCall` rows per call. */
async function predictWith(scope: FitScope, x: tf.Tensor, v: tf.Tensor | undefined, rows?: Int32Array): Promise<Int32Array> {
  const n = x.shape[0] as number;
  const out = new Int32Array(n);
  for (let b = 0; b < n; b += scope.rowsPerCall) {
    const size = Math.min(scope.rowsPerCall, n - b);
    const m = scope.modelOf(rows ? rows.subarray(b, b + size) : range(b, size));
    const pred = tf.tidy(() => {
      const xb = tf.slice(x, b, size);
      const input = v ? tf.clipByValue(tf.add(xb, v), m.bounds[0], m.bounds[1]) : xb;
      return tf.cast(tf.argMax(m.logits(input), 1), 'int32');
    });
    out.set((await pred.data()) as Int32Array, b);
    pred.dispose();
  }
  return out;
}

function rateOf(pred: Int32Array, labels: Int32Array): number {
  let k = 0;
  pred.forEach((p, i) => (k += p !== labels[i] ? 1 : 0));
  return k / pred.length;
}

/** One gradient step on the summed cross-entropy of the chunk's not-yet-fooled images. */
function gradientStep(
  m: Model,
  x: tf.Tensor,
  idx: Int32Array,
  labels: Int32Array,
  v: tf.Tensor,
  norm: NormGeometry,
  alpha: number,
  epsilon: number,
): tf.Tensor {
  return tf.tidy(() => {
    const [lo, hi] = m.bounds;
    const xb = tf.gather(x, tf.tensor1d(idx, 'int32'));
    const y = tf.tensor1d(labels, 'int32');
    const open = tf.cast(tf.equal(tf.cast(tf.argMax(m.logits(tf.clipByValue(tf.add(xb, v), lo, hi)), 1), 'int32'), y), 'float32');
    const f = (u: tf.Tensor) => tf.sum(tf.mul(crossEntropy(m.logits(tf.clipByValue(tf.add(xb, u), lo, hi)), y), open));
    const g = tf.grad(f)(v);
    return norm.project(tf.add(v, tf.mul(norm.normalizeGradient(g), alpha)), epsilon);
  });
}

/**
 * Algorithm 1 of Moosavi-Dezfooli et al. (or its gradient variant): fits `v` on `x` so that
 * `k̂(clip(x + v)) ≠ labels` for at least `foolingRate` of the images, within `epsilon`. Returns `v`
 * (`[1, ...inputShape]`, the caller's) and the epochs run.
 */
async function fitUniversal(
  scope: FitScope,
  x: tf.Tensor,
  labels: Int32Array,
  epsilon: number,
  norm: NormGeometry,
  o: OptionsResolved<typeof FIT_OPTIONS>,
  seed: number,
): Promise<{ v: tf.Tensor; rate: number; epochs: number }> {
  const m = scope.model;
  const [lo, hi] = m.bounds;
  const n = x.shape[0] as number;
  const chunk = o.imagesPerStep > 0 ? o.imagesPerStep : o.method === 'deepfool' ? 1 : 32;
  const alpha = o.relStepSize * epsilon;
  const inner = deepfool({ norm: norm.name as 'linf' | 'l2', overshoot: o.overshoot, steps: o.deepfoolSteps, candidates: o.candidates });
  const rng = new Rng(seed);
  let v: tf.Tensor = tf.zeros([1, ...m.inputShape]);
  let epochs = 0;
  let rate = 0;
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      epochs = epoch + 1;
      const order = rng.permutation(n);
      for (let start = 0; start < n; start += chunk) {
        await scope.checkpoint(epoch, o.epochs, start, n);
        const idx = Int32Array.from(order.subarray(start, Math.min(n, start + chunk)));
        const chunkLabels = Int32Array.from(idx, (i) => labels[i] as number);
        if (o.method === 'gradient') {
          const prev = v;
          v = gradientStep(scope.modelOf(idx), x, idx, chunkLabels, prev, norm, alpha, epsilon);
          prev.dispose();
          continue;
        }
        const xv = tf.tidy(() => tf.clipByValue(tf.add(tf.gather(x, tf.tensor1d(idx, 'int32')), v), lo, hi));
        const now = await predictWith(scope, xv, undefined, idx);
        const open = Int32Array.from(idx.keys()).filter((j) => now[j] === chunkLabels[j]);
        if (open.length === 0) {
          xv.dispose();
          continue;
        }
        const rows = tf.tensor1d(open, 'int32');
        const xo = tf.gather(xv, rows);
        const yo = tf.tensor1d(
          Int32Array.from(open, (j) => chunkLabels[j] as number),
          'int32',
        );
        xv.dispose();
        rows.dispose();
        try {
          const r = await inner.run(m, xo, { labels: yo });
          try {
            scope.chargeRun(
              Int32Array.from(open, (j) => idx[j] as number),
              r,
            );
            const deltas = tf.tidy(() => tf.sub(r.raw, xo));
            for (let j = 0; j < open.length; j++) {
              if (!Number.isFinite(r.distances[j] as number)) continue;
              const prev = v;
              v = tf.tidy(() => norm.project(tf.add(prev, tf.slice(deltas, j, 1)), epsilon));
              prev.dispose();
            }
            deltas.dispose();
          } finally {
            r.dispose();
          }
        } finally {
          tf.dispose([xo, yo]);
        }
      }
      rate = rateOf(await predictWith(scope, x, v), labels);
      if (rate >= o.foolingRate) break;
    }
    return { v, rate, epochs };
  } catch (err) {
    v.dispose();
    throw err;
  }
}

/**
 * Fooling rate of a universal perturbation: the fraction of images whose predicted class changes,
 * `k̂(clip(x + v)) ≠ k̂(x)` (Moosavi-Dezfooli et al.'s measure; no labels needed).
 *
 * @param model - a {@link Model}.
 * @param x - images `[n, ...model.inputShape]` inside the bounds.
 * @param perturbation - `v`, shape `[1, ...model.inputShape]` or `model.inputShape`.
 * @throws AdvxError `INVALID_MODEL`, `UNSUPPORTED_MODEL`, `INVALID_SHAPE`, `NON_FINITE_INPUT`, `OUT_OF_BOUNDS`.
 *
 * @example
 * ```ts
 * const rate = await foolingRate(model, xTest, result.perturbation);
 * ```
 * @public
 */
export async function foolingRate(model: Model, x: tf.Tensor, perturbation: tf.Tensor): Promise<number> {
  const m = requireWhiteBox(model, 'foolingRate');
  await validateInput(m, x);
  const v = checkPerturbation(m, perturbation);
  const scope = plainScope(m);
  return rateOf(await predictWith(scope, x, v), await predictWith(scope, x, undefined));
}

function checkPerturbation(m: Model, v: unknown): tf.Tensor {
  const shape = m.inputShape.join();
  if (!(v instanceof tf.Tensor) || (v.shape.join() !== shape && v.shape.join() !== [1, ...m.inputShape].join())) {
    throw new AdvxError('INVALID_SHAPE', `perturbation must have shape [1, ${m.inputShape.join(', ')}] or [${m.inputShape.join(', ')}].`);
  }
  return v;
}

/**
 * Universal adversarial perturbation: one perturbation `v` with `‖v‖ ≤ ξ` that changes the
 * model's prediction on most images of a distribution. Passes over the training images; for each
 * image not yet fooled by `v`, DeepFool finds the smallest extra step `Δv` that fools it at
 * `x + v`, and `v ← P_ξ(v + Δv)` (projection onto the ξ ball); `method: 'gradient'` replaces DeepFool
 * by stochastic gradient steps on the cross-entropy of the not-yet-fooled images (Ali Shafahi,
 * Mahyar Najibi, Zheng Xu, John Dickerson, Larry S. Davis, Tom Goldstein (2020), "Universal
 * Adversarial Training", {@link https://arxiv.org/abs/1811.11304}). It stops when the fooling rate on the
 * training images reaches `foolingRate` (1 − δ) or after `epochs` passes.
 *
 * Paper: Seyed-Mohsen Moosavi-Dezfooli, Alhussein Fawzi, Omar Fawzi, Pascal Frossard (2017),
 * "Universal adversarial perturbations", {@link https://arxiv.org/abs/1610.08401} (Algorithm 1).
 *
 * Threat model: white-box (gradients), universal (input-agnostic), untargeted; Linf or L2.
 * Fooling is measured against the model's own predictions on the clean images.
 *
 * Options: `epsilon` (required), `norm` (`'linf'`), the fitting options of {@link universal}, and
 * `validation`, `seed`, `signal`, `onProgress` (see {@link UniversalPerturbationOptions}).
 *
 * @param model - a white-box {@link Model}.
 * @param x - training images `[n, ...model.inputShape]` inside the bounds.
 * @param options - see {@link UniversalPerturbationOptions}.
 * @throws AdvxError `INVALID_MODEL` / `UNSUPPORTED_MODEL`, `INVALID_OPTION`, `INVALID_EPSILON`,
 *   `INVALID_SHAPE`, `NON_FINITE_INPUT`, `OUT_OF_BOUNDS`, `PROBABILITIES_NOT_LOGITS` (before any work), `ABORTED`.
 *
 * @example
 * ```ts
 * import { universalPerturbation } from '@advx/attacks';
 *
 * const uap = await universalPerturbation(model, xTrain, { epsilon: 0.2, norm: 'linf', validation: xTest, seed: 0 });
 * uap.validationFoolingRate; // fraction of held-out images whose prediction changes
 * uap.dispose();
 * ```
 * @public
 */
export async function universalPerturbation(model: Model, x: tf.Tensor, options: UniversalPerturbationOptions): Promise<UniversalPerturbationResult> {
  const m = requireWhiteBox(model, 'universalPerturbation');
  checkEpsilonAndNorm('universalPerturbation', options, ['linf', 'l2']);
  const o = resolveOptions('universalPerturbation', FUNCTION_OPTIONS, options);
  await validateInput(m, x);
  if (o.validation !== null) await validateInput(m, o.validation);
  if (o.signal?.aborted) throw abortedError('universalPerturbation');
  const first = tf.tidy(() => m.logits(tf.slice(x, 0, 1)));
  try {
    await assertLogitsOutput(first);
  } finally {
    first.dispose();
  }
  const checkpoint = makeCheckpoint('universalPerturbation', o);
  const scope: FitScope = {
    ...plainScope(m),
    checkpoint: (epoch, epochs, image, images) =>
      checkpoint({ fraction: (epoch + image / images) / epochs, batch: epoch, batches: epochs, epsilonIndex: 0, step: image, steps: images }),
  };
  // Fooling is measured against the model's own predictions on the clean images.
  const clean = await predictWith(scope, x, undefined);
  const { v, rate, epochs } = await fitUniversal(scope, x, clean, o.epsilon, getNorm(o.norm), o, o.seed);
  try {
    const validationFoolingRate =
      o.validation !== null ? rateOf(await predictWith(scope, o.validation, v), await predictWith(scope, o.validation, undefined)) : undefined;
    return disposable({ perturbation: v, foolingRate: rate, ...(validationFoolingRate !== undefined ? { validationFoolingRate } : {}), epochs }, [v]);
  } catch (err) {
    v.dispose();
    throw err;
  }
}

/** The scope of a fit outside an attack: the raw model, nothing counted. */
function plainScope(m: Model): FitScope {
  return { model: m, modelOf: () => m, chargeRun: () => undefined, checkpoint: async () => undefined, rowsPerCall: 256 };
}

/**
 * Universal adversarial perturbation as an attack: at each ε, one perturbation `v` (`‖v‖ ≤ ε`) is
 * fitted on all the samples of the run together by {@link universalPerturbation}'s algorithm (DeepFool
 * steps, or the gradient variant), against their labels, and applied to each: `x_adv = clip(x + v)`.
 * A dataset-level attack (`meta.scope: 'dataset'`): the run is one batch whatever `batchSize` (which
 * only bounds the rows per model call), a sample's result depends on the others, and `maxPasses`
 * does not apply. In `advx eval` and `evaluate`, v is fitted on each chunk of `batchSize` samples.
 * Much weaker than a per-sample attack at the same ε (one v for all), which is the point: it measures
 * how far an input-agnostic perturbation goes.
 *
 * Paper: Seyed-Mohsen Moosavi-Dezfooli, Alhussein Fawzi, Omar Fawzi, Pascal Frossard (2017),
 * "Universal adversarial perturbations", {@link https://arxiv.org/abs/1610.08401} (Algorithm 1).
 *
 * Threat model: white-box (gradients), universal, untargeted; Linf or L2.
 *
 * Options: {@link universal}.schema, listed by `advx list --options universal-perturbation`:
 *
 * <!-- options:universal-perturbation -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'linf' \| 'l2' | 'linf' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `method` | 'deepfool' \| 'gradient' | 'deepfool' | inner step: DeepFool's minimal step for each image not yet fooled (the paper's Algorithm 1), or stochastic gradient ascent on the mini-batch cross-entropy of the images not yet fooled (Shafahi et al. 2020, much faster) |
 * | `relStepSize` | number in (0, ∞) | 0.1 | gradient method: step α relative to ξ |
 * | `foolingRate` | number in (0, 1] | 0.8 | stop once this fraction of the images is fooled (1 − δ in the paper) |
 * | `epochs` | integer in [1, ∞) | 5 | maximum passes over the images |
 * | `imagesPerStep` | integer in [0, ∞) | 0 | images per update of v; 0: the method's own (1 for DeepFool, the paper's sequential algorithm; 32 for the gradient method's mini-batches). DeepFool with more computes a chunk's steps at the same v, then folds them in one after the other |
 * | `overshoot` | number in [0, ∞) | 0.02 | DeepFool overshoot η |
 * | `deepfoolSteps` | integer in [1, ∞) | 50 | DeepFool steps per image |
 * | `candidates` | integer in [2, ∞) | 10 | DeepFool candidate classes |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import { universal } from '@advx/attacks';
 *
 * const result = await universal({ method: 'gradient', epochs: 4 }).run(model, x, { labels }, { epsilons: [0.1, 0.3], seed: 0 });
 * result.success; // per ε, per sample: fooled by the one perturbation fitted at that ε
 * result.dispose();
 * ```
 * @public
 */
export const universal = defineAttack({
  meta: {
    name: 'universal-perturbation',
    kind: 'fixed-epsilon',
    norms: ['linf', 'l2'],
    threat: 'white-box',
    goals: ['untargeted'],
    randomized: true,
    scope: 'dataset',
    paper: PAPER,
  },
  options: FIT_OPTIONS,
  perturb: async (ctx): Promise<tf.Tensor> => {
    const labels = (await ctx.goal.classes.data()) as Int32Array;
    const scope: FitScope = {
      model: ctx.whiteBox(),
      modelOf: (rows) => ctx.whiteBox(rows),
      chargeRun: (rows, result) => ctx.chargeRun(rows, result),
      checkpoint: (epoch, epochs, image, images) => ctx.checkpoint(epoch * images + image, epochs * images),
      rowsPerCall: ctx.batchSize,
    };
    // The nested DeepFool runs take the raw model; their passes are charged with chargeRun.
    const raw = { ...scope, model: ctx.model as Model };
    const { v } = await fitUniversal(raw, ctx.x, labels, ctx.epsilon, ctx.norm, ctx.options, ctx.seed);
    const out = tf.add(ctx.x, v);
    v.dispose();
    return out;
  },
});

/**
 * Options of {@link universal} (each optional; see its option table).
 *
 * @public
 */
export type UniversalOptions = FactoryOptions<typeof universal>;
