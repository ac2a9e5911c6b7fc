import * as tf from '@tensorflow/tfjs-core';

import { defineFactory, deriveSeed, option, Rng, type Preprocessor, type FactoryOptions } from '@advx/core';

const GAUSSIAN_NOISE_OPTIONS = {
  sigma: option.number(undefined, 'standard deviation σ of the noise, in input units', { min: 0, above: true }),
  seed: option.number(0, 'seed of the noise stream: call k of apply draws from a stream derived from (seed, k)'),
  clip: option.boolean(true, "clip the noisy input to the model's bounds"),
};

/**
 * Gaussian noise at test time: `x' = clip(x + σ·ε, bounds)` with `ε ~ N(0, I)` drawn afresh at every
 * call from the seeded generators of `@advx/core` (the same seed gives the same sequence of draws).
 *
 * Paper: Valentina Zantedeschi, Maria-Irina Nicolae, Ambrish Rawat (2017), "Efficient Defenses Against
 * Adversarial Attacks", {@link https://arxiv.org/abs/1707.06728} (Gaussian noise as a defense; ART's
 * `GaussianAugmentation`); for certified use of the same noise see {@link smooth}.
 *
 * Gradient: `bpda-identity` — the Jacobian of `x + σ·ε` is the identity (the clipping mask is not
 * applied in the backward pass). Randomized: two calls differ.
 *
 * Threat model addressed: perturbations tuned to one deterministic forward pass. Not addressed:
 * adaptive attackers. Known bypass: Expectation over Transformation (Athalye et al. 2018,
 * {@link https://arxiv.org/abs/1707.07397}) — average the gradient over several noise draws; even a
 * single draw per step (plain PGD through `defend()`) usually suffices. It gives no guarantee; use
 * randomized smoothing for a certificate.
 *
 * Options: {@link gaussianNoise}.schema (each declared once, with its default, range and doc).
 *
 * <!-- options:gaussian-noise -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `sigma` | number in (0, ∞) | required | standard deviation σ of the noise, in input units |
 * | `seed` | number in (−∞, ∞) | 0 | seed of the noise stream: call k of apply draws from a stream derived from (seed, k) |
 * | `clip` | boolean | true | clip the noisy input to the model's bounds |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import { defend } from '@advx/core';
 * import { gaussianNoise } from '@advx/defenses';
 *
 * const defended = defend(model, gaussianNoise({ sigma: 0.1, seed: 1 }));
 * ```
 * @public
 */
export const gaussianNoise = defineFactory('gaussianNoise', GAUSSIAN_NOISE_OPTIONS, (o): Preprocessor => {
  const { sigma, seed, clip } = o;
  let calls = 0;
  return Object.freeze({
    name: 'gaussian-noise',
    gradient: 'bpda-identity' as const,
    randomized: true,
    apply: (x: tf.Tensor, bounds: readonly [number, number]) => {
      const rng = new Rng(deriveSeed(seed, calls++));
      const noise = new Float32Array(x.size);
      for (let i = 0; i < noise.length; i++) noise[i] = sigma * rng.normal();
      return tf.tidy(() => {
        const noisy = tf.add(x, tf.tensor(noise, x.shape, 'float32'));
        return clip ? tf.clipByValue(noisy, bounds[0], bounds[1]) : noisy;
      });
    },
  });
});

/**
 * Options of {@link gaussianNoise}.
 *
 * @public
 */
export type GaussianNoiseOptions = FactoryOptions<typeof gaussianNoise>;
