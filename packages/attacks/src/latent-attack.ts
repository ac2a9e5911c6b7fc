import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, getNorm, option, resolveOptions, validateInput, type Bounds, type OptionsInput } from '@advx/core';
import { abortedError, CHECKPOINT_OPTIONS, disposable, makeCheckpoint } from '@advx/core/plugin';

import { checkEpsilonAndNorm } from './internal/function-options.js';

/**
 * An encoder–decoder model (autoencoder, VAE mean path): pure tfjs functions, differentiable.
 *
 * @public
 */
export interface EncoderDecoder {
  /** Shape of one input, without the batch axis. */
  readonly inputShape: readonly number[];
  /** Valid input range. */
  readonly bounds: Bounds;
  /** Latent codes `[n, k]` of a batch `[n, ...inputShape]`. */
  encode(x: tf.Tensor): tf.Tensor2D;
  /** Reconstructions `[n, ...inputShape]` of latent codes `[n, k]`. */
  decode(z: tf.Tensor2D): tf.Tensor;
}

const OPTIONS = {
  epsilon: option.number(undefined, 'perturbation budget in `norm`, in input units', { min: 0, above: true }),
  norm: option.oneOf(['l2', 'linf'], 'l2', 'perturbation norm'),
  steps: option.integer(100, 'projected gradient steps', { min: 1 }),
  relStepSize: option.number(0.05, 'step size α relative to epsilon', { min: 0, above: true }),
  ...CHECKPOINT_OPTIONS,
};

/**
 * Options of {@link latentAttack}: `epsilon` is required (the accepted values and defaults are
 * those of its option schema).
 *
 * @public
 */
export type LatentAttackOptions = OptionsInput<typeof OPTIONS>;

/**
 * The result of {@link latentAttack}. The caller owns the tensors and must call `dispose()`.
 *
 * @public
 */
export interface LatentAttackResult {
  /** The adversarial inputs `x + δ`, inside the bounds and the epsilon ball. */
  readonly adversarial: tf.Tensor;
  /** Their reconstructions `decode(encode(x + δ))`. */
  readonly reconstruction: tf.Tensor;
  /** Per sample: `‖encode(x + δ) − encode(target)‖₂`. */
  readonly latentDistance: Float32Array;
  /** Per sample: the same distance before the attack, `‖encode(x) − encode(target)‖₂`. */
  readonly initialLatentDistance: Float32Array;
  /** Per sample: `‖δ‖₂`. */
  readonly perturbationL2: Float32Array;
  /** Per sample: mean squared error between the reconstruction and the target image. */
  readonly reconstructionToTarget: Float32Array;
  /** Per sample: mean squared error between the reconstruction and the source image. */
  readonly reconstructionToSource: Float32Array;
  /** Disposes `adversarial` and `reconstruction`. */
  dispose(): void;
}

function checkEncoderDecoder(m: unknown): EncoderDecoder {
  const e = m as EncoderDecoder | null;
  if (
    e === null ||
    typeof e !== 'object' ||
    typeof e.encode !== 'function' ||
    typeof e.decode !== 'function' ||
    !Array.isArray(e.inputShape) ||
    !Array.isArray(e.bounds)
  ) {
    throw new AdvxError('INVALID_MODEL', 'latentAttack: the model must be an EncoderDecoder { inputShape, bounds, encode(x), decode(z) }.');
  }
  return e;
}

async function rowValues(t: tf.Tensor): Promise<Float32Array> {
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return v;
}

/**
 * Latent attack on an encoder–decoder: finds `δ` within the budget that moves the latent code of
 * `x + δ` to that of a target image, `min ‖enc(x + δ) − enc(x_t)‖₂²  s.t. ‖δ‖ ≤ ε`, so the decoder
 * reconstructs (something like) the target from an input that still looks like the source. Solved
 * by projected gradient descent from `δ = 0`: `δ ← Π(δ − α·d(∇_δ))`, `d` the norm's steepest
 * direction, `α = relStepSize·ε`, `Π` the projection onto the ε ball and the bounds.
 *
 * Papers: Jernej Kos, Ian Fischer, Dawn Song (2017), "Adversarial examples for generative models"
 * (the latent attack), {@link https://arxiv.org/abs/1702.06832}; Pedro Tabacof, Julia Tavares,
 * Eduardo Valle (2016), "Adversarial Images for Variational Autoencoders", {@link https://arxiv.org/abs/1612.00155}.
 *
 * Threat model: white-box (gradients of the encoder), fixed budget, targeted in latent space.
 *
 * Options: see {@link LatentAttackOptions}, declared (values, defaults, docs) by the function's
 * option schema; `epsilon` is required.
 *
 * @param model - an {@link EncoderDecoder}.
 * @param x - source images `[n, ...inputShape]` inside the bounds.
 * @param targets - target images, same shape.
 * @param options - see {@link LatentAttackOptions}.
 * @throws AdvxError `INVALID_MODEL`, `INVALID_OPTION`, `INVALID_EPSILON`, `UNSUPPORTED_NORM`,
 *   `INVALID_SHAPE`, `BATCH_MISMATCH`, `NON_FINITE_INPUT`, `OUT_OF_BOUNDS` (before any work), `ABORTED`.
 *
 * @example
 * ```ts
 * import { latentAttack } from '@advx/attacks';
 *
 * const r = await latentAttack(autoencoder, sources, targets, { epsilon: 3, norm: 'l2', steps: 200 });
 * r.latentDistance;         // per sample, down from r.initialLatentDistance
 * r.reconstructionToTarget; // MSE of the reconstruction to the target image
 * r.dispose();
 * ```
 * @public
 */
export async function latentAttack(model: EncoderDecoder, x: tf.Tensor, targets: tf.Tensor, options: LatentAttackOptions): Promise<LatentAttackResult> {
  const m = checkEncoderDecoder(model);
  checkEpsilonAndNorm('latentAttack', options, ['l2', 'linf']);
  const o = resolveOptions('latentAttack', OPTIONS, options);
  const { epsilon, steps } = o;
  const alpha = o.relStepSize * epsilon;
  await validateInput(m, x);
  await validateInput(m, targets);
  if (targets.shape[0] !== x.shape[0]) {
    throw new AdvxError('BATCH_MISMATCH', `latentAttack: ${targets.shape[0]} targets for ${x.shape[0]} sources; pass one target image per source.`);
  }
  if (o.signal?.aborted) throw abortedError('latentAttack');
  const checkpoint = makeCheckpoint('latentAttack', o);

  const norm = getNorm(o.norm);
  const [lo, hi] = m.bounds;
  const n = x.shape[0] as number;
  const zt = tf.tidy(() => m.encode(targets));
  const latentDist = (input: tf.Tensor) => tf.tidy(() => tf.sqrt(tf.sum(tf.square(tf.sub(m.encode(input), zt)), 1)));
  let adv = tf.clone(x);
  try {
    for (let i = 0; i < steps; i++) {
      await checkpoint({ fraction: i / steps, batch: 0, batches: 1, epsilonIndex: 0, step: i, steps });
      const prev = adv;
      adv = tf.tidy(() => {
        const g = tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.sub(m.encode(v), zt))))(prev);
        const moved = tf.sub(prev, tf.mul(norm.normalizeGradient(g), alpha));
        return tf.clipByValue(tf.add(x, norm.project(tf.sub(moved, x), epsilon)), lo, hi);
      });
      prev.dispose();
    }
    const reconstruction = tf.tidy(() => m.decode(m.encode(adv)));
    const mse = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.mean(tf.reshape(tf.square(tf.sub(a, b)), [n, -1]), 1));
    const result = {
      adversarial: adv,
      reconstruction,
      latentDistance: await rowValues(latentDist(adv)),
      initialLatentDistance: await rowValues(latentDist(x)),
      perturbationL2: await rowValues(getNorm('l2').distance(adv, x)),
      reconstructionToTarget: await rowValues(mse(reconstruction, targets)),
      reconstructionToSource: await rowValues(mse(reconstruction, x)),
    };
    return disposable(result, [adv, reconstruction]);
  } catch (err) {
    adv.dispose();
    throw err;
  } finally {
    zt.dispose();
  }
}
