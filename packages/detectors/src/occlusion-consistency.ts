import type * as tf from '@tensorflow/tfjs-core';

import { AdvxError, defineFactory, option, type AnyModel, type Detector, type FactoryOptions } from '@advx/core';

import { checkBatch, checkModel } from './internal/checks.js';
import { occludedOutputs, occlusionGeometry } from './internal/occlusion.js';
import { finiteNumber } from './internal/finite-number.js';

const OCCLUSION_CONSISTENCY_OPTIONS = {
  size: option.integer(4, 'side of the square occluder in pixels (somewhat smaller than the patches to detect; at most the image side)', { min: 1 }),
  stride: option.integer(2, 'step between occluder positions in pixels', { min: 1 }),
  fill: option.optional<number>('value under the occluder, inside the bounds', 'the low bound', { type: 'a finite number', accepts: finiteNumber() }),
  measure: option.oneOf(
    ['label', 'confidence'],
    'label',
    "'label': the fraction of occluder positions whose top-1 class differs from the class predicted on the uncovered input; 'confidence': the largest drop, over positions, of that class's probability (weaker against low-confidence patches)",
  ),
  batchSize: option.integer(256, 'occluded copies per forward pass', { min: 1 }),
};

/**
 * Consistency under occlusion: covers each region of the input in turn (a square of value `fill`
 * slid with `stride`) and measures how much the prediction changes. A localized adversarial patch
 * carries the whole decision, so covering it restores the true class and the confidence of the
 * prediction changes at every position that covers it; on a clean input no single small region
 * decides the class. The score is the fraction of positions that change the top-1 class (or the
 * largest confidence drop); higher = more suspicious.
 * All positions of a sample go through the model in a few batched forward passes.
 *
 * Paper: Horváth & Egervári (2018), consistency of the prediction under occlusion as a detector of
 * adversarial patches, ICDIP 2018 (no open-access link was found); the occlusion sweep is Zeiler &
 * Fergus's, {@link https://arxiv.org/abs/1311.2901}.
 *
 * Threat model: detection of localized (patch) attacks; needs only forward passes of a white-box
 * `Model`. Not effective against dense Linf/L2 perturbations spread over the whole image.
 *
 * Options: {@link occlusionConsistency}.schema (each declared once, with its default, range and
 * doc). Needs no `fit`.
 *
 * <!-- options:occlusion-consistency -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `size` | integer in [1, ∞) | 4 | side of the square occluder in pixels (somewhat smaller than the patches to detect; at most the image side) |
 * | `stride` | integer in [1, ∞) | 2 | step between occluder positions in pixels |
 * | `fill` | a finite number | null | value under the occluder, inside the bounds (none: the low bound) |
 * | `measure` | 'label' \| 'confidence' | 'label' | 'label': the fraction of occluder positions whose top-1 class differs from the class predicted on the uncovered input; 'confidence': the largest drop, over positions, of that class's probability (weaker against low-confidence patches) |
 * | `batchSize` | integer in [1, ∞) | 256 | occluded copies per forward pass |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * const detector = occlusionConsistency({ size: 6, stride: 2 });
 * const scores = await detector.score(zoo.model, patchedImages); // high on patched images
 * ```
 * @public
 */
export const occlusionConsistency = defineFactory('occlusionConsistency', OCCLUSION_CONSISTENCY_OPTIONS, (options): Detector => {
  const { size, stride, batchSize, measure } = options;
  return Object.freeze({
    name: 'occlusion-consistency',
    needsFit: false,
    async score(model: AnyModel, x: tf.Tensor): Promise<Float32Array> {
      checkModel(model, 'occlusionConsistency', false);
      if (model.kind !== 'model') throw new AdvxError('UNSUPPORTED_MODEL', 'occlusionConsistency needs a white-box Model.');
      const geometry = occlusionGeometry('occlusionConsistency', model, size, stride, options.fill ?? undefined);
      await checkBatch(model, x);
      const n = x.shape[0] as number;
      const c = model.numClasses;
      const { clean, occluded, positions } = await occludedOutputs(model, x, geometry, batchSize, 'probabilities');
      const scores = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let top = 0;
        for (let k = 1; k < c; k++) if ((clean[i * c + k] as number) > (clean[i * c + top] as number)) top = k;
        let drop = 0;
        let changed = 0;
        for (let p = 0; p < positions; p++) {
          const base = (i * positions + p) * c;
          drop = Math.max(drop, (clean[i * c + top] as number) - (occluded[base + top] as number));
          let best = 0;
          for (let k = 1; k < c; k++) if ((occluded[base + k] as number) > (occluded[base + best] as number)) best = k;
          if (best !== top) changed++;
        }
        scores[i] = measure === 'confidence' ? drop : changed / positions;
      }
      return scores;
    },
  });
});

/**
 * Options of {@link occlusionConsistency}.
 *
 * @public
 */
export type OcclusionConsistencyOptions = FactoryOptions<typeof occlusionConsistency>;
