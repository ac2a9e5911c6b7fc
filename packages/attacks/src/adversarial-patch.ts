import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, defineAttack, isAdversarialLogits, option, type AttackContext, type FactoryOptions, type Objective } from '@advx/core';
import { asNhwc, imageShapeOf, type ImageShape } from '@advx/core/plugin';

import { keepBest, lossObjective, type RestartBest } from './internal/gradient-steps.js';
import { type PatchPosition, drawPosition, stickerMask } from './patch-geometry.js';

/** Iteration state of {@link adversarialPatch}: the iterate, its sticker mask and the restarts' best. */
type PatchState = { readonly x: tf.Tensor; readonly m: tf.Tensor; readonly bestX?: tf.Tensor; readonly bestValue?: tf.Tensor; readonly bestOk?: tf.Tensor };

/** Sticker side for an L0 budget of `eps` entries shared by `k` stickers of `channels` channels. */
function stickerSide(eps: number, k: number, s: ImageShape): number {
  return Math.min(s.height, s.width, Math.floor(Math.sqrt(Math.floor(eps) / (k * s.channels)) + 1e-9));
}

/** Whether `v` is a list of `[row, col]` corners with non-negative integers. */
function isPositionList(v: unknown): boolean {
  return Array.isArray(v) && v.every((p: unknown) => Array.isArray(p) && p.length === 2 && p.every((c) => Number.isInteger(c) && (c as number) >= 0));
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
  return tf.tidy(() =>
    tf.reshape(
      tf.concat(
        corners.map((c) => stickerMask(s, side, c)),
        0,
      ),
      ctx.x.shape,
    ),
  );
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
 * Options: {@link adversarialPatch}.schema, listed by `advx list --options adversarial-patch`:
 *
 * <!-- options:adversarial-patch -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'l0' | 'l0' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `steps` | integer in [1, ∞) | 100 | signed-gradient steps on the sticker pixels per placement |
 * | `stepSize` | number in (0, 1] | 0.1 | step per pixel and step, as a fraction of the bounds' width |
 * | `stickers` | integer in [1, ∞) | 1 | number of square stickers sharing the budget |
 * | `positions` | an array of [row, col] corners with non-negative integers (or [] for per-sample placement) | [] | fixed top-left corners [row, col] of the stickers, the same for every sample, one per sticker (moved up/left where needed to fit); [] chooses them per sample (see placement) |
 * | `placement` | 'saliency' \| 'random' | 'saliency' | first placement of each sample when positions is []: the windows with the largest sum of \|∇ₓL\| at the clean image, or random; restarts are always random |
 * | `restarts` | integer in [1, ∞) | 4 | placements tried per sample (1 with fixed positions); per sample the first successful one is kept, else the one with the highest loss |
 * | `randomInit` | boolean | true | start the sticker pixels from uniform noise in the bounds, else from the image |
 * | `loss` | 'ce' \| 'margin' | 'ce' | loss to ascend: cross-entropy, or Carlini & Wagner's logit margin |
 * <!-- /options -->
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
export const adversarialPatch = defineAttack({
  meta: {
    name: 'adversarial-patch',
    kind: 'fixed-epsilon',
    norms: ['l0'],
    threat: 'white-box',
    goals: ['untargeted', 'targeted'],
    randomized: true,
    paper:
      'Brown, Mané, Roy, Abadi & Gilmer (2017), "Adversarial Patch", https://arxiv.org/abs/1712.09665; Eykholt et al. (2018), https://arxiv.org/abs/1707.08945',
  },
  options: {
    steps: option.integer(100, 'signed-gradient steps on the sticker pixels per placement', { min: 1 }),
    stepSize: option.number(0.1, "step per pixel and step, as a fraction of the bounds' width", { min: 0, max: 1, above: true }),
    stickers: option.integer(1, 'number of square stickers sharing the budget', { min: 1 }),
    positions: option.custom<readonly PatchPosition[]>(
      [],
      'fixed top-left corners [row, col] of the stickers, the same for every sample, one per sticker (moved up/left where needed to fit); [] chooses them per sample (see placement)',
      {
        type: 'an array of [row, col] corners with non-negative integers (or [] for per-sample placement)',
        accepts: isPositionList,
        json: true,
      },
    ),
    placement: option.oneOf(
      ['saliency', 'random'],
      'saliency',
      'first placement of each sample when positions is []: the windows with the largest sum of |∇ₓL| at the clean image, or random; restarts are always random',
    ),
    restarts: option.integer(
      4,
      'placements tried per sample (1 with fixed positions); per sample the first successful one is kept, else the one with the highest loss',
      { min: 1 },
    ),
    randomInit: option.boolean(true, 'start the sticker pixels from uniform noise in the bounds, else from the image'),
    loss: option.oneOf(['ce', 'margin'], 'ce', "loss to ascend: cross-entropy, or Carlini & Wagner's logit margin"),
  },
  check: (o) => {
    if (o.positions.length > 0 && o.positions.length !== o.stickers) {
      throw new AdvxError(
        'INVALID_OPTION',
        `adversarial-patch: ${o.positions.length} positions for ${o.stickers} sticker(s); give one [row, col] per sticker or none.`,
      );
    }
    if (o.positions.length > 0 && o.restarts > 1) {
      throw new AdvxError(
        'INVALID_OPTION',
        `adversarial-patch: restarts = ${o.restarts} with fixed positions would repeat the same placement; use restarts: 1 or random positions ([]).`,
      );
    }
  },
  checkModel: (model) => {
    imageShapeOf(model.inputShape, 'adversarial-patch');
  },
  perturb: async (ctx): Promise<tf.Tensor> => {
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
 * Options of {@link adversarialPatch} (each optional; see its option table).
 *
 * @public
 */
export type AdversarialPatchOptions = FactoryOptions<typeof adversarialPatch>;
