import * as tf from '@tensorflow/tfjs-core';

import { defineFactory, option, type FactoryOptions } from '@advx/core';

import type { Postprocessor } from './postprocess.js';

const ROUND_OUTPUT_OPTIONS = {
  decimals: option.integer(3, "decimals kept (3: as ART's Rounded)", { min: 0, max: 8 }),
};

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
 * Options: {@link roundOutput}.schema (each declared once, with its default, range and doc).
 *
 * <!-- options:round-output -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `decimals` | integer in [0, 8] | 3 | decimals kept (3: as ART's Rounded) |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * roundOutput({ decimals: 1 }).apply(tf.tensor2d([[0.72, 0.28]])).print(); // [[0.7, 0.3]]
 * ```
 * @public
 */
export const roundOutput = defineFactory('roundOutput', ROUND_OUTPUT_OPTIONS, (o): Postprocessor => {
  const { decimals } = o;
  const scale = 10 ** decimals;
  return Object.freeze({
    name: 'round-output',
    output: 'scores' as const,
    apply: (p: tf.Tensor2D) => tf.tidy(() => tf.div(tf.round(tf.mul(p, scale)), scale) as tf.Tensor2D),
  });
});

/**
 * Options of {@link roundOutput}.
 *
 * @public
 */
export type RoundOutputOptions = FactoryOptions<typeof roundOutput>;
