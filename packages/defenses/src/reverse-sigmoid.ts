import * as tf from '@tensorflow/tfjs-core';

import { defineFactory, option, type FactoryOptions } from '@advx/core';

import type { Postprocessor } from './postprocess.js';

const REVERSE_SIGMOID_OPTIONS = {
  beta: option.number(1, 'magnitude β of the perturbation (1: as ART)', { min: 0, above: true }),
  gamma: option.number(0.1, 'dataset-dependent γ inside the sigmoid (0.1: as ART)', { min: 0, above: true }),
};

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
 * Options: {@link reverseSigmoid}.schema (each declared once, with its default, range and doc).
 *
 * <!-- options:reverse-sigmoid -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `beta` | number in (0, ∞) | 1 | magnitude β of the perturbation (1: as ART) |
 * | `gamma` | number in (0, ∞) | 0.1 | dataset-dependent γ inside the sigmoid (0.1: as ART) |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * reverseSigmoid({ beta: 1, gamma: 0.1 }).apply(tf.tensor2d([[0.7, 0.2, 0.1]])).print();
 * ```
 * @public
 */
export const reverseSigmoid = defineFactory('reverseSigmoid', REVERSE_SIGMOID_OPTIONS, (o): Postprocessor => {
  const { beta, gamma } = o;
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
});

/**
 * Options of {@link reverseSigmoid}.
 *
 * @public
 */
export type ReverseSigmoidOptions = FactoryOptions<typeof reverseSigmoid>;
