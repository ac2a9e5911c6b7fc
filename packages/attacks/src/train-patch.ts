import * as tf from '@tensorflow/tfjs-core';

import {
  AdvxError,
  assertLogitsOutput,
  checkInteger,
  checkNumber,
  crossEntropy,
  logitMargin,
  Rng,
  validateGoal,
  validateInput,
  type Model,
  type Progress,
} from '@advx/core';

import { adamStep } from './internal/adam.js';
import { checkKnownOptions, checkSeed, requireWhiteBox } from './internal/function-options.js';
import { type ImageShape, imageShapeOf, asNhwc, pastePatch, drawPosition } from './patch-geometry.js';

/**
 * A labelled batch of images for {@link trainPatch} and {@link evaluatePatch}.
 *
 * @public
 */
export interface PatchData {
  /** Images `[n, ...model.inputShape]` inside the model's bounds. */
  readonly x: tf.Tensor;
  /** True labels, int32 `[n]`. */
  readonly y: tf.Tensor1D;
}

/**
 * Options of {@link evaluatePatch}.
 *
 * @public
 */
export interface EvaluatePatchOptions {
  /** Target class (targeted patch); leave out for an untargeted patch (success = label changed). */
  readonly target?: number;
  /** Random placements per image, an integer ≥ 1 (default 1). */
  readonly placements?: number;
  /** Seed of the placements (default 0). */
  readonly seed?: number;
  /** Images per forward pass, an integer ≥ 1 (default 128). */
  readonly batchSize?: number;
}

/**
 * The result of {@link evaluatePatch}.
 *
 * @public
 */
export interface PatchEvaluation {
  /**
   * Fraction of (image, placement) pairs where the patched image is classified as the target
   * (targeted; images whose label is the target are left out) or not as its label (untargeted).
   */
  readonly successRate: number;
  /** Per counted image: the fraction of its placements that succeeded (images of the target class are left out). */
  readonly perImage: Float32Array;
  /** Number of images counted. */
  readonly images: number;
}

/**
 * Options of {@link trainPatch}.
 *
 * @public
 */
export interface TrainPatchOptions {
  /** Patch side in pixels (square), or `[height, width]`. Required. */
  readonly size: number | readonly [number, number];
  /** Target class (targeted patch, Brown et al.'s setting); leave out for an untargeted patch. */
  readonly target?: number;
  /** Optimisation steps, an integer ≥ 1 (default 200). */
  readonly steps?: number;
  /** Images per step, each at a fresh random position, an integer ≥ 1 (default 32). */
  readonly batchSize?: number;
  /**
   * `'adam'` (default): Adam (β₁ 0.9, β₂ 0.999) on the mean loss; `'sign'`: signed-gradient steps
   * `p ← p − α·sign(∇ₚ)`. Both clip the patch to the bounds after each step.
   */
  readonly optimizer?: 'adam' | 'sign';
  /** Step size α per pixel (Adam's learning rate, or the signed step), as a fraction of the bounds' width, in (0, 1] (default 0.02). */
  readonly stepSize?: number;
  /** Loss: `'ce'` (default) or `'margin'` (C&W logit margin, clipped at 0 per image). */
  readonly loss?: 'ce' | 'margin';
  /** Held-out images to report the success rate on, under fresh random placements (default: none). */
  readonly validation?: PatchData;
  /** Random placements per held-out image (default 1). */
  readonly placements?: number;
  /** Seed of the start, the mini-batches and the placements (default 0). */
  readonly seed?: number;
  /** Aborts training: it throws `AdvxError` `ABORTED` at the next step and leaks nothing. */
  readonly signal?: AbortSignal;
  /** Called once per step (`batch` 0 of 1). */
  readonly onProgress?: (progress: Progress) => void;
}

/**
 * The result of {@link trainPatch}. The caller owns `patch` and must call `dispose()`.
 *
 * @public
 */
export interface TrainedPatch {
  /** The patch `[h, w, C]`, inside the model's bounds. */
  readonly patch: tf.Tensor3D;
  /** Success on the held-out `validation` images under random placement; `undefined` without them. */
  readonly validation?: PatchEvaluation;
  /** Mean training loss of the last 10 % of the steps. */
  readonly finalLoss: number;
  /** Disposes `patch`. */
  dispose(): void;
}

const TRAIN_OPTIONS = ['size', 'target', 'steps', 'batchSize', 'optimizer', 'stepSize', 'loss', 'validation', 'placements', 'seed', 'signal', 'onProgress'];
const EVALUATE_OPTIONS = ['target', 'placements', 'seed', 'batchSize'];

async function checkData(who: string, model: Model, data: PatchData | undefined, name: string): Promise<number> {
  if (data === null || typeof data !== 'object' || !(data.x instanceof tf.Tensor)) {
    throw new AdvxError('INVALID_SHAPE', `${who}: ${name} must be { x, y } with images x [n, ${model.inputShape.join(', ')}] and int32 labels y [n].`);
  }
  await validateInput(model, data.x);
  const n = data.x.shape[0] as number;
  await validateGoal({ labels: data.y }, n, model.numClasses);
  return n;
}

function checkTarget(who: string, target: number | undefined, numClasses: number): void {
  if (target !== undefined) checkInteger(`${who}: target`, target, 0, numClasses - 1);
}

/** Per-image loss to descend: CE of the target (targeted) or minus CE of the label; or the C&W margin. */
function patchLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, target: number | undefined, loss: 'ce' | 'margin'): tf.Tensor1D {
  return tf.tidy(() => {
    const n = logits.shape[0];
    if (target !== undefined) {
      const t = tf.fill([n], target, 'int32') as tf.Tensor1D;
      return loss === 'ce' ? crossEntropy(logits, t) : (tf.relu(tf.neg(logitMargin(logits, t))) as tf.Tensor1D);
    }
    return loss === 'ce' ? (tf.neg(crossEntropy(logits, labels)) as tf.Tensor1D) : (tf.relu(logitMargin(logits, labels)) as tf.Tensor1D);
  });
}

async function evaluateChecked(model: Model, s: ImageShape, data: PatchData, patch: tf.Tensor3D, target: number | undefined, placements: number, seed: number, batchSize: number): Promise<PatchEvaluation> {
  const labels = (await data.y.data()) as Int32Array;
  const n = labels.length;
  const [h, w] = patch.shape;
  const rng = new Rng(seed);
  const hits = new Float32Array(n);
  for (let p = 0; p < placements; p++) {
    for (let b = 0; b < n; b += batchSize) {
      const size = Math.min(batchSize, n - b);
      const positions = Array.from({ length: size }, () => drawPosition(rng, s, h, w));
      const pred = tf.tidy(() => {
        const xb = asNhwc(tf.slice(data.x, b, size), s);
        return tf.argMax(model.logits(tf.reshape(pastePatch(xb, patch, positions), [size, ...model.inputShape])), 1);
      });
      const classes = await pred.data();
      pred.dispose();
      for (let i = 0; i < size; i++) {
        const c = classes[i] as number;
        if (target !== undefined ? c === target : c !== labels[b + i]) hits[b + i] = (hits[b + i] as number) + 1 / placements;
      }
    }
  }
  const counted = Array.from(labels, (l) => target === undefined || l !== target);
  const perImage = Float32Array.from(hits.filter((_, i) => counted[i]));
  const images = perImage.length;
  return { successRate: images === 0 ? 0 : perImage.reduce((a, v) => a + v, 0) / images, perImage, images };
}

function evaluateOptions(who: string, o: { placements?: number; seed?: number; batchSize?: number }) {
  const placements = checkInteger(`${who}: placements`, o.placements ?? 1, 1);
  const seed = checkSeed(who, o.seed);
  const batchSize = checkInteger(`${who}: batchSize`, o.batchSize ?? 128, 1);
  return { placements, seed, batchSize };
}

function checkPatch(who: string, patch: unknown, model: Model, s: ImageShape): tf.Tensor3D {
  if (!(patch instanceof tf.Tensor) || patch.rank !== 3) throw new AdvxError('INVALID_SHAPE', `${who}: patch must be a [h, w, C] tensor.`);
  const [h, w, c] = patch.shape;
  if (c !== s.channels || (h as number) > s.height || (w as number) > s.width || (h as number) < 1 || (w as number) < 1) {
    throw new AdvxError('INVALID_SHAPE', `${who}: a patch [${patch.shape.join(', ')}] does not fit the model's images [${s.height}, ${s.width}, ${s.channels}].`);
  }
  return patch as tf.Tensor3D;
}

/**
 * Success rate of a patch under random placement: each image gets the patch at `placements`
 * uniformly random positions (seeded) and is classified by the model.
 *
 * @param model - a white-box {@link Model} of images.
 * @param data - `{ x, y }`: images and their true labels.
 * @param patch - `[h, w, C]`, e.g. from {@link trainPatch}.
 * @param options - `target` (targeted success; default untargeted), `placements` (1), `seed` (0), `batchSize` (128).
 * @throws AdvxError `INVALID_MODEL` / `UNSUPPORTED_MODEL`, `INVALID_SHAPE`, `OUT_OF_BOUNDS`,
 *   `NON_FINITE_INPUT`, `LABEL_OUT_OF_RANGE`, `BATCH_MISMATCH`, `INVALID_OPTION`, all before any work.
 *
 * @example
 * ```ts
 * const { successRate } = await evaluatePatch(model, { x, y }, trained.patch, { target: 3, placements: 4 });
 * ```
 * @public
 */
export async function evaluatePatch(model: Model, data: PatchData, patch: tf.Tensor3D, options: EvaluatePatchOptions = {}): Promise<PatchEvaluation> {
  const m = requireWhiteBox(model, 'evaluatePatch');
  const s = imageShapeOf(m.inputShape, 'evaluatePatch');
  checkKnownOptions('evaluatePatch', options, EVALUATE_OPTIONS);
  checkTarget('evaluatePatch', options.target, m.numClasses);
  const { placements, seed, batchSize } = evaluateOptions('evaluatePatch', options);
  const p = checkPatch('evaluatePatch', patch, m, s);
  await checkData('evaluatePatch', m, data, 'data');
  const range = tf.tidy(() => tf.stack([tf.min(p), tf.max(p)]));
  const [mn, mx] = await range.data();
  range.dispose();
  if (!Number.isFinite(mn) || !Number.isFinite(mx) || (mn as number) < m.bounds[0] - 1e-6 || (mx as number) > m.bounds[1] + 1e-6) {
    throw new AdvxError('OUT_OF_BOUNDS', `evaluatePatch: the patch spans [${mn}, ${mx}], outside the model's bounds [${m.bounds.join(', ')}].`);
  }
  return evaluateChecked(m, s, data, p, options.target, placements, seed, batchSize);
}

/**
 * Trains one universal adversarial patch (Brown et al. 2017): a `size × size` patch that, pasted
 * anywhere on any image, makes the model predict `target` (or anything but the true label). It
 * minimises the expected loss over images and placements — expectation over transformation with
 * the placement as the transformation — by signed-gradient descent on mini-batches, each image at
 * a fresh uniformly random position per step:
 * `p ← clip(p − α·sign(∇ₚ E_{x,l}[L(f((1 − m_l) ⊙ x + m_l ⊙ p))]))`, `α = stepSize·(high − low)`.
 *
 * Paper: Tom B. Brown, Dandelion Mané, Aurko Roy, Martín Abadi, Justin Gilmer (2017), "Adversarial
 * Patch", {@link https://arxiv.org/abs/1712.09665} (they also sample rotation and scale; here the
 * placement). For a per-image patch within an L0 budget see {@link adversarialPatch}.
 *
 * Threat model: white-box (gradients), universal (one patch for all inputs), physical-style (no
 * bound on the patch's pixels besides the model's bounds).
 *
 * Options (defaults): `size` (required), `target` (untargeted), `steps` (200), `batchSize` (32),
 * `stepSize` (0.02), `loss` (`'ce'`), `validation` (none), `placements` (1), `seed` (0),
 * `signal`, `onProgress`.
 *
 * @param model - a white-box {@link Model} of images `[H, W, C]` or `[H, W]`.
 * @param data - training images `{ x, y }` (labels matter for untargeted patches and are checked).
 * @param options - see {@link TrainPatchOptions}.
 * @throws AdvxError `INVALID_MODEL` / `UNSUPPORTED_MODEL`, `INVALID_OPTION`, `INVALID_SHAPE`,
 *   `OUT_OF_BOUNDS`, `NON_FINITE_INPUT`, `LABEL_OUT_OF_RANGE`, `BATCH_MISMATCH`,
 *   `PROBABILITIES_NOT_LOGITS` (before any work), `ABORTED`.
 *
 * @example
 * ```ts
 * import { trainPatch } from '@advx/attacks';
 * import { loadDataset, loadModel } from '@advx/models-zoo';
 *
 * const { model } = await loadModel('mnist-cnn');
 * const train = await loadDataset('mnist', { count: 500 });
 * const held = await loadDataset('mnist', { offset: 500, count: 200 });
 * const trained = await trainPatch(model, train, { size: 8, target: 3, steps: 150, validation: held, seed: 0 });
 * trained.validation?.successRate; // fraction of held-out images (not 3s) classified as 3
 * trained.dispose();
 * ```
 * @public
 */
export async function trainPatch(model: Model, data: PatchData, options: TrainPatchOptions): Promise<TrainedPatch> {
  const m = requireWhiteBox(model, 'trainPatch');
  const s = imageShapeOf(m.inputShape, 'trainPatch');
  checkKnownOptions('trainPatch', options, TRAIN_OPTIONS);
  const [h, w] = typeof options.size === 'number' ? [options.size, options.size] : Array.isArray(options.size) ? options.size : [NaN, NaN];
  checkInteger('trainPatch: size (height)', h, 1, s.height);
  checkInteger('trainPatch: size (width)', w, 1, s.width);
  checkTarget('trainPatch', options.target, m.numClasses);
  const steps = checkInteger('trainPatch: steps', options.steps ?? 200, 1);
  const batchSize = checkInteger('trainPatch: batchSize', options.batchSize ?? 32, 1);
  const stepSize = checkNumber('trainPatch: stepSize', options.stepSize ?? 0.02, 0, 1);
  if (stepSize === 0) throw new AdvxError('INVALID_OPTION', 'trainPatch: stepSize must be in (0, 1], got 0.');
  const optimizer = options.optimizer ?? 'adam';
  if (optimizer !== 'adam' && optimizer !== 'sign') throw new AdvxError('INVALID_OPTION', `trainPatch: optimizer must be 'adam' or 'sign', got ${JSON.stringify(optimizer)}.`);
  const loss = options.loss ?? 'ce';
  if (loss !== 'ce' && loss !== 'margin') throw new AdvxError('INVALID_OPTION', `trainPatch: loss must be 'ce' or 'margin', got ${JSON.stringify(loss)}.`);
  const { placements, seed } = evaluateOptions('trainPatch', { placements: options.placements, seed: options.seed });
  const n = await checkData('trainPatch', m, data, 'data');
  if (options.validation !== undefined) await checkData('trainPatch', m, options.validation, 'validation');
  const { signal, onProgress, target } = options;
  const aborted = () => new AdvxError('ABORTED', 'trainPatch was aborted through its AbortSignal; partial results were released.');
  if (signal?.aborted) throw aborted();
  const first = tf.tidy(() => m.logits(tf.slice(data.x, 0, 1)));
  try {
    await assertLogitsOutput(first);
  } finally {
    first.dispose();
  }

  const [lo, hi] = m.bounds;
  const rng = new Rng(seed);
  const alpha = stepSize * (hi - lo);
  const k = Math.min(batchSize, n);
  let patch = tf.tensor3d(Float32Array.from({ length: h * w * s.channels }, () => lo + (hi - lo) * rng.uniform()), [h, w, s.channels]);
  let moments: { m1: tf.Tensor; m2: tf.Tensor } = { m1: tf.zerosLike(patch), m2: tf.zerosLike(patch) };
  const losses: number[] = [];
  let lastYield = Date.now();
  try {
    for (let step = 0; step < steps; step++) {
      if (signal?.aborted) throw aborted();
      onProgress?.({ fraction: step / steps, batch: 0, batches: 1, epsilonIndex: 0, step, steps });
      if (signal?.aborted) throw aborted();
      if (Date.now() - lastYield > 25) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        lastYield = Date.now();
      }
      const order = rng.permutation(n).subarray(0, k);
      const positions = Array.from({ length: k }, () => drawPosition(rng, s, h, w));
      const current = { p: patch, m1: moments.m1, m2: moments.m2 };
      const t = step + 1;
      const { next, value } = tf.tidy(() => {
        const idx = tf.tensor1d(order, 'int32');
        const xb = asNhwc(tf.gather(data.x, idx), s);
        const yb = tf.gather(data.y, idx) as tf.Tensor1D;
        const f = (p: tf.Tensor) => tf.mean(patchLoss(m.logits(tf.reshape(pastePatch(xb, p, positions), [k, ...m.inputShape])), yb, target, loss));
        const { value: v, grad } = tf.valueAndGrad(f)(current.p);
        if (optimizer === 'sign') return { next: { p: tf.clipByValue(tf.sub(current.p, tf.mul(tf.sign(grad), alpha)), lo, hi), m1: current.m1, m2: current.m2 }, value: v };
        const adam = adamStep(current.p, grad, current.m1, current.m2, t, alpha);
        return { next: { p: tf.clipByValue(adam.w, lo, hi), m1: adam.m, m2: adam.v }, value: v };
      });
      patch = next.p as tf.Tensor3D;
      moments = { m1: next.m1, m2: next.m2 };
      tf.dispose([current.p, ...(optimizer === 'adam' ? [current.m1, current.m2] : [])]);
      losses.push(((await value.data()) as Float32Array)[0] as number);
      value.dispose();
    }
    const tail = losses.slice(Math.floor(0.9 * losses.length));
    const finalLoss = tail.reduce((a, v) => a + v, 0) / tail.length;
    const validation = options.validation
      ? await evaluateChecked(m, s, options.validation, patch, target, placements, deriveEvalSeed(seed), 128)
      : undefined;
    const trained = patch;
    let disposed = false;
    return {
      patch: trained,
      ...(validation ? { validation } : {}),
      finalLoss,
      dispose: () => {
        if (!disposed) trained.dispose();
        disposed = true;
      },
    };
  } catch (err) {
    patch.dispose();
    throw err;
  } finally {
    tf.dispose([moments.m1, moments.m2]);
  }
}

/** Placements of the held-out evaluation use a stream independent of training's. */
function deriveEvalSeed(seed: number): number {
  return new Rng(seed).fork(1).nextUint32();
}
