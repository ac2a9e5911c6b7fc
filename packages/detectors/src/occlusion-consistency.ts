import type * as tf from '@tensorflow/tfjs-core';

import { AdvxError, type AnyModel, type Detector } from '@advx/core';

import { checkBatch, checkBatchSize, checkKnownOptions, checkModel } from './internal/checks.js';
import { occludedOutputs, occlusionGeometry } from './internal/occlusion.js';

/**
 * Options of {@link occlusionConsistency}.
 *
 * @public
 */
export interface OcclusionConsistencyOptions {
  /** Side of the square occluder in pixels (default 4; somewhat smaller than the patches to detect). */
  readonly size?: number;
  /** Step between occluder positions in pixels (default 2). */
  readonly stride?: number;
  /** Value under the occluder, inside the bounds (default: the low bound). */
  readonly fill?: number;
  /**
   * `label` (default): the fraction of occluder positions whose top-1 class differs from the class
   * predicted on the uncovered input; `confidence`: the largest drop, over positions, of that
   * class's probability (weaker against low-confidence patches: on MNIST a clean digit's confidence
   * can drop further when a stroke is covered).
   */
  readonly measure?: 'confidence' | 'label';
  /** Occluded copies per forward pass (default 256). */
  readonly batchSize?: number;
}

const OPTIONS = ['size', 'stride', 'fill', 'measure', 'batchSize'];

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
 * Options (defaults): `size` (4), `stride` (2), `fill` (low bound), `measure` (`'label'`),
 * `batchSize` (256). Needs no `fit`.
 *
 * @example
 * ```ts
 * const detector = occlusionConsistency({ size: 6, stride: 2 });
 * const scores = await detector.score(zoo.model, patchedImages); // high on patched images
 * ```
 * @public
 */
export function occlusionConsistency(options: OcclusionConsistencyOptions = {}): Detector {
  checkKnownOptions('occlusionConsistency', options, OPTIONS);
  const size = options.size ?? 4;
  const stride = options.stride ?? 2;
  const batchSize = checkBatchSize('occlusionConsistency', options.batchSize ?? 256);
  const measure = options.measure ?? 'label';
  if (measure !== 'confidence' && measure !== 'label') {
    throw new AdvxError('INVALID_OPTION', `occlusionConsistency: measure must be 'confidence' or 'label', got ${String(measure)}.`);
  }
  return Object.freeze({
    name: 'occlusion-consistency',
    needsFit: false,
    async score(model: AnyModel, x: tf.Tensor): Promise<Float32Array> {
      checkModel(model, 'occlusionConsistency', false);
      if (model.kind !== 'model') throw new AdvxError('UNSUPPORTED_MODEL', 'occlusionConsistency needs a white-box Model.');
      const geometry = occlusionGeometry('occlusionConsistency', model, size, stride, options.fill);
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
}
