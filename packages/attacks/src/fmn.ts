import * as tf from '@tensorflow/tfjs-core';

import {
  AdvxError,
  defineAttack,
  isAdversarialLogits,
  l1,
  l2,
  linf,
  logitMargin,
  option,
  whereRows,
  type FactoryOptions,
  type NormGeometry,
  type NormName,
  type Objective,
} from '@advx/core';

/** Guards the division by the dual norm of the gradient (reference code: clamp at 1e-12). */
const DUAL_GUARD = 1e-12;

/** The dual norm of each attack norm, for the linear estimate of the distance to the boundary. */
const DUAL: Readonly<Record<Exclude<NormName, 'l0'>, NormGeometry>> = { l2, linf: l1, l1: linf };

/** The FMN iterate of one batch; every tensor has the batch as first axis. */
interface FmnState {
  /** The perturbation δ. */
  delta: tf.Tensor;
  /** The norm constraint ε `[n]`. */
  eps: tf.Tensor1D;
  /** The smallest adversarial perturbation found so far (zeros while none). */
  best: tf.Tensor;
  /** Its norm `[n]` (`Infinity` while none). */
  bestNorm: tf.Tensor1D;
  /** Whether an adversarial has been found `[n]`. */
  found: tf.Tensor1D;
}

/**
 * FMN: the fast minimum-norm attack, a gradient attack that adapts its norm constraint.
 *
 * Paper: Maura Pintor, Fabio Roli, Wieland Brendel, Battista Biggio, "Fast Minimum-norm Adversarial
 * Attacks through Adaptive Norm Projections", NeurIPS 2021, {@link https://arxiv.org/abs/2102.12827}.
 *
 * Algorithm 1 of the paper, per sample: start at `δ = 0`. At step `k` of `K`, compute the
 * logit-difference loss `L = z_y − max_{j≠y} z_j` (targeted: `L = max_{j≠t} z_j − z_t`) at `x + δ` and
 * its gradient, and keep `δ` if `x + δ` is adversarial and smaller than the best so far. Update the norm
 * constraint ε: if `x + δ` is adversarial, `ε ← min(ε·(1 − γ), ‖δ_best‖)`; otherwise
 * `ε ← ε·(1 + γ)` once an adversarial has been found, and before that the linear estimate of the
 * boundary, `ε ← ‖δ‖ + |L|/‖∇L‖_*` (dual norm `*`: l1 for linf, l2 for l2, linf for l1). For `l0` ε is
 * a count: `ε ← min(ε − 1, ⌊ε·(1 − γ)⌋, ‖δ_best‖₀)` when adversarial, `ε ← max(ε + 1, ⌊ε·(1 + γ)⌋)`
 * otherwise, at least 1, starting at 1. ε never exceeds the largest norm a perturbation inside the
 * bounds can have, `‖max(x − lo, hi − x)‖` (`d` for `l0`). Then `δ` descends `L` by a step of L2 length
 * `α·(hi − lo)` along `−∇L/‖∇L‖₂` (both reference implementations normalise by the L2 norm for every
 * norm), is projected onto the ε-ball (`linf`: clipping; `l2`: rescaling; `l1`: the exact Euclidean
 * projection of Duchi et al. 2008; `l0`: keeping the ⌊ε⌋ largest-magnitude entries) and clipped so that
 * `x + δ` stays inside the bounds. The step size α and the ε-step γ are cosine-annealed,
 * `α_k = α_K + (α₀ − α_K)·(1 + cos(πk/K))/2` and likewise γ. The result is `x + δ_best`, the clean
 * input where no adversarial was found (its distance is then `Infinity`).
 *
 * This follows the authors' code (pralab/Fast-Minimum-Norm-FMN-Attack, also in Foolbox 3) and
 * Jérôme Rony's adv_lib, with the per-sample boundary estimate of adv_lib (the authors' code divides the
 * loss summed over the batch). Warm starts from an initial attack (the references' optional
 * `starting_points` with a boundary search) are not provided.
 *
 * Deviation: before the first adversarial, from the second step on, ε is the larger of the boundary
 * estimate and `(1 + γ)·ε` (so it grows as it does after an adversarial has been found). With the
 * reference update ε can stop growing below the boundary: where the model is linear around `x + δ` (a
 * linear model, a linear piece of a ReLU network) the estimate is exact, the step lands on the boundary
 * or just short of it, and `‖δ‖ + |L|/‖∇L‖_*` then returns (almost) the same ε at every step; where
 * clipping to the bounds removes part of the projected step (l1), `‖δ‖` stays below ε. Measured with
 * 100 steps: the reference update leaves 2 of the 6 rows of the linear test fixture unattacked (l2),
 * and 9 of the first 50 mnist-cnn test images (l2; 4 for l1); this update attacks all of them.
 *
 * - Threat model: white-box (gradients of the logits).
 * - Kind: minimization — it runs once per batch and the base clips the result to every epsilon.
 * - Norms: `l2` (default), `linf`, `l1` and `l0`. Goals: untargeted and targeted.
 * - Input: any shape `[n, ...model.inputShape]` inside `model.bounds`; the model must return logits.
 * - Deterministic; every computation is per sample, so results do not depend on the batch size.
 *   Cost: `steps` gradient evaluations per sample.
 *
 * Options: {@link fmn}.schema, listed by `advx list --options fmn`:
 *
 * <!-- options:fmn -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'l2' \| 'linf' \| 'l1' \| 'l0' | 'l2' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `steps` | integer in [1, ∞) | 100 | iterations K, one gradient evaluation each |
 * | `alphaInit` | number in (0, ∞) | 1 | initial step size α₀ of the normalised gradient step, in units of the bounds' width hi − lo |
 * | `alphaFinal` | number in [0, ∞) | 0 | final step size α_K after cosine annealing, at most alphaInit (0: alphaInit / 100) |
 * | `gammaInit` | number in (0, 1) | 0.05 | initial ε-step γ₀: the factor of the norm-constraint update ε ← ε·(1 ± γ) |
 * | `gammaFinal` | number in [0, ∞) | 0.001 | final ε-step γ_K after cosine annealing, at most gammaInit |
 * <!-- /options -->
 *
 * The defaults are those of the authors' code, Foolbox and adv_lib, the same for every norm
 * (`alphaInit` is relative to the bounds' width, so 1 on `[0, 1]` inputs, as in the references).
 * `alphaFinal` must not exceed `alphaInit`, nor `gammaFinal` `gammaInit`. `earlyStop` has no effect:
 * a minimization attack keeps shrinking the perturbation after the first success.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { fromFunction } from '@advx/core';
 * import { fmn } from '@advx/attacks';
 *
 * const w = tf.tensor2d([[1, -1], [-1, 1]]);
 * const model = fromFunction((x) => tf.matMul(x as tf.Tensor2D, w), {
 *   inputShape: [2], numClasses: 2, bounds: [0, 1], output: 'logits',
 * });
 * const x = tf.tensor2d([[0.7, 0.3]]);
 * const labels = tf.tensor1d([0], 'int32');
 * const result = await fmn({ norm: 'l2' }).run(model, x, { labels }, { epsilons: [0.1, 0.5] });
 * console.log(result.distances[0]); // ≈ 0.2828 = 0.4/√2, the distance to the boundary x0 = x1
 * result.dispose();
 * ```
 * @public
 */
export const fmn = defineAttack({
  meta: {
    name: 'fmn',
    kind: 'minimization',
    norms: ['l2', 'linf', 'l1', 'l0'],
    threat: 'white-box',
    goals: ['untargeted', 'targeted'],
    randomized: false,
    paper:
      'Maura Pintor, Fabio Roli, Wieland Brendel, Battista Biggio (2021). Fast Minimum-norm Adversarial Attacks through Adaptive Norm Projections. https://arxiv.org/abs/2102.12827',
  },
  options: {
    steps: option.integer(100, 'iterations K, one gradient evaluation each', { min: 1 }),
    alphaInit: option.number(1, "initial step size α₀ of the normalised gradient step, in units of the bounds' width hi − lo", { min: 0, above: true }),
    alphaFinal: option.number(0, 'final step size α_K after cosine annealing, at most alphaInit (0: alphaInit / 100)', { min: 0 }),
    gammaInit: option.number(0.05, 'initial ε-step γ₀: the factor of the norm-constraint update ε ← ε·(1 ± γ)', { min: 0, max: 1, above: true, below: true }),
    gammaFinal: option.number(0.001, 'final ε-step γ_K after cosine annealing, at most gammaInit', { min: 0 }),
  },
  check: (o) => {
    if (o.alphaFinal > o.alphaInit) {
      throw new AdvxError('INVALID_OPTION', `fmn: alphaFinal must be a finite number in [0, ${o.alphaInit}] (at most alphaInit), got ${o.alphaFinal}.`, {
        option: 'alphaFinal',
        value: o.alphaFinal,
      });
    }
    if (o.gammaFinal > o.gammaInit) {
      throw new AdvxError('INVALID_OPTION', `fmn: gammaFinal must be a finite number in [0, ${o.gammaInit}] (at most gammaInit), got ${o.gammaFinal}.`, {
        option: 'gammaFinal',
        value: o.gammaFinal,
      });
    }
  },
  perturb: async (ctx) => {
    const { steps, alphaInit, gammaInit, gammaFinal } = ctx.options;
    const alphaFinal = ctx.options.alphaFinal > 0 ? ctx.options.alphaFinal : alphaInit / 100;
    const { n, x, norm, goal } = ctx;
    const [lo, hi] = ctx.bounds;
    const width = hi - lo;
    const isL0 = norm.name === 'l0';
    const dual = isL0 ? undefined : DUAL[norm.name as Exclude<NormName, 'l0'>];
    const d = x.size / n;
    // Ascend s·(z_c − max_{j≠c} z_j): s = −1 leaves the label c = y, s = +1 reaches the target c = t.
    const sign = goal.targeted ? 1 : -1;
    const objective: Objective = (logits) => tf.mul(logitMargin(logits, goal.classes), sign) as tf.Tensor1D;

    // The largest norm of a perturbation that keeps x + δ inside the bounds.
    const worst = tf.tidy(() => (isL0 ? (tf.fill([n], d) as tf.Tensor1D) : norm.norm(tf.maximum(tf.sub(x, lo), tf.sub(hi, x)))));
    // ε starts at 1 for l0 and at +∞ otherwise (the references); as ε is clipped to `worst` after each
    // update and the first update for l2/linf/l1 does not read ε, starting at `worst` is the same.
    let state: FmnState = {
      delta: tf.zerosLike(x),
      eps: isL0 ? (tf.ones([n]) as tf.Tensor1D) : tf.clone(worst),
      best: tf.zerosLike(x),
      bestNorm: tf.fill([n], Infinity) as tf.Tensor1D,
      found: tf.zeros([n], 'bool') as tf.Tensor1D,
    };
    try {
      for (let i = 0; i < steps; i++) {
        await ctx.checkpoint(i, steps);
        const cosine = (1 + Math.cos((Math.PI * i) / steps)) / 2;
        const alpha = alphaFinal + (alphaInit - alphaFinal) * cosine;
        const gamma = gammaFinal + (gammaInit - gammaFinal) * cosine;
        const prev = state;
        const next: FmnState = tf.tidy(() => {
          const { value, logits, grad } = ctx.gradient(tf.add(x, prev.delta), objective);
          const adversarial = isAdversarialLogits(logits, goal);
          const deltaNorm = norm.norm(prev.delta);
          const improved = tf.logicalAnd(adversarial, tf.less(deltaNorm, prev.bestNorm));
          const bestNorm = tf.where(improved, deltaNorm, prev.bestNorm) as tf.Tensor1D;
          const best = whereRows(improved, prev.delta, prev.best);
          const found = tf.logicalOr(prev.found, adversarial) as tf.Tensor1D;

          let eps: tf.Tensor;
          if (isL0) {
            const shrink = tf.minimum(tf.minimum(tf.sub(prev.eps, 1), tf.floor(tf.mul(prev.eps, 1 - gamma))), bestNorm);
            const grow = tf.maximum(tf.add(prev.eps, 1), tf.floor(tf.mul(prev.eps, 1 + gamma)));
            eps = tf.maximum(tf.where(adversarial, shrink, grow), 1);
          } else {
            const gradNorm = (dual as NormGeometry).norm(grad);
            const toBoundary = tf.div(tf.abs(value), tf.maximum(gradNorm, DUAL_GUARD));
            const shrink = tf.minimum(tf.mul(prev.eps, 1 - gamma), bestNorm);
            // The boundary estimate; from the second step on at least (1 + γ)·ε (see "Deviation" in the TSDoc).
            const linear = tf.add(deltaNorm, toBoundary);
            const estimate = i === 0 ? linear : tf.maximum(linear, tf.mul(prev.eps, 1 + gamma));
            const grow = tf.where(found, tf.mul(prev.eps, 1 + gamma), estimate);
            eps = tf.where(adversarial, shrink, grow);
          }
          eps = tf.minimum(eps, worst);

          const moved = tf.add(prev.delta, tf.mul(l2.normalizeGradient(grad), alpha * width));
          const projected = norm.project(moved, eps as tf.Tensor1D);
          const delta = tf.sub(ctx.clip(tf.add(x, projected)), x);
          return { delta, eps: eps as tf.Tensor1D, best, bestNorm, found };
        });
        tf.dispose(Object.values(prev));
        state = next;
      }
    } catch (err) {
      // Aborted between steps: release the iterate (no engine scope will).
      tf.dispose([...Object.values(state), worst]);
      throw err;
    }
    const result = tf.add(x, state.best);
    tf.dispose([...Object.values(state), worst]);
    return result;
  },
});

/**
 * Options of {@link fmn} (each optional; see its option table).
 *
 * @public
 */
export type FmnOptions = FactoryOptions<typeof fmn>;
