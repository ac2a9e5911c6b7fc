import * as tf from '@tensorflow/tfjs-core';

import { checkInteger } from '@advx/core';

import type { Postprocessor } from './postprocess.js';

/**
 * Options of {@link roundOutput}.
 *
 * @public
 */
export interface RoundOutputOptions {
  /** Decimals kept, an integer in [0, 8] (default 3, as ART's `Rounded`). */
  readonly decimals?: number;
}

/**
 * Rounds released probabilities to `decimals` decimals (ART's `Rounded` postprocessor).
 *
 * Paper: Florian Tramèr, Fan Zhang, Ari Juels, Michael K. Reiter, Thomas Ristenpart (2016),
 * "Stealing Machine Learning Models via Prediction APIs", USENIX Security,
 * {@link https://arxiv.org/abs/1609.02943} (rounding as a countermeasure).
 *
 * Threat model addressed: model extraction and score-based attacks that need fine-grained scores.
 * Not addressed: white-box attacks (gradients are not affected), decision-based attacks. Known
 * bypass: decision-based attacks (Boundary, HopSkipJump) need only the top-1 label, which rounding
 * keeps; extraction still works with more queries.
 *
 * @example
 * ```ts
 * roundOutput({ decimals: 1 }).apply(tf.tensor2d([[0.72, 0.28]])).print(); // [[0.7, 0.3]]
 * ```
 * @public
 */
export function roundOutput(options: RoundOutputOptions = {}): Postprocessor {
  const decimals = checkInteger('roundOutput: decimals', options.decimals ?? 3, 0, 8);
  const scale = 10 ** decimals;
  return Object.freeze({
    name: 'round-output',
    output: 'scores' as const,
    apply: (p: tf.Tensor2D) => tf.tidy(() => tf.div(tf.round(tf.mul(p, scale)), scale) as tf.Tensor2D),
  });
}
