import * as tf from '@tensorflow/tfjs-core';

import {
  AdvxError,
  assertLogitsOutput,
  checkInteger,
  crossEntropy,
  logitMargin,
  option,
  resolveOptions,
  Rng,
  validateGoal,
  validateInput,
  type Model,
  type OptionsInput,
  type OptionsResolved,
} from '@advx/core';
import { abortedError, adamStep, asNhwc, CHECKPOINT_OPTIONS, disposable, imageShapeOf, makeCheckpoint, type ImageShape } from '@advx/core/plugin';

import { requireWhiteBox } from './internal/function-options.js';
import { pastePatch, drawPosition } from './patch-geometry.js';

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

const TARGET = option.custom<number | null>(null, 'target class (a targeted patch); null: untargeted (success = label changed)', {
  type: 'a class index or null',
  accepts: (v) => v === null || (typeof v === 'number' && Number.isInteger(v) && v >= 0),
  json: true,
});
const PLACEMENTS = option.integer(1, 'random placements per held-out image', { min: 1 });

const EVALUATE_OPTIONS = {
  target: TARGET,
  placements: PLACEMENTS,
  seed: option.number(0, 'seed of the placements'),
  batchSize: option.integer(128, 'images per forward pass', { min: 1 }),
};

/**
 * Options of {@link evaluatePatch}.
 *
 * @public
 */
export type EvaluatePatchOptions = OptionsInput<typeof EVALUATE_OPTIONS>;

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

/** The options of the optimisation, shared by {@link trainPatch} and the attack `universalPatch`. */
export const FIT_PATCH_OPTIONS = {
  steps: option.integer(200, 'optimisation steps', { min: 1 }),
  imagesPerStep: option.integer(32, 'images per step, each at a fresh random position', { min: 1 }),
  optimizer: option.oneOf(
    ['adam', 'sign'],
    'adam',
    "'adam': Adam (β₁ 0.9, β₂ 0.999) on the mean loss; 'sign': signed-gradient steps p ← p − α·sign(∇ₚ); both clip the patch to the bounds",
  ),
  stepSize: option.number(0.02, "step size α per pixel (Adam's learning rate, or the signed step), as a fraction of the bounds' width", {
    min: 0,
    max: 1,
    above: true,
  }),
  loss: option.oneOf(['ce', 'margin'], 'ce', 'loss: cross-entropy, or the C&W logit margin clipped at 0 per image'),
};

const TRAIN_OPTIONS = {
  size: option.custom<number | readonly [number, number], undefined>(undefined, 'patch side in pixels (square), or [height, width]', {
    type: 'a positive integer or [height, width]',
    accepts: (v) =>
      (typeof v === 'number' && Number.isInteger(v) && v >= 1) ||
      (Array.isArray(v) && v.length === 2 && v.every((d) => Number.isInteger(d) && (d as number) >= 1)),
    json: true,
  }),
  target: { ...TARGET, doc: "target class (Brown et al.'s targeted patch); null: untargeted" },
  ...FIT_PATCH_OPTIONS,
  validation: option.custom<PatchData | null>(null, 'held-out images { x, y } to report the success rate on, under fresh random placements', {
    type: 'a { x, y } batch or null',
    accepts: (v) => v === null || (typeof v === 'object' && v !== undefined),
  }),
  placements: PLACEMENTS,
  seed: option.number(0, 'seed of the start, the mini-batches and the placements'),
  ...CHECKPOINT_OPTIONS,
  onProgress: { ...CHECKPOINT_OPTIONS.onProgress, doc: 'called once per step (batch 0 of 1)' },
};

/**
 * Options of {@link trainPatch}: `size` is required.
 *
 * @public
 */
export type TrainPatchOptions = OptionsInput<typeof TRAIN_OPTIONS>;

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

async function checkData(who: string, model: Model, data: PatchData | undefined, name: string): Promise<number> {
  if (data === null || typeof data !== 'object' || !(data.x instanceof tf.Tensor)) {
    throw new AdvxError('INVALID_SHAPE', `${who}: ${name} must be { x, y } with images x [n, ${model.inputShape.join(', ')}] and int32 labels y [n].`);
  }
  await validateInput(model, data.x);
  const n = data.x.shape[0] as number;
  await validateGoal({ labels: data.y }, n, model.numClasses);
  return n;
}

function checkTarget(who: string, target: number | null, numClasses: number): void {
  if (target !== null) checkInteger(`${who}: target`, target, 0, numClasses - 1);
}

/** Per-image loss to descend: CE of the target (targeted) or minus CE of the label; or the C&W margin. */
function patchLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, target: number | null, loss: 'ce' | 'margin'): tf.Tensor1D {
  return tf.tidy(() => {
    const n = logits.shape[0];
    if (target !== null) {
      const t = tf.fill([n], target, 'int32') as tf.Tensor1D;
      return loss === 'ce' ? crossEntropy(logits, t) : (tf.relu(tf.neg(logitMargin(logits, t))) as tf.Tensor1D);
    }
    return loss === 'ce' ? (tf.neg(crossEntropy(logits, labels)) as tf.Tensor1D) : (tf.relu(logitMargin(logits, labels)) as tf.Tensor1D);
  });
}

async function evaluateChecked(
  model: Model,
  s: ImageShape,
  data: PatchData,
  patch: tf.Tensor3D,
  target: number | null,
  placements: number,
  seed: number,
  batchSize: number,
): Promise<PatchEvaluation> {
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
        if (target !== null ? c === target : c !== labels[b + i]) hits[b + i] = (hits[b + i] as number) + 1 / placements;
      }
    }
  }
  const counted = Array.from(labels, (l) => target === null || l !== target);
  const perImage = Float32Array.from(hits.filter((_, i) => counted[i]));
  const images = perImage.length;
  return { successRate: images === 0 ? 0 : perImage.reduce((a, v) => a + v, 0) / images, perImage, images };
}

function checkPatch(who: string, patch: unknown, model: Model, s: ImageShape): tf.Tensor3D {
  if (!(patch instanceof tf.Tensor) || patch.rank !== 3) throw new AdvxError('INVALID_SHAPE', `${who}: patch must be a [h, w, C] tensor.`);
  const [h, w, c] = patch.shape;
  if (c !== s.channels || (h as number) > s.height || (w as number) > s.width || (h as number) < 1 || (w as number) < 1) {
    throw new AdvxError(
      'INVALID_SHAPE',
      `${who}: a patch [${patch.shape.join(', ')}] does not fit the model's images [${s.height}, ${s.width}, ${s.channels}].`,
    );
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
 * @param options - `target` (targeted success; default `null`: untargeted), `placements` (1), `seed` (0), `batchSize` (128).
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
  const { target, placements, seed, batchSize } = resolveOptions('evaluatePatch', EVALUATE_OPTIONS, options);
  checkTarget('evaluatePatch', target, m.numClasses);
  const p = checkPatch('evaluatePatch', patch, m, s);
  await checkData('evaluatePatch', m, data, 'data');
  const range = tf.tidy(() => tf.stack([tf.min(p), tf.max(p)]));
  const [mn, mx] = await range.data();
  range.dispose();
  if (!Number.isFinite(mn) || !Number.isFinite(mx) || (mn as number) < m.bounds[0] - 1e-6 || (mx as number) > m.bounds[1] + 1e-6) {
    throw new AdvxError('OUT_OF_BOUNDS', `evaluatePatch: the patch spans [${mn}, ${mx}], outside the model's bounds [${m.bounds.join(', ')}].`);
  }
  return evaluateChecked(m, s, data, p, target, placements, seed, batchSize);
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
 * Options: `size` (required), `target` (`null`: untargeted), the optimisation options of the
 * attack {@link universalPatch} (`steps` 200, `imagesPerStep` 32, `optimizer` `'adam'`, `stepSize`
 * 0.02, `loss` `'ce'`), `validation` (none), `placements` (1), `seed` (0), `signal`, `onProgress`.
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
  const o = resolveOptions('trainPatch', TRAIN_OPTIONS, options);
  const [h, w] = typeof o.size === 'number' ? [o.size, o.size] : o.size;
  checkInteger('trainPatch: size (height)', h, 1, s.height);
  checkInteger('trainPatch: size (width)', w, 1, s.width);
  checkTarget('trainPatch', o.target, m.numClasses);
  await checkData('trainPatch', m, data, 'data');
  if (o.validation !== null) await checkData('trainPatch', m, o.validation, 'validation');
  if (o.signal?.aborted) throw abortedError('trainPatch');
  const first = tf.tidy(() => m.logits(tf.slice(data.x, 0, 1)));
  try {
    await assertLogitsOutput(first);
  } finally {
    first.dispose();
  }
  const checkpoint = makeCheckpoint('trainPatch', o);
  const scope: PatchFitScope = {
    model: m,
    modelOf: () => m,
    checkpoint: (step, steps) => checkpoint({ fraction: step / steps, batch: 0, batches: 1, epsilonIndex: 0, step, steps }),
  };
  const { patch, finalLoss } = await fitPatch(scope, s, data, [h, w], o.target, o, new Rng(o.seed));
  try {
    const validation =
      o.validation !== null ? await evaluateChecked(m, s, o.validation, patch, o.target, o.placements, deriveEvalSeed(o.seed), 128) : undefined;
    return disposable({ patch, ...(validation ? { validation } : {}), finalLoss }, [patch]);
  } catch (err) {
    patch.dispose();
    throw err;
  }
}

/** How a patch fit calls the model (counted inside an attack) and checks for abort. */
export interface PatchFitScope {
  /** The model. */
  readonly model: Model;
  /** The model for a call on rows `rows` of the data. */
  readonly modelOf: (rows: Int32Array) => Model;
  /** Abort point and progress, once per step. */
  readonly checkpoint: (step: number, steps: number) => Promise<void>;
}

/**
 * Brown et al.'s optimisation: a `[h, w]` patch minimising the mean loss over mini-batches of the
 * images, each at a fresh random position (from `rng`, which also draws the start). Returns the patch
 * (the caller's) and the mean loss of the last 10 % of the steps.
 */
export async function fitPatch(
  scope: PatchFitScope,
  s: ImageShape,
  data: PatchData,
  [h, w]: readonly [number, number],
  target: number | null,
  o: OptionsResolved<typeof FIT_PATCH_OPTIONS>,
  rng: Rng,
): Promise<{ patch: tf.Tensor3D; finalLoss: number }> {
  const m = scope.model;
  const [lo, hi] = m.bounds;
  const n = data.x.shape[0] as number;
  const alpha = o.stepSize * (hi - lo);
  const k = Math.min(o.imagesPerStep, n);
  let patch = tf.tensor3d(
    Float32Array.from({ length: h * w * s.channels }, () => lo + (hi - lo) * rng.uniform()),
    [h, w, s.channels],
  );
  let moments: { m1: tf.Tensor; m2: tf.Tensor } = { m1: tf.zerosLike(patch), m2: tf.zerosLike(patch) };
  const losses: number[] = [];
  try {
    for (let step = 0; step < o.steps; step++) {
      await scope.checkpoint(step, o.steps);
      const order = rng.permutation(n).subarray(0, k);
      const positions = Array.from({ length: k }, () => drawPosition(rng, s, h, w));
      const current = { p: patch, m1: moments.m1, m2: moments.m2 };
      const t = step + 1;
      const model = scope.modelOf(Int32Array.from(order));
      const { next, value } = tf.tidy(() => {
        const idx = tf.tensor1d(order, 'int32');
        const xb = asNhwc(tf.gather(data.x, idx), s);
        const yb = tf.gather(data.y, idx) as tf.Tensor1D;
        const f = (p: tf.Tensor) => tf.mean(patchLoss(model.logits(tf.reshape(pastePatch(xb, p, positions), [k, ...m.inputShape])), yb, target, o.loss));
        const { value: v, grad } = tf.valueAndGrad(f)(current.p);
        if (o.optimizer === 'sign')
          return { next: { p: tf.clipByValue(tf.sub(current.p, tf.mul(tf.sign(grad), alpha)), lo, hi), m1: current.m1, m2: current.m2 }, value: v };
        const adam = adamStep(current.p, grad, current.m1, current.m2, t, alpha);
        return { next: { p: tf.clipByValue(adam.w, lo, hi), m1: adam.m, m2: adam.v }, value: v };
      });
      patch = next.p as tf.Tensor3D;
      moments = { m1: next.m1, m2: next.m2 };
      tf.dispose([current.p, ...(o.optimizer === 'adam' ? [current.m1, current.m2] : [])]);
      losses.push(((await value.data()) as Float32Array)[0] as number);
      value.dispose();
    }
    const tail = losses.slice(Math.floor(0.9 * losses.length));
    return { patch, finalLoss: tail.reduce((a, v) => a + v, 0) / tail.length };
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
