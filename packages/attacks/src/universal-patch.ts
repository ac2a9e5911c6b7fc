import * as tf from '@tensorflow/tfjs-core';

import { defineAttack, Rng, type FactoryOptions } from '@advx/core';
import { asNhwc, imageShapeOf } from '@advx/core/plugin';

import { pastePatch } from './patch-geometry.js';
import { FIT_PATCH_OPTIONS, fitPatch, type PatchFitScope } from './train-patch.js';

/**
 * Universal adversarial patch as an attack (Brown et al. 2017): at each budget ε, one square patch
 * of side `⌊√(ε / C)⌋` (so it covers at most ε input entries, pixels × channels) is trained on all
 * the samples of the run together by {@link trainPatch}'s optimisation (mini-batches, each image at a
 * fresh random position), untargeted against the labels; then each sample gets the patch at a
 * uniformly random position drawn from its own seeded stream, `x_adv = paste(x, patch, position)`.
 * An L0 "patch" threat, as {@link adversarialPatch}'s, with no bound on the patch's values besides
 * the model's bounds.
 *
 * A dataset-level attack (`meta.scope: 'dataset'`): the run is one batch whatever `batchSize`, a
 * sample's result depends on the others, and `maxPasses` does not apply. In `advx eval` and
 * `evaluate` the patch is trained on each chunk of `batchSize` samples. One patch at a random place
 * is far weaker than a per-image sticker ({@link adversarialPatch}) of the same size, which is the
 * point: it measures what a printable, input-agnostic patch does.
 *
 * Paper: Tom B. Brown, Dandelion Mané, Aurko Roy, Martín Abadi, Justin Gilmer (2017), "Adversarial
 * Patch", {@link https://arxiv.org/abs/1712.09665} (they also sample rotation and scale; here the
 * placement).
 *
 * Threat model: white-box (gradients), universal, untargeted; L0 patch budget.
 *
 * Options: {@link universalPatch}.schema, listed by `advx list --options universal-patch`:
 *
 * <!-- options:universal-patch -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'l0' | 'l0' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `steps` | integer in [1, ∞) | 200 | optimisation steps |
 * | `imagesPerStep` | integer in [1, ∞) | 32 | images per step, each at a fresh random position |
 * | `optimizer` | 'adam' \| 'sign' | 'adam' | 'adam': Adam (β₁ 0.9, β₂ 0.999) on the mean loss; 'sign': signed-gradient steps p ← p − α·sign(∇ₚ); both clip the patch to the bounds |
 * | `stepSize` | number in (0, 1] | 0.02 | step size α per pixel (Adam's learning rate, or the signed step), as a fraction of the bounds' width |
 * | `loss` | 'ce' \| 'margin' | 'ce' | loss: cross-entropy, or the C&W logit margin clipped at 0 per image |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import { universalPatch } from '@advx/attacks';
 *
 * // Patches of 4×4 and 8×8 pixels on 28×28×1 images.
 * const result = await universalPatch({ steps: 100 }).run(model, x, { labels }, { epsilons: [16, 64], seed: 0 });
 * result.success; // per ε, per sample: fooled by the one patch trained at that size
 * result.dispose();
 * ```
 * @public
 */
export const universalPatch = defineAttack({
  meta: {
    name: 'universal-patch',
    kind: 'fixed-epsilon',
    norms: ['l0'],
    threat: 'white-box',
    goals: ['untargeted'],
    randomized: true,
    scope: 'dataset',
    paper: 'Brown, Mané, Roy, Abadi & Gilmer (2017), "Adversarial Patch", https://arxiv.org/abs/1712.09665',
  },
  options: FIT_PATCH_OPTIONS,
  checkModel: (model) => {
    imageShapeOf(model.inputShape, 'universal-patch');
  },
  perturb: async (ctx): Promise<tf.Tensor> => {
    const s = imageShapeOf(ctx.model.inputShape, 'universal-patch');
    const side = Math.min(s.height, s.width, Math.floor(Math.sqrt(Math.floor(ctx.epsilon) / s.channels) + 1e-9));
    if (side === 0) return tf.clone(ctx.x);
    const scope: PatchFitScope = {
      model: ctx.whiteBox(),
      modelOf: (rows) => ctx.whiteBox(rows),
      checkpoint: (step, steps) => ctx.checkpoint(step, steps),
    };
    const rng = new Rng(ctx.seed);
    const { patch } = await fitPatch(scope, s, { x: ctx.x, y: ctx.goal.classes }, [side, side], null, ctx.options, rng);
    // Each sample's position from its own stream: a sample's placement does not depend on the batch.
    const rows = ctx.rng.ints(s.height - side + 1);
    const cols = ctx.rng.ints(s.width - side + 1);
    const out = tf.tidy(() => {
      const positions = Array.from(rows, (r, i) => [r, cols[i] as number] as const);
      return tf.reshape(pastePatch(asNhwc(ctx.x, s), patch, positions), ctx.x.shape);
    });
    patch.dispose();
    return out;
  },
});

/**
 * Options of {@link universalPatch} (each optional; see its option table).
 *
 * @public
 */
export type UniversalPatchOptions = FactoryOptions<typeof universalPatch>;
