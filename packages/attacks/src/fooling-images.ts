import * as tf from '@tensorflow/tfjs-core';

import {
  AdvxError,
  assertLogitsOutput,
  BatchRng,
  crossEntropy,
  option,
  resolveOptions,
  validateGoal,
  validateInput,
  whereRows,
  type AnyModel,
  type Model,
  type OptionsInput,
} from '@advx/core';
import { abortedError, CHECKPOINT_OPTIONS, disposable, makeCheckpoint } from '@advx/core/plugin';

const OPTIONS = {
  targets: option.custom<tf.Tensor1D, undefined>(undefined, 'the class each image should be classified as, int32 [n] (one image per entry)', {
    type: 'a 1-D int32 tf.Tensor of class indices',
    // Anything but a 1-D tensor is INVALID_SHAPE, checked with the other goal checks.
    accepts: (v) => v !== null && typeof v === 'object',
  }),
  steps: option.integer(100, 'maximum gradient steps per image; 0 returns the start', { min: 0 }),
  stepSize: option.number(0.01, "step per element and step, as a fraction of the bounds' width", { min: 0, max: 1, above: true }),
  confidence: option.number(0.9, 'an image stops once softmax(z)_t ≥ confidence', { min: 0, max: 1, above: true }),
  seed: option.number(0, 'seed of the noise start'),
  start: option.optional<tf.Tensor>(
    'starting images [n, ...inputShape] inside the bounds, instead of noise',
    "uniform noise in the model's bounds, one seeded stream per image",
    {
      type: 'a tf.Tensor batch',
      accepts: (v) => v instanceof tf.Tensor,
    },
  ),
  ...CHECKPOINT_OPTIONS,
  onProgress: { ...CHECKPOINT_OPTIONS.onProgress, doc: 'called once per step (batch 0 of 1, epsilonIndex 0), and with fraction 1 at the end' },
};

/**
 * Options of {@link foolingImages}: `targets` is required (the accepted values and defaults are
 * those of its option schema).
 *
 * @public
 */
export type FoolingImagesOptions = OptionsInput<typeof OPTIONS>;

/**
 * The result of {@link foolingImages}. The caller owns `images` and must call `dispose()`.
 *
 * @public
 */
export interface FoolingImagesResult {
  /** The grown images `[n, ...inputShape]`, inside the model's bounds. */
  readonly images: tf.Tensor;
  /** Per image: the final `softmax(z)_t` of its target. */
  readonly confidence: Float32Array;
  /** Per image: whether `confidence ≥` the requested confidence. */
  readonly reached: boolean[];
  /** Per image: gradient steps taken (it stops once the confidence is reached). */
  readonly steps: Int32Array;
  /** Disposes `images`. */
  dispose(): void;
}

/** Log-softmax of each image's target and its gradient w.r.t. the images, plus the target's softmax. */
function ascent(model: Model, x: tf.Tensor, targets: tf.Tensor1D): { p: tf.Tensor1D; grad: tf.Tensor } {
  return tf.tidy(() => {
    const n = x.shape[0] as number;
    const c = model.numClasses;
    const f = (input: tf.Tensor) => {
      const z = model.logits(input);
      return tf.concat([tf.expandDims(tf.neg(crossEntropy(z, targets)), 1), z], 1);
    };
    const dy = tf.concat([tf.ones([n, 1]), tf.zeros([n, c])], 1);
    const { value, grad } = tf.valueAndGrad(f)(x, dy);
    const logp = tf.reshape(tf.slice(value, [0, 0], [n, 1]), [n]);
    return { p: tf.exp(logp) as tf.Tensor1D, grad };
  });
}

/**
 * Fooling images: inputs grown from random noise until the model assigns them to a chosen class
 * with high confidence, although they look like nothing (Nguyen, Yosinski and Clune, 2015, "Deep
 * Neural Networks are Easily Fooled: High Confidence Predictions for Unrecognizable Images",
 * https://arxiv.org/abs/1412.1897 — the paper's gradient-ascent variant rather than its evolutionary
 * search; e.g. noise → "airplane" with more than 90 % confidence).
 *
 * Not an `x → x'` attack: there is no clean input and no distance. Each image starts as uniform
 * noise in the model's bounds (or `start`) and ascends `log softmax(z)_t` of its target with
 * sign-of-gradient steps of `stepSize · (high − low)` per element, clipped to the bounds. An image
 * stops as soon as `softmax(z)_t ≥ confidence`; the others run `steps` steps.
 *
 * - Threat model: white-box (gradients of the logits).
 * - Norm: none (the images are unconstrained inside the bounds; the sign step is the L∞ steepest ascent).
 * - Input: a white-box {@link Model} of any input shape; `targets` int32 `[n]`.
 * - Deterministic under `seed` (one noise stream per image, drawn with core's `BatchRng`).
 *
 * Options: see {@link FoolingImagesOptions}, declared (values, defaults, docs) by the function's
 * option schema; `targets` is required.
 *
 * @throws AdvxError `INVALID_MODEL` / `UNSUPPORTED_MODEL` (not a white-box model),
 * `INVALID_OPTION` (unknown or out-of-range option), `INVALID_SHAPE` / `BATCH_MISMATCH` /
 * `LABEL_OUT_OF_RANGE` (bad targets), `OUT_OF_BOUNDS` / `NON_FINITE_INPUT` (bad `start`),
 * `PROBABILITIES_NOT_LOGITS`, `ABORTED`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { foolingImages } from '@advx/attacks';
 *
 * const targets = tf.tensor1d([0, 0, 0, 0], 'int32'); // e.g. "airplane"
 * const fooled = await foolingImages(model, { targets, steps: 200, confidence: 0.9, seed: 1 });
 * fooled.reached;    // [true, true, true, true]
 * fooled.confidence; // each ≥ 0.9
 * fooled.dispose();
 * ```
 * @public
 */
export async function foolingImages(model: Model, options: FoolingImagesOptions): Promise<FoolingImagesResult> {
  const anyModel = model as AnyModel | null;
  if (anyModel === null || typeof anyModel !== 'object' || (anyModel.kind !== 'model' && anyModel.kind !== 'query')) {
    throw new AdvxError('INVALID_MODEL', 'foolingImages: model must be an advx Model: wrap tfjs models with fromLayersModel, fromGraphModel or fromFunction.');
  }
  if (anyModel.kind !== 'model') {
    throw new AdvxError('UNSUPPORTED_MODEL', 'foolingImages needs gradients (a white-box Model), but got a query-only model.');
  }
  const o = resolveOptions('foolingImages', OPTIONS, options);
  const { targets, start, steps, stepSize, confidence, seed } = o;
  if (!(targets instanceof tf.Tensor) || targets.rank !== 1) {
    throw new AdvxError('INVALID_SHAPE', 'foolingImages: targets must be a 1-D int32 tensor of class indices, one per image.');
  }
  const n = start !== null ? (start.shape[0] as number) : targets.shape[0];
  if (start !== null) await validateInput(model, start);
  if (n === 0) throw new AdvxError('INVALID_SHAPE', 'foolingImages: targets is empty: pass at least one target class.');
  await validateGoal({ targets }, n, model.numClasses);
  if (o.signal?.aborted) throw abortedError('foolingImages');
  const checkpoint = makeCheckpoint('foolingImages', o);

  const [lo, hi] = model.bounds;
  const eta = stepSize * (hi - lo);
  const shape = [n, ...model.inputShape];
  const classes = tf.cast(targets, 'int32') as tf.Tensor1D;
  let x = start !== null ? tf.cast(start, 'float32') : new BatchRng(seed, 0, n).uniform(shape, lo, hi);
  const taken = new Int32Array(n);
  try {
    const first = tf.tidy(() => model.logits(x));
    try {
      await assertLogitsOutput(first);
    } finally {
      first.dispose();
    }
    for (let i = 0; i < steps; i++) {
      await checkpoint({ fraction: i / steps, batch: 0, batches: 1, epsilonIndex: 0, step: i, steps });
      const { p, grad } = ascent(model, x, classes);
      const stop = tf.tidy(() => tf.greaterEqual(p, confidence));
      const flags = await stop.data();
      if (flags.every((f) => f === 1)) {
        tf.dispose([p, grad, stop]);
        break;
      }
      const prev = x;
      x = tf.tidy(() => whereRows(stop, prev, tf.clipByValue(tf.add(prev, tf.mul(tf.sign(grad), eta)), lo, hi)));
      tf.dispose([prev, p, grad, stop]);
      flags.forEach((f, j) => {
        if (f === 0) taken[j] = (taken[j] as number) + 1;
      });
    }
    await checkpoint({ fraction: 1, batch: 0, batches: 1, epsilonIndex: 0, step: steps, steps });
    const final = tf.tidy(() => tf.exp(tf.neg(crossEntropy(model.logits(x), classes))));
    const conf = Float32Array.from((await final.data()) as Float32Array);
    final.dispose();
    return disposable({ images: x, confidence: conf, reached: Array.from(conf, (v) => v >= confidence), steps: taken }, [x]);
  } catch (err) {
    x.dispose();
    throw err;
  } finally {
    classes.dispose();
  }
}
