import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, checkInteger, checkNumber, getNorm, validateInput, type Bounds, type Progress } from '@advx/core';

import { checkKnownOptions } from './internal/function-options.js';

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

/**
 * Options of {@link latentAttack}.
 *
 * @public
 */
export interface LatentAttackOptions {
  /** Perturbation budget in `norm` (required), in input units. */
  readonly epsilon: number;
  /** `'l2'` (default) or `'linf'`. */
  readonly norm?: 'l2' | 'linf';
  /** Projected gradient steps, an integer ≥ 1 (default 100). */
  readonly steps?: number;
  /** Step size relative to epsilon (default 0.05). */
  readonly relStepSize?: number;
  /** Aborts the run: it throws `AdvxError` `ABORTED` at the next step and leaks nothing. */
  readonly signal?: AbortSignal;
  /** Called once per step. */
  readonly onProgress?: (progress: Progress) => void;
}

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

const KNOWN = ['epsilon', 'norm', 'steps', 'relStepSize', 'signal', 'onProgress'];

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
 * Options (defaults): `epsilon` (required), `norm` (`'l2'`), `steps` (100), `relStepSize` (0.05),
 * `signal`, `onProgress`.
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
  checkKnownOptions('latentAttack', options, KNOWN);
  const epsilon = options.epsilon;
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon <= 0) {
    throw new AdvxError('INVALID_EPSILON', `latentAttack: epsilon must be a finite number > 0, got ${String(epsilon)}.`);
  }
  const normName = options.norm ?? 'l2';
  if (normName !== 'l2' && normName !== 'linf') throw new AdvxError('UNSUPPORTED_NORM', `latentAttack is defined for l2 and linf, not '${String(normName)}'.`);
  const steps = checkInteger('latentAttack: steps', options.steps ?? 100, 1);
  const alpha = checkNumber('latentAttack: relStepSize', options.relStepSize ?? 0.05, 0, Infinity, true) * epsilon;
  await validateInput(m, x);
  await validateInput(m, targets);
  if (targets.shape[0] !== x.shape[0]) {
    throw new AdvxError('BATCH_MISMATCH', `latentAttack: ${targets.shape[0]} targets for ${x.shape[0]} sources; pass one target image per source.`);
  }
  const { signal, onProgress } = options;
  const aborted = () => new AdvxError('ABORTED', 'latentAttack was aborted through its AbortSignal; partial results were released.');
  if (signal?.aborted) throw aborted();

  const norm = getNorm(normName);
  const [lo, hi] = m.bounds;
  const n = x.shape[0] as number;
  const zt = tf.tidy(() => m.encode(targets));
  const latentDist = (input: tf.Tensor) => tf.tidy(() => tf.sqrt(tf.sum(tf.square(tf.sub(m.encode(input), zt)), 1)));
  let adv = tf.clone(x);
  try {
    for (let i = 0; i < steps; i++) {
      if (signal?.aborted) throw aborted();
      onProgress?.({ fraction: i / steps, batch: 0, batches: 1, epsilonIndex: 0, step: i, steps });
      if (signal?.aborted) throw aborted();
      if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 0));
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
    const out = adv;
    let disposed = false;
    return {
      ...result,
      dispose: () => {
        if (!disposed) tf.dispose([out, reconstruction]);
        disposed = true;
      },
    };
  } catch (err) {
    adv.dispose();
    throw err;
  } finally {
    zt.dispose();
  }
}
