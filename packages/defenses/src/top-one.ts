import * as tf from '@tensorflow/tfjs-core';

import type { Postprocessor } from './postprocess.js';

/**
 * Releases only the top-1 class, as a one-hot row (ART's `ClassLabels` postprocessor).
 *
 * Paper: Florian Tramèr, Fan Zhang, Ari Juels, Michael K. Reiter, Thomas Ristenpart (2016),
 * "Stealing Machine Learning Models via Prediction APIs", USENIX Security,
 * {@link https://arxiv.org/abs/1609.02943} (class labels only as a countermeasure).
 *
 * Threat model addressed: score-based attacks (SimBA, Square with scores, NES/ZOO) and
 * confidence-based extraction. Not addressed: white-box and transfer attacks. Known bypass:
 * decision-based attacks (Boundary, HopSkipJump) work from labels alone.
 *
 * @example
 * ```ts
 * topOne().apply(tf.tensor2d([[0.2, 0.5, 0.3]])).print(); // [[0, 1, 0]]
 * ```
 * @public
 */
export function topOne(): Postprocessor {
  return Object.freeze({
    name: 'top-one',
    output: 'label' as const,
    apply: (p: tf.Tensor2D) => tf.tidy(() => tf.cast(tf.oneHot(tf.argMax(p, 1), p.shape[1]), 'float32') as tf.Tensor2D),
  });
}
