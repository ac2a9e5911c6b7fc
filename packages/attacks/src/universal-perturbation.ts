import * as tf from '@tensorflow/tfjs-core';

import {
  AdvxError,
  assertLogitsOutput,
  checkInteger,
  checkNumber,
  crossEntropy,
  getNorm,
  Rng,
  validateInput,
  type Model,
  type NormGeometry,
  type Progress,
} from '@advx/core';

import { deepfool } from './deepfool.js';
import { checkKnownOptions, checkSeed, requireWhiteBox } from './internal/function-options.js';

/**
 * Options of {@link universalPerturbation}.
 *
 * @public
 */
export interface UniversalPerturbationOptions {
  /** Radius ξ of the perturbation in `norm` (required), in input units. */
  readonly epsilon: number;
  /** `'linf'` (default) or `'l2'`; DeepFool runs in the same norm. */
  readonly norm?: 'linf' | 'l2';
  /**
   * Inner step: `'deepfool'` (default; the paper's Algorithm 1: DeepFool's minimal step for each
   * image not yet fooled) or `'gradient'` (stochastic gradient ascent on the mini-batch
   * cross-entropy of the not-yet-fooled images, `v ← P_ξ(v + α·d(∇ᵥ))` with `d` the norm's
   * steepest-ascent direction — the SGD variant of Shafahi et al. 2020, much faster).
   */
  readonly method?: 'deepfool' | 'gradient';
  /** Gradient method: step α relative to ξ (default 0.1). */
  readonly relStepSize?: number;
  /** Stop once the fooling rate on the training images reaches this, 1 − δ in the paper, in (0, 1] (default 0.8). */
  readonly foolingRate?: number;
  /** Maximum passes over the training images, an integer ≥ 1 (default 5). */
  readonly maxPasses?: number;
  /**
   * Images per chunk, an integer ≥ 1. DeepFool (default 1: the paper's sequential algorithm):
   * with `b > 1` the steps of a chunk are computed at the same `v` and then folded into `v` one
   * after the other. Gradient method: the mini-batch size (default 32).
   */
  readonly batchSize?: number;
  /** DeepFool overshoot η (default 0.02). */
  readonly overshoot?: number;
  /** DeepFool steps per image (default 50). */
  readonly deepfoolSteps?: number;
  /** DeepFool candidate classes (default 10). */
  readonly candidates?: number;
  /** Held-out images to report the fooling rate on (default: none). */
  readonly validation?: tf.Tensor;
  /** Seed of the order in which images are visited, reshuffled every pass (default 0). */
  readonly seed?: number;
  /** Aborts the run: it throws `AdvxError` `ABORTED` at the next image and leaks nothing. */
  readonly signal?: AbortSignal;
  /** Called after each chunk of images (`batch` is the pass, `batches` the maximum passes). */
  readonly onProgress?: (progress: Progress) => void;
}

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
  readonly passes: number;
  /** Disposes `perturbation`. */
  dispose(): void;
}

const KNOWN = ['epsilon', 'norm', 'method', 'relStepSize', 'foolingRate', 'maxPasses', 'batchSize', 'overshoot', 'deepfoolSteps', 'candidates', 'validation', 'seed', 'signal', 'onProgress'];

async function predictAll(model: Model, x: tf.Tensor, v: tf.Tensor | undefined, batch = 256): Promise<Int32Array> {
  const n = x.shape[0] as number;
  const out = new Int32Array(n);
  for (let b = 0; b < n; b += batch) {
    const size = Math.min(batch, n - b);
    const pred = tf.tidy(() => {
      const xb = tf.slice(x, b, size);
      const input = v ? tf.clipByValue(tf.add(xb, v), model.bounds[0], model.bounds[1]) : xb;
      return tf.cast(tf.argMax(model.logits(input), 1), 'int32');
    });
    out.set((await pred.data()) as Int32Array, b);
    pred.dispose();
  }
  return out;
}

function rateOf(a: Int32Array, b: Int32Array): number {
  let k = 0;
  a.forEach((v, i) => (k += v !== b[i] ? 1 : 0));
  return k / a.length;
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
  return rateOf(await predictAll(m, x, undefined), await predictAll(m, x, v));
}

function checkPerturbation(m: Model, v: unknown): tf.Tensor {
  const shape = m.inputShape.join();
  if (!(v instanceof tf.Tensor) || (v.shape.join() !== shape && v.shape.join() !== [1, ...m.inputShape].join())) {
    throw new AdvxError('INVALID_SHAPE', `perturbation must have shape [1, ${m.inputShape.join(', ')}] or [${m.inputShape.join(', ')}].`);
  }
  return v;
}

/** One gradient step on the mean cross-entropy of the chunk's not-yet-fooled images. */
function gradientStep(m: Model, x: tf.Tensor, idx: number[], labels: Int32Array, v: tf.Tensor, norm: NormGeometry, alpha: number, epsilon: number): tf.Tensor {
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
 * Universal adversarial perturbation: one perturbation `v` with `‖v‖ ≤ ξ` that changes the
 * model's prediction on most images of a distribution. Passes over the training images; for each
 * image not yet fooled by `v`, DeepFool finds the smallest extra step `Δv` that fools it at
 * `x + v`, and `v ← P_ξ(v + Δv)` (projection onto the ξ ball); `method: 'gradient'` replaces DeepFool
 * by stochastic gradient steps on the cross-entropy of the not-yet-fooled images (Ali Shafahi,
 * Mahyar Najibi, Zheng Xu, John Dickerson, Larry S. Davis, Tom Goldstein (2020), "Universal
 * Adversarial Training", {@link https://arxiv.org/abs/1811.11304}). It stops when the fooling rate on the
 * training images reaches `foolingRate` (1 − δ) or after `maxPasses` passes.
 *
 * Paper: Seyed-Mohsen Moosavi-Dezfooli, Alhussein Fawzi, Omar Fawzi, Pascal Frossard (2017),
 * "Universal adversarial perturbations", {@link https://arxiv.org/abs/1610.08401} (Algorithm 1).
 *
 * Threat model: white-box (gradients), universal (input-agnostic), untargeted; Linf or L2.
 * Fooling is measured against the model's own predictions on the clean images.
 *
 * Options (defaults): `epsilon` (required), `norm` (`'linf'`), `method` (`'deepfool'`),
 * `relStepSize` (0.1, gradient method), `foolingRate` (0.8), `maxPasses` (5), `batchSize` (1 for
 * DeepFool, 32 for the gradient method), `overshoot` (0.02), `deepfoolSteps` (50), `candidates` (10), `validation`
 * (none), `seed` (0), `signal`, `onProgress`.
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
  checkKnownOptions('universalPerturbation', options, KNOWN);
  const epsilon = options.epsilon;
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon <= 0) {
    throw new AdvxError('INVALID_EPSILON', `universalPerturbation: epsilon must be a finite number > 0, got ${String(epsilon)}.`);
  }
  const normName = options.norm ?? 'linf';
  if (normName !== 'linf' && normName !== 'l2') throw new AdvxError('UNSUPPORTED_NORM', `universalPerturbation is defined for linf and l2, not '${String(normName)}'.`);
  const target = checkNumber('universalPerturbation: foolingRate', options.foolingRate ?? 0.8, 0, 1);
  if (target === 0) throw new AdvxError('INVALID_OPTION', 'universalPerturbation: foolingRate must be in (0, 1], got 0.');
  const maxPasses = checkInteger('universalPerturbation: maxPasses', options.maxPasses ?? 5, 1);
  const method = options.method ?? 'deepfool';
  if (method !== 'deepfool' && method !== 'gradient') throw new AdvxError('INVALID_OPTION', `universalPerturbation: method must be 'deepfool' or 'gradient', got ${JSON.stringify(method)}.`);
  const chunk = checkInteger('universalPerturbation: batchSize', options.batchSize ?? (method === 'deepfool' ? 1 : 32), 1);
  const alpha = checkNumber('universalPerturbation: relStepSize', options.relStepSize ?? 0.1, 0, Infinity, true) * epsilon;
  const seed = checkSeed('universalPerturbation', options.seed);
  const inner = deepfool({ norm: normName, overshoot: options.overshoot ?? 0.02, steps: options.deepfoolSteps ?? 50, candidates: options.candidates ?? 10 });
  await validateInput(m, x);
  if (options.validation !== undefined) await validateInput(m, options.validation);
  const { signal, onProgress } = options;
  const aborted = () => new AdvxError('ABORTED', 'universalPerturbation was aborted through its AbortSignal; partial results were released.');
  if (signal?.aborted) throw aborted();
  const first = tf.tidy(() => m.logits(tf.slice(x, 0, 1)));
  try {
    await assertLogitsOutput(first);
  } finally {
    first.dispose();
  }

  const norm = getNorm(normName);
  const [lo, hi] = m.bounds;
  const n = x.shape[0] as number;
  const clean = await predictAll(m, x, undefined);
  const rng = new Rng(seed);
  let v: tf.Tensor = tf.zeros([1, ...m.inputShape]);
  let passes = 0;
  let rate = 0;
  try {
    for (let pass = 0; pass < maxPasses; pass++) {
      passes = pass + 1;
      const order = rng.permutation(n);
      for (let start = 0; start < n; start += chunk) {
        if (signal?.aborted) throw aborted();
        onProgress?.({ fraction: (pass + start / n) / maxPasses, batch: pass, batches: maxPasses, epsilonIndex: 0, step: start, steps: n });
        if (signal?.aborted) throw aborted();
        const idx = Array.from(order.subarray(start, Math.min(n, start + chunk)));
        const labels = Int32Array.from(idx, (i) => clean[i] as number);
        if (method === 'gradient') {
          const prev = v;
          v = gradientStep(m, x, idx, labels, prev, norm, alpha, epsilon);
          prev.dispose();
          continue;
        }
        const xv = tf.tidy(() => tf.clipByValue(tf.add(tf.gather(x, tf.tensor1d(idx, 'int32')), v), lo, hi));
        const now = await predictAll(m, xv, undefined);
        const open = idx.map((_, j) => j).filter((j) => now[j] === labels[j]);
        if (open.length === 0) {
          xv.dispose();
          continue;
        }
        const rows = tf.tensor1d(open, 'int32');
        const xo = tf.gather(xv, rows);
        const yo = tf.tensor1d(Int32Array.from(open, (j) => labels[j] as number), 'int32');
        xv.dispose();
        rows.dispose();
        try {
          const r = await inner.run(m, xo, { labels: yo });
          try {
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
      rate = rateOf(clean, await predictAll(m, x, v));
      if (rate >= target) break;
    }
    const validationFoolingRate = options.validation ? rateOf(await predictAll(m, options.validation, undefined), await predictAll(m, options.validation, v)) : undefined;
    const perturbation = v;
    let disposed = false;
    return {
      perturbation,
      foolingRate: rate,
      ...(validationFoolingRate !== undefined ? { validationFoolingRate } : {}),
      passes,
      dispose: () => {
        if (!disposed) perturbation.dispose();
        disposed = true;
      },
    };
  } catch (err) {
    v.dispose();
    throw err;
  }
}
