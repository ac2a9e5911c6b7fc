import * as tf from '@tensorflow/tfjs-core';

import {
  AdvxError,
  assertLogitsOutput,
  BatchRng,
  checkInteger,
  crossEntropy,
  validateGoal,
  validateInput,
  whereRows,
  type AnyModel,
  type Model,
  type Progress,
} from '@advx/core';

/**
 * Options of {@link foolingImages}.
 *
 * @public
 */
export interface FoolingImagesOptions {
  /** The class each image should be classified as, int32 `[n]` (one image per entry). Required. */
  readonly targets: tf.Tensor1D;
  /** Maximum gradient steps per image (default `100`; `0` returns the start). */
  readonly steps?: number;
  /** Step per element and step, as a fraction of the bounds' width (default `0.01`), in `(0, 1]`. */
  readonly stepSize?: number;
  /** An image stops once `softmax(z)_t ≥ confidence` (default `0.9`), in `(0, 1]`. */
  readonly confidence?: number;
  /** Seed of the noise start (default `0`). */
  readonly seed?: number;
  /**
   * Starting images `[n, ...inputShape]` inside the bounds, instead of noise (default: uniform
   * noise in the model's bounds, one seeded stream per image).
   */
  readonly start?: tf.Tensor;
  /** Aborts the run: it throws `AdvxError` `ABORTED` at the next step and leaks nothing. */
  readonly signal?: AbortSignal;
  /** Called once per step (`batch` 0 of 1, `epsilonIndex` 0). */
  readonly onProgress?: (progress: Progress) => void;
}

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

const KNOWN_OPTIONS = ['targets', 'steps', 'stepSize', 'confidence', 'seed', 'start', 'signal', 'onProgress'];
const YIELD_EVERY_MS = 25;

function abortError(): AdvxError {
  return new AdvxError('ABORTED', 'foolingImages was aborted through its AbortSignal; partial results were released.');
}

/** Checks an option is a number in (0, 1]; throws `INVALID_OPTION` naming it. */
function fraction(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1) {
    throw new AdvxError('INVALID_OPTION', `foolingImages: ${name} must be a number in (0, 1], got ${String(value)}.`, { option: name });
  }
  return value;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
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
 * Options (defaults in parentheses): `targets` (required), `steps` (`100`), `stepSize` (`0.01`),
 * `confidence` (`0.9`), `seed` (`0`), `start` (uniform noise), `signal`, `onProgress`.
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
  if (options === null || typeof options !== 'object') {
    throw new AdvxError('INVALID_OPTION', 'foolingImages: options { targets, ... } are required.');
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.includes(key)) {
      throw new AdvxError('INVALID_OPTION', `foolingImages: unknown option '${key}'. Known options: ${KNOWN_OPTIONS.join(', ')}.`, { option: key });
    }
  }
  const steps = checkInteger('foolingImages: steps', options.steps ?? 100, 0);
  const stepSize = fraction('stepSize', options.stepSize ?? 0.01);
  const confidence = fraction('confidence', options.confidence ?? 0.9);
  const seed = options.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) {
    throw new AdvxError('INVALID_OPTION', `foolingImages: seed must be a finite number, got ${String(seed)}.`);
  }
  const { targets, start, signal, onProgress } = options;
  if (!(targets instanceof tf.Tensor) || targets.rank !== 1) {
    throw new AdvxError('INVALID_SHAPE', 'foolingImages: targets must be a 1-D int32 tensor of class indices, one per image.');
  }
  const n = start instanceof tf.Tensor ? (start.shape[0] as number) : targets.shape[0];
  if (start !== undefined) await validateInput(model, start);
  if (n === 0) throw new AdvxError('INVALID_SHAPE', 'foolingImages: targets is empty: pass at least one target class.');
  await validateGoal({ targets }, n, model.numClasses);
  if (signal?.aborted) throw abortError();

  const [lo, hi] = model.bounds;
  const eta = stepSize * (hi - lo);
  const shape = [n, ...model.inputShape];
  const classes = tf.cast(targets, 'int32') as tf.Tensor1D;
  let x = start ? tf.cast(start, 'float32') : new BatchRng(seed, 0, n).uniform(shape, lo, hi);
  const taken = new Int32Array(n);
  let lastYield = Date.now();
  try {
    const first = tf.tidy(() => model.logits(x));
    try {
      await assertLogitsOutput(first);
    } finally {
      first.dispose();
    }
    for (let i = 0; i < steps; i++) {
      if (signal?.aborted) throw abortError();
      onProgress?.({ fraction: i / steps, batch: 0, batches: 1, epsilonIndex: 0, step: i, steps });
      if (signal?.aborted) throw abortError();
      if (Date.now() - lastYield > YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastYield = Date.now();
      }
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
    if (signal?.aborted) throw abortError();
    const final = tf.tidy(() => tf.exp(tf.neg(crossEntropy(model.logits(x), classes))));
    const conf = Float32Array.from((await final.data()) as Float32Array);
    final.dispose();
    onProgress?.({ fraction: 1, batch: 0, batches: 1, epsilonIndex: 0, step: steps, steps });
    const images = x;
    let disposed = false;
    return {
      images,
      confidence: conf,
      reached: Array.from(conf, (v) => v >= confidence),
      steps: taken,
      dispose: () => {
        if (disposed) return;
        disposed = true;
        images.dispose();
      },
    };
  } catch (err) {
    x.dispose();
    throw err;
  } finally {
    classes.dispose();
  }
}
