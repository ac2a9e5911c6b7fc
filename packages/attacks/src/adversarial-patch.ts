import * as tf from '@tensorflow/tfjs-core';

import {
  AdvxError,
  checkInteger,
  checkNumber,
  defineAttack,
  isAdversarialLogits,
  type AttackContext,
  type AttackOptionsBase,
  type Objective,
} from '@advx/core';

import { keepBest, lossObjective, type RestartBest } from './internal/gradient-steps.js';
import { type PatchPosition, type ImageShape, imageShapeOf, asNhwc, drawPosition, stickerMask } from './patch-geometry.js';

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
