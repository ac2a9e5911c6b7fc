import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, predictClasses, type Model } from '@advx/core';

import { checkBatch, checkBatchSize, checkKnownOptions, checkModel } from './internal/checks.js';
import { occludedOutputs, occlusionGeometry } from './internal/occlusion.js';

/**
 * Options of {@link occlusionMap}.
 *
 * @public
 */
export interface OcclusionMapOptions {
  /** Side of the square patch in pixels (default 4). */
  readonly size?: number;
  /** Step between patch positions in pixels (default 2). */
  readonly stride?: number;
  /** Value written under the patch, inside the bounds (default: the low bound, MNIST's background). */
  readonly fill?: number;
  /** Class whose score is explained, one per sample (default: the model's prediction). */
  readonly classes?: tf.Tensor1D;
  /** `probability` (default, as Zeiler & Fergus plot) or `logit` of the class. */
  readonly score?: 'probability' | 'logit';
  /** Occluded copies per forward pass (default 256). */
  readonly batchSize?: number;
}

const OPTIONS = ['size', 'stride', 'fill', 'classes', 'score', 'batchSize'];

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
  checkKnownOptions('occlusionMap', options, OPTIONS);
  const geometry = occlusionGeometry('occlusionMap', model, options.size ?? 4, options.stride ?? 2, options.fill);
  const batchSize = checkBatchSize('occlusionMap', options.batchSize ?? 256);
  const score = options.score ?? 'probability';
  if (score !== 'probability' && score !== 'logit') {
    throw new AdvxError('INVALID_OPTION', `occlusionMap: score must be 'probability' or 'logit', got ${String(score)}.`);
  }
  const given = await checkBatch(model, x, options.classes);
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
