import * as tf from '@tensorflow/tfjs-core';

import {
  AdvxError,
  assertLogitsOutput,
  checkInteger,
  checkNumber,
  crossEntropy,
  defineAttack,
  isAdversarialLogits,
  logitMargin,
  Rng,
  validateGoal,
  validateInput,
  type AttackContext,
  type AttackOptionsBase,
  type Model,
  type Objective,
  type Progress,
} from '@advx/core';

import { checkKnownOptions, checkSeed, requireWhiteBox } from './internal/function-options.js';
import { keepBest, lossObjective, type RestartBest } from './internal/gradient-steps.js';

/**
 * Top-left corner `[row, col]` of a patch inside an image.
 *
 * @public
 */
export type PatchPosition = readonly [number, number];

/** Height, width and channels of a model whose inputs are images `[H, W, C]` (or `[H, W]`). */
interface ImageShape {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

function imageShapeOf(inputShape: readonly number[], who: string): ImageShape {
  if (inputShape.length === 3) return { height: inputShape[0] as number, width: inputShape[1] as number, channels: inputShape[2] as number };
  if (inputShape.length === 2) return { height: inputShape[0] as number, width: inputShape[1] as number, channels: 1 };
  throw new AdvxError(
    'UNSUPPORTED_MODEL',
    `${who} places patches on images, but the model's input shape is [${inputShape.join(', ')}]: wrap the model so it takes images [H, W, C] (e.g. fromFunction with a reshape).`,
  );
}

/** A `[n, H, W, C]` view of an image batch (`[n, H, W]` gets a channel axis). */
function asNhwc(x: tf.Tensor, s: ImageShape): tf.Tensor4D {
  return tf.reshape(x, [x.shape[0] as number, s.height, s.width, s.channels]);
}

/**
 * Pastes `patch` (`[h, w, C]`, or one per sample `[n, h, w, C]`) into the image batch `x`
 * (`[n, H, W, C]`) with its top-left corner at `positions[i]` for sample `i`:
 * `x' = (1 − m) ⊙ x + m ⊙ p`, where `m` is the patch's mask and `p` the patch padded to the image.
 * Differentiable w.r.t. `x` and `patch` (the padding's gradient is a slice).
 *
 * Patches that stick out of the image are an error; overlapping patches of several calls simply
 * paint over each other.
 *
 * @param x - images `[n, H, W, C]`.
 * @param patch - `[h, w, C]` (the same patch for every sample) or `[n, h, w, C]`.
 * @param positions - one top-left corner `[row, col]` per sample, integers with
 *   `0 ≤ row ≤ H − h`, `0 ≤ col ≤ W − w`.
 * @returns the patched images `[n, H, W, C]`; the caller disposes them.
 * @throws AdvxError `INVALID_SHAPE` for mismatched shapes or positions outside the image.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { applyPatch } from '@advx/attacks';
 *
 * const x = tf.zeros([2, 28, 28, 1]) as tf.Tensor4D;
 * const patch = tf.ones([5, 5, 1]) as tf.Tensor3D;
 * const patched = applyPatch(x, patch, [[0, 0], [20, 10]]); // a white square per image
 * ```
 * @public
 */
export function applyPatch(x: tf.Tensor4D, patch: tf.Tensor3D | tf.Tensor4D, positions: readonly PatchPosition[]): tf.Tensor4D {
  if (!(x instanceof tf.Tensor) || x.rank !== 4) {
    throw new AdvxError('INVALID_SHAPE', 'applyPatch: x must be an image batch [n, H, W, C].');
  }
  if (!(patch instanceof tf.Tensor) || (patch.rank !== 3 && patch.rank !== 4)) {
    throw new AdvxError('INVALID_SHAPE', 'applyPatch: patch must be [h, w, C] or one patch per sample [n, h, w, C].');
  }
  const [n, H, W, C] = x.shape;
  const [h, w, pc] = patch.rank === 3 ? patch.shape : patch.shape.slice(1);
  if (patch.rank === 4 && patch.shape[0] !== n) {
    throw new AdvxError('INVALID_SHAPE', `applyPatch: ${patch.shape[0]} patches for ${n} images; pass one per image or a single [h, w, C] patch.`);
  }
  if (pc !== C || (h as number) > H || (w as number) > W) {
    throw new AdvxError('INVALID_SHAPE', `applyPatch: a patch [${h}, ${w}, ${pc}] does not fit images [${H}, ${W}, ${C}].`);
  }
  if (!Array.isArray(positions) || positions.length !== n) {
    throw new AdvxError('INVALID_SHAPE', `applyPatch: ${n} images need ${n} positions [row, col], got ${Array.isArray(positions) ? positions.length : String(positions)}.`);
  }
  positions.forEach((p, i) => {
    const ok = Array.isArray(p) && p.length === 2 && Number.isInteger(p[0]) && Number.isInteger(p[1]);
    if (!ok || p[0] < 0 || p[1] < 0 || p[0] + (h as number) > H || p[1] + (w as number) > W) {
      throw new AdvxError(
        'INVALID_SHAPE',
        `applyPatch: positions[${i}] = ${JSON.stringify(p)} puts the ${h}×${w} patch outside the ${H}×${W} image; rows must lie in [0, ${H - (h as number)}], columns in [0, ${W - (w as number)}].`,
      );
    }
  });
  return pastePatch(x, patch, positions);
}

/** {@link applyPatch} without validation. */
function pastePatch(x: tf.Tensor4D, patch: tf.Tensor, positions: readonly PatchPosition[]): tf.Tensor4D {
  return tf.tidy(() => {
    const [, H, W] = x.shape;
    const [h, w, c] = patch.rank === 3 ? patch.shape : patch.shape.slice(1);
    const ones = tf.ones([h as number, w as number, c as number]);
    const padded: tf.Tensor[] = [];
    const masks: tf.Tensor[] = [];
    positions.forEach(([r, col], i) => {
      const pad: Array<[number, number]> = [
        [r, H - (h as number) - r],
        [col, W - (w as number) - col],
        [0, 0],
      ];
      const p = patch.rank === 3 ? patch : tf.squeeze(tf.slice(patch, [i, 0, 0, 0], [1, -1, -1, -1]), [0]);
      padded.push(tf.pad(p, pad));
      masks.push(tf.pad(ones, pad));
    });
    const m = tf.stack(masks);
    return tf.add(tf.mul(x, tf.sub(1, m)), tf.stack(padded)) as tf.Tensor4D;
  });
}

/** A top-left corner drawn uniformly among those where an `h × w` patch fits in an `H × W` image. */
function drawPosition(rng: Rng, s: ImageShape, h: number, w: number): PatchPosition {
  return [rng.int(s.height - h + 1), rng.int(s.width - w + 1)];
}

/** Mask `[1, H, W, C]` that is 1 inside the `side × side` squares at `corners`. */
function stickerMask(s: ImageShape, side: number, corners: readonly PatchPosition[]): tf.Tensor4D {
  return tf.tidy(() => {
    const ones = tf.ones([side, side, s.channels]);
    const masks = corners.map(([r, c]) => tf.pad(ones, [[r, s.height - side - r], [c, s.width - side - c], [0, 0]]));
    return tf.expandDims(masks.length === 1 ? (masks[0] as tf.Tensor) : tf.minimum(tf.addN(masks), 1), 0) as tf.Tensor4D;
  });
}

/**
 * Options of {@link adversarialPatch}.
 *
 * @public
 */
export interface AdversarialPatchOptions extends AttackOptionsBase {
  /** Only `'l0'`: epsilon is the number of input entries (pixels × channels) the stickers may cover. */
  readonly norm?: 'l0';
  /** Signed-gradient steps on the sticker pixels per placement, an integer ≥ 1 (default 100). */
  readonly steps?: number;
  /** Step per pixel and step, as a fraction of the bounds' width, in (0, 1] (default 0.1). */
  readonly stepSize?: number;
  /** Number of square stickers sharing the budget, an integer ≥ 1 (default 1). */
  readonly stickers?: number;
  /**
   * Fixed top-left corners `[row, col]` of the stickers, the same for every sample, one per
   * sticker; a corner is moved up/left where needed so its sticker fits. Default `[]`: chosen per
   * sample (see `placement`).
   */
  readonly positions?: readonly PatchPosition[];
  /**
   * Where the first placement of each sample goes when `positions` is empty: `'saliency'` (default)
   * puts the stickers, one after the other without overlap, on the windows with the largest sum of
   * `|∇ₓL|` at the clean image (Eykholt et al. choose sticker masks by saliency too); `'random'`
   * draws it. Further placements (restarts) are always random.
   */
  readonly placement?: 'saliency' | 'random';
  /**
   * Placements tried per sample, an integer ≥ 1 (default 4; must be 1 with fixed `positions`).
   * Per sample the first successful placement is kept, else the one with the highest loss.
   */
  readonly restarts?: number;
  /** Start the sticker pixels from uniform noise in the bounds (default `true`), else from the image. */
  readonly randomInit?: boolean;
  /** Loss to ascend: `'ce'` (default) or `'margin'` (C&W logit margin). */
  readonly loss?: 'ce' | 'margin';
}

/** Iteration state of {@link adversarialPatch}: the iterate, its sticker mask and the restarts' best. */
type PatchState = { readonly x: tf.Tensor; readonly m: tf.Tensor; readonly bestX?: tf.Tensor; readonly bestValue?: tf.Tensor; readonly bestOk?: tf.Tensor };

/** Sticker side for an L0 budget of `eps` entries shared by `k` stickers of `channels` channels. */
function stickerSide(eps: number, k: number, s: ImageShape): number {
  return Math.min(s.height, s.width, Math.floor(Math.sqrt(Math.floor(eps) / (k * s.channels)) + 1e-9));
}

function validatePositions(positions: unknown, stickers: number): void {
  if (!Array.isArray(positions)) {
    throw new AdvxError('INVALID_OPTION', 'adversarial-patch: positions must be an array of [row, col] corners (or [] for random placement).');
  }
  if (positions.length > 0 && positions.length !== stickers) {
    throw new AdvxError('INVALID_OPTION', `adversarial-patch: ${positions.length} positions for ${stickers} sticker(s); give one [row, col] per sticker or none.`);
  }
  positions.forEach((p: unknown, i) => {
    if (!Array.isArray(p) || p.length !== 2 || !p.every((v) => Number.isInteger(v) && (v as number) >= 0)) {
      throw new AdvxError('INVALID_OPTION', `adversarial-patch: positions[${i}] must be [row, col] with non-negative integers, got ${JSON.stringify(p)}.`);
    }
  });
}

type PatchContext = AttackContext<Required<AdversarialPatchOptions>>;

/**
 * Per sample, `k` non-overlapping `side × side` windows with the largest sum of `|∇ₓL|` at the clean
 * image, chosen greedily (ties: the first in row-major order).
 */
async function salientCorners(ctx: PatchContext, s: ImageShape, side: number, objective: Objective): Promise<PatchPosition[][]> {
  const pooled = tf.tidy(() => {
    const { grad } = ctx.gradient(ctx.x, objective);
    const g = tf.sum(tf.abs(asNhwc(grad, s)), 3, true);
    return tf.avgPool(g as tf.Tensor4D, side, 1, 'valid');
  });
  const values = (await pooled.data()) as Float32Array;
  pooled.dispose();
  const rowsOut = s.height - side + 1;
  const colsOut = s.width - side + 1;
  const per = rowsOut * colsOut;
  return Array.from({ length: ctx.n }, (_, i) => {
    const map = Array.from(values.subarray(i * per, (i + 1) * per));
    const chosen: PatchPosition[] = [];
    for (let k = 0; k < ctx.options.stickers; k++) {
      let best = -1;
      map.forEach((v, j) => {
        const [r, c] = [Math.floor(j / colsOut), j % colsOut];
        const free = chosen.every(([r0, c0]) => Math.abs(r - r0) >= side || Math.abs(c - c0) >= side);
        if (free && (best < 0 || v > (map[best] as number))) best = j;
      });
      // No free window left (stickers larger than the image allows): overlap the best one.
      chosen.push(best < 0 ? (chosen[0] as PatchPosition) : [Math.floor(best / colsOut), best % colsOut]);
    }
    return chosen;
  });
}

/** Corners of the stickers of every sample for one random or fixed placement. */
function placementCorners(ctx: PatchContext, s: ImageShape, side: number): PatchPosition[][] {
  const { positions, stickers } = ctx.options;
  if (positions.length > 0) {
    const fixed = positions.map(([r, c]): PatchPosition => [Math.min(r, s.height - side), Math.min(c, s.width - side)]);
    return Array.from({ length: ctx.n }, () => fixed);
  }
  return ctx.rng.streams.map((rng) => Array.from({ length: stickers }, () => drawPosition(rng, s, side, side)));
}

/** Masks `[n, H, W, C]` (as the model's input shape) for the given corners of every sample. */
function placementMask(ctx: PatchContext, s: ImageShape, side: number, corners = placementCorners(ctx, s, side)): tf.Tensor {
  return tf.tidy(() => tf.reshape(tf.concat(corners.map((c) => stickerMask(s, side, c)), 0), ctx.x.shape));
}

/**
 * Adversarial patch / stickers, per sample: square stickers whose pixels are optimised freely
 * inside the bounds, pasted over the image (`x' = (1 − m) ⊙ x + m ⊙ p` with mask `m`), everything
 * else untouched.
 *
 * Papers: Tom B. Brown, Dandelion Mané, Aurko Roy, Martín Abadi, Justin Gilmer (2017),
 * "Adversarial Patch", {@link https://arxiv.org/abs/1712.09665}; Kevin Eykholt, Ivan Evtimov,
 * Earlence Fernandes, Bo Li, Amir Rahmati, Chaowei Xiao, Atul Prakash, Tadayoshi Kohno, Dawn Song
 * (2018), "Robust Physical-World Attacks on Deep Learning Visual Classification" (stickers, RP₂),
 * {@link https://arxiv.org/abs/1707.08945}. For one patch that works on every image under random
 * placement (Brown et al.'s universal patch) see {@link trainPatch}.
 *
 * Threat model: white-box (gradients), fixed budget; untargeted or targeted. The budget is an L0
 * "patch" threat: epsilon is the number of input entries (pixels × channels) the stickers may
 * cover; `stickers` squares of side `⌊√(ε / (stickers·C))⌋` share it (overlapping stickers cover
 * fewer). Within the stickers there is no magnitude bound, only the model's bounds.
 *
 * Placement: fixed `positions`, or per sample a first placement on the most salient windows
 * (`placement: 'saliency'`: largest sum of `|∇ₓL|` at the clean image) or at random, then
 * `restarts − 1` random placements from the seeded per-sample streams.
 *
 * Math: per placement, start the sticker pixels from uniform noise (or the image) and take `steps`
 * signed-gradient steps `x ← clip(x + α·m ⊙ sign(∇ₓL))`, `α = stepSize·(high − low)`, on the loss
 * `L` (cross-entropy of the label to ascend, or minus that of the target; or the C&W margin). A
 * sample stops at its first adversarial iterate (`earlyStop`); over `restarts` placements the first
 * successful one is kept, else the one with the highest loss.
 *
 * Input: images `[n, H, W, C]` or `[n, H, W]` (the model's input shape) inside `model.bounds`.
 *
 * Options (defaults): `norm` (`'l0'`), `steps` (100), `stepSize` (0.1), `stickers` (1),
 * `positions` (`[]`: chosen per sample), `placement` (`'saliency'`), `restarts` (4), `randomInit` (`true`), `loss` (`'ce'`),
 * `earlyStop` (`true`).
 *
 * @example
 * ```ts
 * import { adversarialPatch } from '@advx/attacks';
 * import { loadDataset, loadModel } from '@advx/models-zoo';
 *
 * const { model } = await loadModel('mnist-cnn');
 * const { x, y } = await loadDataset('mnist', { count: 16 });
 * // a 5×5 sticker (25 pixels) and a 7×7 one (49 pixels), at random positions
 * const result = await adversarialPatch({ steps: 50 }).run(model, x, { labels: y }, { epsilons: [25, 49], seed: 0 });
 * result.success; // per budget, per image
 * result.dispose();
 * ```
 * @public
 */
export const adversarialPatch = defineAttack<AdversarialPatchOptions>({
  meta: {
    name: 'adversarial-patch',
    kind: 'fixed-epsilon',
    norms: ['l0'],
    threat: 'white-box',
    goals: ['untargeted', 'targeted'],
    randomized: true,
    paper: 'Brown, Mané, Roy, Abadi & Gilmer (2017), "Adversarial Patch", https://arxiv.org/abs/1712.09665; Eykholt et al. (2018), https://arxiv.org/abs/1707.08945',
  },
  defaults: { norm: 'l0', earlyStop: true, steps: 100, stepSize: 0.1, stickers: 1, positions: [], placement: 'saliency', restarts: 4, randomInit: true, loss: 'ce' },
  validate: (o) => {
    checkInteger('adversarial-patch: steps', o.steps, 1);
    checkNumber('adversarial-patch: stepSize', o.stepSize, 0, 1);
    if (o.stepSize === 0) throw new AdvxError('INVALID_OPTION', 'adversarial-patch: stepSize must be in (0, 1], got 0.');
    checkInteger('adversarial-patch: stickers', o.stickers, 1);
    checkInteger('adversarial-patch: restarts', o.restarts, 1);
    validatePositions(o.positions, o.stickers);
    if (o.positions.length > 0 && o.restarts > 1) {
      throw new AdvxError('INVALID_OPTION', `adversarial-patch: restarts = ${o.restarts} with fixed positions would repeat the same placement; use restarts: 1 or random positions ([]).`);
    }
    if (o.placement !== 'saliency' && o.placement !== 'random') {
      throw new AdvxError('INVALID_OPTION', `adversarial-patch: placement must be 'saliency' or 'random', got ${JSON.stringify(o.placement)}.`);
    }
    if (typeof o.randomInit !== 'boolean') throw new AdvxError('INVALID_OPTION', 'adversarial-patch: randomInit must be true or false.');
    if (o.loss !== 'ce' && o.loss !== 'margin') {
      throw new AdvxError('INVALID_OPTION', `adversarial-patch: loss must be 'ce' or 'margin', got ${JSON.stringify(o.loss)}.`);
    }
  },
  checkModel: (model) => {
    imageShapeOf(model.inputShape, 'adversarial-patch');
  },
  perturb: async (ctx) => {
    const o = ctx.options;
    const s = imageShapeOf(ctx.model.inputShape, 'adversarial-patch');
    const side = stickerSide(ctx.epsilon, o.stickers, s);
    if (side < 1) return tf.clone(ctx.x);
    const [lo, hi] = ctx.bounds;
    const alpha = o.stepSize * (hi - lo);
    const objective = lossObjective(ctx, o.loss);
    const start = (c: PatchContext, m: tf.Tensor): tf.Tensor =>
      tf.tidy(() => (o.randomInit ? tf.add(tf.mul(c.x, tf.sub(1, m)), tf.mul(m, c.rng.uniform(c.x.shape, lo, hi))) : tf.clone(c.x)));
    const evaluate = (c: PatchContext, x: tf.Tensor) => {
      const logits = c.whiteBox().logits(x);
      return { value: lossObjective(c, o.loss)(logits), ok: isAdversarialLogits(logits, c.goal) };
    };
    const salient = o.positions.length === 0 && o.placement === 'saliency';
    const m0 = placementMask(ctx, s, side, salient ? await salientCorners(ctx, s, side, objective) : undefined);
    const init: Record<string, tf.Tensor> = { x: start(ctx, m0), m: m0 };
    if (o.restarts > 1) Object.assign(init, { bestX: ctx.x, bestValue: tf.fill([ctx.n], -Infinity), bestOk: tf.zeros([ctx.n]) });
    const end = await ctx.iterate(init as PatchState, o.steps * o.restarts, (st, i, rows) => {
      const out: Record<string, tf.Tensor> = {};
      let { x, m } = st;
      let boundaryOk: tf.Tensor1D | undefined;
      if (o.restarts > 1) {
        let best: RestartBest = { bestX: st.bestX as tf.Tensor, bestValue: st.bestValue as tf.Tensor, bestOk: st.bestOk as tf.Tensor };
        if (i > 0 && i % o.steps === 0) {
          const { value, ok } = evaluate(rows, x);
          best = keepBest(best, x, value, ok);
          boundaryOk = ok;
          m = placementMask(rows, s, side);
          x = start(rows, m);
        }
        Object.assign(out, best);
      }
      const { logits, grad } = rows.gradient(x, lossObjective(rows, o.loss));
      const next = rows.clip(tf.add(x, tf.mul(tf.mul(tf.sign(grad), m), alpha)));
      return { ...out, x: next, m, adversarial: boundaryOk ?? isAdversarialLogits(logits, rows.goal) };
    });
    const result =
      o.restarts === 1
        ? end.x
        : tf.tidy(() => {
            const { value, ok } = evaluate(ctx, end.x);
            return keepBest({ bestX: end.bestX as tf.Tensor, bestValue: end.bestValue as tf.Tensor, bestOk: end.bestOk as tf.Tensor }, end.x, value, ok).bestX;
          });
    tf.dispose(Object.values(end).filter((t) => t !== result && t !== ctx.x));
    return result;
  },
});

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

const BETA1 = 0.9;
const BETA2 = 0.999;
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
        const m1 = tf.add(tf.mul(current.m1, BETA1), tf.mul(grad, 1 - BETA1));
        const m2 = tf.add(tf.mul(current.m2, BETA2), tf.mul(tf.square(grad), 1 - BETA2));
        const stepDir = tf.div(tf.div(m1, 1 - BETA1 ** t), tf.add(tf.sqrt(tf.div(m2, 1 - BETA2 ** t)), 1e-8));
        return { next: { p: tf.clipByValue(tf.sub(current.p, tf.mul(stepDir, alpha)), lo, hi), m1, m2 }, value: v };
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
