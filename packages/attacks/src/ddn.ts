import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, defineAttack, isAdversarialLogits, option, whereRows, type FactoryOptions } from '@advx/core';

/**
 * DDN (Decoupled Direction and Norm): a fast minimal-L2 attack that steps the direction of the
 * perturbation along the normalised gradient and adjusts its norm separately.
 *
 * Paper: Jérôme Rony, Luiz G. Hafemann, Luiz S. Oliveira, Ismail Ben Ayed, Robert Sabourin, Eric
 * Granger, "Decoupling Direction and Norm for Efficient Gradient-Based L2 Adversarial Attacks and
 * Defenses", CVPR 2019, {@link https://arxiv.org/abs/1811.09600}.
 *
 * Algorithm 1 of the paper, in the order of the authors' reference implementation (adv_lib's `ddn`,
 * and `fast_adversarial`'s `DDN`): each sample keeps an adversarial candidate `x̃ = x + δ` (`δ₀ = 0`)
 * and a norm budget `ε` (`ε₀ = initNorm`). At iteration `i` (of `steps`), the cross-entropy of the
 * label (ascended; untargeted) or of the target (descended; targeted) and its gradient `g` are taken
 * at `x̃`; if `x̃` is adversarial and `‖δ‖₂` is the smallest so far, it becomes the sample's best. Then
 * `δ ← δ + α_i·g/‖g‖₂` with the cosine-annealed step `α_i = α_min + (α₀ − α_min)·(1 + cos(π·i/steps))/2`,
 * `ε ← (1 − γ)·ε` if `x̃` was adversarial, else `(1 + γ)·ε`, capped at `‖max(x − lo, hi − x)‖₂` (the
 * farthest point of the box), `δ` is rescaled to `‖δ‖₂ = ε` (the sphere, not the ball), `x + δ` is
 * clipped to the bounds and, with `levels`, rounded to the quantisation grid. The result is the best
 * adversarial (the clean input where none was found; its distance is then `Infinity`). As in the
 * reference code the point made by the last update is not evaluated, so the run costs exactly `steps`
 * forward and backward passes.
 *
 * A sample whose gradient is exactly zero (a saturated or dead region) steps along a random unit
 * direction instead, drawn from its seeded stream of the context's generator (the reference code
 * draws an unnormalised Gaussian there); otherwise the attack draws no random numbers.
 *
 * - Threat model: white-box (gradients of the logits).
 * - Kind: minimization — it runs once per batch and the base clips the result to every epsilon.
 * - Norm: `l2`. Goals: untargeted and targeted.
 * - Input: any shape `[n, ...model.inputShape]` inside `model.bounds`; the model must return logits.
 * - Every computation is per sample, so results do not depend on the batch size; deterministic
 *   under a seed.
 *
 * Options: {@link ddn}.schema, listed by `advx list --options ddn`:
 *
 * <!-- options:ddn -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'l2' | 'l2' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `steps` | integer in [1, ∞) | 100 | iterations, one gradient each |
 * | `gamma` | number in (0, 1) | 0.05 | γ: the norm budget ε is multiplied by 1 − γ after an adversarial step, by 1 + γ otherwise |
 * | `initNorm` | number in (0, ∞) | 1 | initial norm budget ε₀, relative to hi − lo |
 * | `initStepSize` | number in (0, ∞) | 1 | step size α₀ at the first iteration, relative to hi − lo; cosine-annealed down to minStepSize |
 * | `minStepSize` | number in [0, ∞) | 0.01 | the step size the cosine schedule approaches at the last iteration, relative to hi − lo |
 * | `levels` | 0 (off) or an integer in [2, ∞) | 256 | quantisation: after every step each value is rounded to the nearest of levels evenly spaced values (256 for 8-bit images; 0: off) |
 * <!-- /options -->
 *
 * The defaults are the paper's and those of adv_lib's `ddn`, the reference implementation by the
 * first author (`lr=1`, `eta_min=0.01`, `levels=256`). Norms and step sizes are in units of the
 * width `hi − lo` of the model's bounds (for inputs in [0, 1] they are plain L2 lengths, as in the
 * reference code). `earlyStop` has no effect: a minimization attack keeps shrinking the perturbation
 * after the first success.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { fromFunction } from '@advx/core';
 * import { ddn } from '@advx/attacks';
 *
 * const w = tf.tensor2d([[1, -1], [-1, 1]]);
 * const model = fromFunction((x) => tf.matMul(x as tf.Tensor2D, w), {
 *   inputShape: [2], numClasses: 2, bounds: [0, 1], output: 'logits',
 * });
 * const x = tf.tensor2d([[0.7, 0.3]]);
 * const labels = tf.tensor1d([0], 'int32');
 * const result = await ddn({ levels: 0 }).run(model, x, { labels }, { epsilons: [0.1, 0.5] });
 * console.log(result.distances[0]); // ≈ 0.2830, just above 0.4/√2 ≈ 0.2828, the distance to the boundary x0 = x1
 * result.dispose();
 * ```
 * @public
 */
export const ddn = defineAttack({
  meta: {
    name: 'ddn',
    kind: 'minimization',
    norms: ['l2'],
    threat: 'white-box',
    goals: ['untargeted', 'targeted'],
    randomized: true,
    paper:
      'Jérôme Rony, Luiz G. Hafemann, Luiz S. Oliveira, Ismail Ben Ayed, Robert Sabourin, Eric Granger (2019). Decoupling Direction and Norm for Efficient Gradient-Based L2 Adversarial Attacks and Defenses. https://arxiv.org/abs/1811.09600',
  },
  options: {
    steps: option.integer(100, 'iterations, one gradient each', { min: 1 }),
    gamma: option.number(0.05, 'γ: the norm budget ε is multiplied by 1 − γ after an adversarial step, by 1 + γ otherwise', {
      min: 0,
      max: 1,
      above: true,
      below: true,
    }),
    initNorm: option.number(1, 'initial norm budget ε₀, relative to hi − lo', { min: 0, above: true }),
    initStepSize: option.number(1, 'step size α₀ at the first iteration, relative to hi − lo; cosine-annealed down to minStepSize', { min: 0, above: true }),
    minStepSize: option.number(0.01, 'the step size the cosine schedule approaches at the last iteration, relative to hi − lo', { min: 0 }),
    levels: option.custom<number>(
      256,
      'quantisation: after every step each value is rounded to the nearest of levels evenly spaced values (256 for 8-bit images; 0: off)',
      {
        type: '0 (off) or an integer in [2, ∞)',
        accepts: (v) => v === 0 || (typeof v === 'number' && Number.isInteger(v) && v >= 2),
        json: true,
      },
    ),
  },
  check: (o) => {
    if (o.minStepSize > o.initStepSize) {
      throw new AdvxError('INVALID_OPTION', `ddn: minStepSize (${o.minStepSize}) must not exceed initStepSize (${o.initStepSize}).`, {
        option: 'minStepSize',
        value: o.minStepSize,
      });
    }
  },
  perturb: async (ctx) => {
    const { steps, gamma, initNorm, initStepSize, minStepSize, levels } = ctx.options;
    const { x, n } = ctx;
    const [lo, hi] = ctx.bounds;
    const width = hi - lo;
    const rowNorm = (t: tf.Tensor): tf.Tensor1D => tf.sqrt(tf.sum(tf.square(tf.reshape(t, [n, -1])), 1)) as tf.Tensor1D;
    const column = (rows: tf.Tensor1D): tf.Tensor => tf.reshape(rows, [n, ...new Array<number>(x.rank - 1).fill(1)]);

    // The largest L2 distance from x to a point of the box: the cap of ε.
    const worst = tf.tidy(() => rowNorm(tf.maximum(tf.sub(x, lo), tf.sub(hi, x))));
    let state = {
      adv: tf.clone(x),
      eps: tf.fill([n], initNorm * width) as tf.Tensor1D,
      best: tf.clone(x),
      bestDist: tf.fill([n], Infinity) as tf.Tensor1D,
    };
    const release = () => tf.dispose([worst, ...Object.values(state)]);

    for (let i = 0; i < steps; i++) {
      let probe: { grad: tf.Tensor; isAdv: tf.Tensor1D; scale: tf.Tensor1D } | undefined;
      let noise: tf.Tensor | undefined;
      try {
        await ctx.checkpoint(i, steps);
        const at = state.adv;
        probe = tf.tidy(() => {
          const { grad, logits } = ctx.gradient(at);
          return {
            grad,
            isAdv: isAdversarialLogits(logits, ctx.goal),
            scale: tf.max(tf.abs(tf.reshape(grad, [n, -1])), 1) as tf.Tensor1D,
          };
        });
        const scales = await probe.scale.data();
        // Rows whose gradient is exactly zero step along a random direction (the reference code's guard against 0/0).
        const zero = Array.from(scales, (s) => s === 0);
        if (zero.some(Boolean)) {
          // Only the zero-gradient rows draw, each from its own stream: batch-size independent.
          const d = x.size / n;
          const values = new Float32Array(x.size);
          zero.forEach((z, j) => {
            if (!z) return;
            const stream = ctx.rng.streams[j];
            for (let k = 0; k < d; k++) values[j * d + k] = stream ? stream.normal() : 0;
          });
          noise = tf.tensor(values, x.shape, 'float32');
        }
        const alpha = (minStepSize + ((initStepSize - minStepSize) * (1 + Math.cos((Math.PI * i) / steps))) / 2) * width;
        const prev = state;
        const { grad, isAdv } = probe;
        const next = tf.tidy(() => {
          const dist = rowNorm(tf.sub(prev.adv, x));
          const improved = tf.logicalAnd(isAdv, tf.less(dist, prev.bestDist));
          let direction = ctx.norm.normalizeGradient(grad);
          if (noise) direction = whereRows(tf.tensor1d(zero, 'bool'), ctx.norm.normalizeGradient(noise), direction);
          const stepped = tf.add(tf.sub(prev.adv, x), tf.mul(direction, alpha));
          const eps = tf.minimum(tf.where(isAdv, tf.mul(prev.eps, 1 - gamma), tf.mul(prev.eps, 1 + gamma)), worst) as tf.Tensor1D;
          // Onto the sphere of radius ε (a zero δ stays zero), then into the bounds and onto the grid.
          const length = rowNorm(stepped);
          const factor = tf.where(tf.greater(length, 0), tf.div(eps, tf.where(tf.greater(length, 0), length, tf.onesLike(length))), tf.zerosLike(length));
          let adv = tf.clipByValue(tf.add(x, tf.mul(stepped, column(factor as tf.Tensor1D))), lo, hi);
          if (levels !== 0) {
            const q = levels - 1;
            adv = tf.clipByValue(tf.add(lo, tf.mul(tf.div(tf.round(tf.mul(tf.sub(adv, lo), q / width)), q), width)), lo, hi);
          }
          return {
            adv,
            eps,
            best: whereRows(improved, prev.adv, prev.best),
            bestDist: tf.where(improved, dist, prev.bestDist) as tf.Tensor1D,
          };
        });
        tf.dispose(Object.values(prev));
        state = next;
      } catch (err) {
        // Aborted between steps: release the state (no engine scope will).
        release();
        throw err;
      } finally {
        if (probe) tf.dispose(Object.values(probe));
        noise?.dispose();
      }
    }
    tf.dispose([worst, state.adv, state.eps, state.bestDist]);
    return state.best;
  },
});

/**
 * Options of {@link ddn} (each optional; see its option table).
 *
 * @public
 */
export type DdnOptions = FactoryOptions<typeof ddn>;
