import * as tf from '@tensorflow/tfjs-core';

import { checkNumber } from '@advx/core';

import type { Postprocessor } from './postprocess.js';

/**
 * Options of {@link reverseSigmoid}.
 *
 * @public
 */
export interface ReverseSigmoidOptions {
  /** Magnitude β of the perturbation, > 0 (default 1, as ART). */
  readonly beta?: number;
  /** Dataset-dependent γ inside the sigmoid, > 0 (default 0.1, as ART). */
  readonly gamma?: number;
}

/**
 * Reverse sigmoid: perturbs released probabilities as
 * `p' = normalize(clip(p − β·(σ(−γ·log((1 − p)/p)) − ½), 0, 1))` (with `p` clipped to [1e-9, 1 − 1e-9]
 * inside the logarithm), which keeps the scores plausible but makes their gradient and their
 * inversion misleading — ART's `ReverseSigmoid`, for more than two classes.
 *
 * Paper: Taesung Lee, Benjamin Edwards, Ian Molloy, Dong Su (2019), "Defending Against Neural Network
 * Model Stealing Attacks Using Deceptive Perturbations", IEEE S&P Workshops,
 * {@link https://arxiv.org/abs/1806.00054}.
 *
 * Threat model addressed: model extraction by distillation on the released scores. Not addressed:
 * white-box attacks; label-only extraction and decision-based attacks. Known bypass: querying for
 * labels only (the top-1 class usually survives the perturbation), or learning the inverse map.
 *
 * @example
 * ```ts
 * reverseSigmoid({ beta: 1, gamma: 0.1 }).apply(tf.tensor2d([[0.7, 0.2, 0.1]])).print();
 * ```
 * @public
 */
export function reverseSigmoid(options: ReverseSigmoidOptions = {}): Postprocessor {
  const beta = checkNumber('reverseSigmoid: beta', options.beta ?? 1, 0, Infinity, true);
  const gamma = checkNumber('reverseSigmoid: gamma', options.gamma ?? 0.1, 0, Infinity, true);
  return Object.freeze({
    name: 'reverse-sigmoid',
    output: 'scores' as const,
    apply: (p: tf.Tensor2D) =>
      tf.tidy(() => {
        const clipped = tf.clipByValue(p, 1e-9, 1 - 1e-9);
        const r = tf.mul(tf.sub(tf.sigmoid(tf.mul(tf.log(tf.div(tf.sub(1, clipped), clipped)), -gamma)), 0.5), beta);
        const perturbed = tf.clipByValue(tf.sub(p, r), 0, 1);
        return tf.div(perturbed, tf.sum(perturbed, 1, true)) as tf.Tensor2D;
      }),
  });
}
