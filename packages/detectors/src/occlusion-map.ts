import * as tf from '@tensorflow/tfjs-core';

import { option, predictClasses, resolveOptions, type Model, type OptionsInput } from '@advx/core';

import { checkBatch, checkModel } from './internal/checks.js';
import { occludedOutputs, occlusionGeometry } from './internal/occlusion.js';
import { finiteNumber } from './internal/finite-number.js';

const OCCLUSION_MAP_OPTIONS = {
  size: option.integer(4, 'side of the square patch in pixels (at most the image side)', { min: 1 }),
  stride: option.integer(2, 'step between patch positions in pixels', { min: 1 }),
  fill: option.optional<number>('value written under the patch, inside the bounds', "the low bound, MNIST's background", {
    type: 'a finite number',
    accepts: finiteNumber(),
  }),
  classes: option.optional<tf.Tensor1D>('class whose score is explained, one per sample', "the model's prediction", {
    type: 'a 1-D int32 tf.Tensor with one class per sample',
    accepts: (v) => v instanceof tf.Tensor,
  }),
  score: option.oneOf(['probability', 'logit'], 'probability', "score of the class whose drop is recorded ('probability': as Zeiler & Fergus plot)"),
  batchSize: option.integer(256, 'occluded copies per forward pass', { min: 1 }),
};

/**
 * Options of {@link occlusionMap}: `size` (4), `stride` (2), `fill` (the low bound), `classes` (the
 * prediction), `score` (`'probability'`), `batchSize` (256).
 *
 * @public
 */
export type OcclusionMapOptions = OptionsInput<typeof OCCLUSION_MAP_OPTIONS>;

/**
 * Occlusion sensitivity map: slides a square patch of value `fill` over the image and records, for
 * each position, the drop of the class score, `S_c(x) − S_c(x with the patch at (r·stride, c·stride))`.
 * Large values mark the regions the prediction depends on. All positions of an image go through
 * the model together (`batchSize` occluded copies per forward pass, several images per pass when
 * they fit), not one pass per position.
 *
 * Paper: Matthew D. Zeiler, Rob Fergus (2014), "Visualizing and Understanding Convolutional
 * Networks", ECCV, {@link https://arxiv.org/abs/1311.2901} (section 4.2, occlusion sensitivity).
 *
 * Threat model: explanation; needs only forward passes of a white-box {@link Model}.
 *
 * Options (defaults): `size` (4), `stride` (2), `fill` (low bound), `classes` (the prediction),
 * `score` (`'probability'`), `batchSize` (256).
 *
 * @param model - a white-box model with image input `[H, W]` or `[H, W, C]`.
 * @param x - batch `[n, ...model.inputShape]` inside the bounds.
 * @returns `[n, rows, cols]` with `rows = ⌊(H − size)/stride⌋ + 1` (same for columns); entry
 * `[i, r, c]` is the drop with the patch's top-left pixel at `(r·stride, c·stride)`. The caller disposes it.
 * @throws AdvxError on a bad model, input, class or option, before any work.
 * @example
 * ```ts
 * const maps = await occlusionMap(zoo.model, x, { size: 6, stride: 2 }); // [n, 12, 12] on 28×28
 * const png = await renderHeatmapPng(tf.slice(maps, 0, 1), { image: tf.slice(x, 0, 1) });
 * ```
 * @public
 */
export async function occlusionMap(model: Model, x: tf.Tensor, options: OcclusionMapOptions = {}): Promise<tf.Tensor3D> {
  checkModel(model, 'occlusionMap', false);
  const o = resolveOptions('occlusionMap', OCCLUSION_MAP_OPTIONS, options);
  const geometry = occlusionGeometry('occlusionMap', model, o.size, o.stride, o.fill ?? undefined);
  const { batchSize, score } = o;
  const given = await checkBatch(model, x, o.classes ?? undefined);
  const classes = given ?? (await predictClasses(model, x));
  const n = x.shape[0] as number;
  const c = model.numClasses;
  const { clean, occluded, positions } = await occludedOutputs(model, x, geometry, batchSize, score === 'probability' ? 'probabilities' : 'logits');
  const map = new Float32Array(n * positions);
  for (let i = 0; i < n; i++) {
    const k = classes[i] as number;
    const s0 = clean[i * c + k] as number;
    for (let p = 0; p < positions; p++) map[i * positions + p] = s0 - (occluded[(i * positions + p) * c + k] as number);
  }
  return tf.tensor3d(map, [n, geometry.rows, geometry.cols]);
}
