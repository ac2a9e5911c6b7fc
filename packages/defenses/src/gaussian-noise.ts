import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, checkNumber, deriveSeed, Rng, type Preprocessor } from '@advx/core';

/**
 * Options of {@link gaussianNoise}.
 *
 * @public
 */
export interface GaussianNoiseOptions {
  /** Standard deviation σ of the noise, in input units, > 0 (required). */
  readonly sigma: number;
  /** Seed of the noise stream (default 0): call `k` of `apply` draws from a stream derived from `(seed, k)`. */
  readonly seed?: number;
  /** Clip the noisy input to the model's bounds (default `true`). */
  readonly clip?: boolean;
}

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
 * Options (defaults): `sigma` (required), `seed` (0), `clip` (`true`).
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
export function gaussianNoise(options: GaussianNoiseOptions): Preprocessor {
  const sigma = checkNumber('gaussianNoise: sigma', options?.sigma, 0, Infinity, true);
  const seed = checkNumber('gaussianNoise: seed', options.seed ?? 0, -Infinity);
  const clip = options.clip ?? true;
  if (typeof clip !== 'boolean') throw new AdvxError('INVALID_OPTION', `gaussianNoise: clip must be true or false, got ${String(clip)}.`);
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
}
