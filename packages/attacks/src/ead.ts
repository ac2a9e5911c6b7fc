import * as tf from '@tensorflow/tfjs-core';

import { defineAttack, option, whereRows, type FactoryOptions } from '@advx/core';

import { searchConstant, type SearchState } from './internal/const-search.js';
import { cwMargin, stalledRows } from './internal/cw-margin.js';

/**
 * The projected shrinkage-thresholding operator `S_β` of EAD (Chen et al. 2018, eq. 6), element-wise
 * with the box `[lo, hi]`: `min(z − β, hi)` where `z − x > β`, `max(z + β, lo)` where `z − x < −β`,
 * and `x` where `|z − x| ≤ β`. It is the proximal operator of `β‖· − x‖₁` plus the indicator of the
 * box (soft-thresholding of `z − x`, then clipping; `x` is inside the box).
 *
 * @param z - the point after the gradient step.
 * @param x - the clean input (same shape as `z`).
 * @param beta - the threshold β ≥ 0.
 * @param lo - the lower bound of the inputs.
 * @param hi - the upper bound of the inputs.
 * @returns a new tensor of `z`'s shape.
 * @internal
 */
export function shrinkageThreshold(z: tf.Tensor, x: tf.Tensor, beta: number, lo: number, hi: number): tf.Tensor {
  return tf.tidy(() => {
    const diff = tf.sub(z, x);
    const up = tf.minimum(tf.sub(z, beta), hi);
    const down = tf.maximum(tf.add(z, beta), lo);
    return tf.where(tf.greater(diff, beta), up, tf.where(tf.less(diff, -beta), down, x));
  });
}

/** The state of one binary-search step, every tensor with the batch as first axis. */
interface FistaRun extends SearchState {
  /** The iterate `x⁽ᵏ⁾` (inside the bounds). */
  readonly xk: tf.Tensor;
  /** The slack `y⁽ᵏ⁾` where the gradient is taken. */
  readonly yk: tf.Tensor;
}

/**
 * EAD, the elastic-net attack: small, sparse (L1-oriented) adversarial perturbations found by
 * optimisation.
 *
 * Paper: Pin-Yu Chen, Yash Sharma, Huan Zhang, Jinfeng Yi, Cho-Jui Hsieh, "EAD: Elastic-Net Attacks
 * to Deep Neural Networks via Adversarial Examples", AAAI 2018, {@link https://arxiv.org/abs/1709.04114}.
 *
 * For each sample it minimises `c·f(x') + ‖x' − x‖₂² + β‖x' − x‖₁` over `x'` in the model's bounds
 * `[lo, hi]`, with the loss `f(x') = max(z_y − max_{i≠y} z_i, −κ)` (untargeted) or
 * `max(max_{i≠t} z_i − z_t, −κ)` (targeted) on the logits `z` (as C&W). The L1 term is handled by
 * FISTA (the paper's Algorithm 1): from `x⁽⁰⁾ = y⁽⁰⁾ = x`, each iteration `k = 0, 1, …` takes a
 * gradient step on the smooth part `g = c·f + ‖· − x‖₂²` at the slack `y⁽ᵏ⁾` and applies the projected
 * shrinkage-thresholding operator, `x⁽ᵏ⁺¹⁾ = S_β(y⁽ᵏ⁾ − α_k∇g(y⁽ᵏ⁾))` (see `shrinkageThreshold` in this file;
 * as in the paper and the authors' code the threshold is β itself, not `α_k·β`), then updates the
 * slack with momentum, `y⁽ᵏ⁺¹⁾ = x⁽ᵏ⁺¹⁾ + k/(k+3)·(x⁽ᵏ⁺¹⁾ − x⁽ᵏ⁾)` (the paper's and Foolbox's factor;
 * the authors' TensorFlow code reads its step counter after incrementing it, `(k+1)/(k+4)`). Success is
 * judged on the logits of the iterate `x⁽ᵏ⁺¹⁾` (as the authors' code; Foolbox uses those of the slack,
 * which may be outside the bounds and is not the returned point). The step size decays as a square
 * root, `α_k = α₀·(1 − k/steps)^½` (the authors' `polynomial_decay(power=0.5)`). Each binary-search
 * step restarts FISTA from `x`; the constant `c` is searched per sample as in C&W: multiplied by 10
 * while no adversarial has been found, bisected between the largest failing and the smallest
 * succeeding value afterwards (when `binarySearchSteps ≥ 10` the last step uses the smallest succeeding
 * `c`). The result is, per sample, the iterate `x⁽ᵏ⁾` that satisfies the goal (with margin κ) and has
 * the smallest elastic-net (`'en'`) or L1 (`'l1'`) distance over all iterations and binary-search
 * steps; the clean input where none was found (its distance is then `Infinity`).
 *
 * - Threat model: white-box (gradients of the logits).
 * - Kind: minimization — it runs once per batch and the base clips the result to every epsilon
 *   (reported distances are L1).
 * - Norm: `l1`. Goals: untargeted and targeted.
 * - Input: any shape `[n, ...model.inputShape]` inside `model.bounds`; the model must return logits.
 * - Every computation is per sample (the early abort too, unlike the reference code, which compares
 *   the loss summed over its batch), so results do not depend on the batch size. Deterministic.
 *
 * Options: {@link ead}.schema, listed by `advx list --options ead`:
 *
 * <!-- options:ead -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'l1' | 'l1' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `steps` | integer in [1, ∞) | 1000 | FISTA iterations per binary-search step |
 * | `binarySearchSteps` | integer in [1, ∞) | 9 | binary-search steps over the constant c, per sample |
 * | `initialConst` | number in (0, ∞) | 0.001 | first value of the constant c that weighs the classification loss against the distance |
 * | `learningRate` | number in (0, ∞) | 0.01 | initial step size α₀ of the ISTA step, decayed as α₀·√(1 − k/steps) |
 * | `beta` | number in [0, ∞) | 0.01 | the L1 weight β of the elastic-net distance and the shrinkage threshold |
 * | `confidence` | number in [0, ∞) | 0 | confidence κ: the margin by which the adversarial class must win |
 * | `decisionRule` | 'en' \| 'l1' | 'en' | which distance selects the best adversarial among the iterates: the elastic-net ‖δ‖₂² + β‖δ‖₁, or ‖δ‖₁ |
 * | `abortEarly` | boolean | true | end a sample's binary-search step when its elastic-net loss has not decreased by 0.01 % over the last ceil(steps / 10) iterations |
 * <!-- /options -->
 *
 * The defaults are those of the paper, the authors' code and Foolbox's `EADAttack`, except `steps`:
 * they use 10000 FISTA iterations; 1000 matches this package's C&W-L2 default, so that the two
 * attacks have comparable budgets (an EAD iteration is one forward and backward pass at `y⁽ᵏ⁾` plus
 * one forward pass at `x⁽ᵏ⁺¹⁾`, a C&W iteration one forward and backward pass). The step-size
 * schedule scales with `steps`; pass `steps: 10000` for the paper's setting. `beta` is Foolbox's
 * `regularization` (the paper studies 1e-3 to 1e-1, the authors' code defaults to 1e-3); `beta: 0`
 * leaves no L1 term: projected FISTA on C&W's objective without the tanh change of variables.
 * `decisionRule` `'en'` and `'l1'` are the paper's EN and L1 decision rules. `abortEarly` watches the
 * loss `c·f(x⁽ᵏ⁺¹⁾) + ‖δ‖₂² + β‖δ‖₁`. `earlyStop` has no effect: a minimization attack keeps
 * shrinking the perturbation after the first success.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { fromFunction } from '@advx/core';
 * import { ead } from '@advx/attacks';
 *
 * const w = tf.tensor2d([[1, -1], [-0.5, 0.5]]); // z₀ − z₁ = 2·x₀ − x₁
 * const model = fromFunction((x) => tf.matMul(x as tf.Tensor2D, w), {
 *   inputShape: [2], numClasses: 2, bounds: [0, 1], output: 'logits',
 * });
 * const x = tf.tensor2d([[0.6, 0.4]]);
 * const labels = tf.tensor1d([0], 'int32');
 * const result = await ead({ steps: 200 }).run(model, x, { labels }, { epsilons: [0.1, 0.5] });
 * // ≈ 0.4 = (z₀ − z₁)/‖∇(z₀ − z₁)‖∞, the minimal L1 distance: only x₀ moves, to ≈ 0.2 (x₁ stays 0.4).
 * // C&W-L2 would move both coordinates (L1 distance 0.48 at the L2-closest boundary point).
 * console.log(result.distances[0]);
 * result.dispose();
 * ```
 * @public
 */
export const ead = defineAttack({
  meta: {
    name: 'ead',
    kind: 'minimization',
    norms: ['l1'],
    threat: 'white-box',
    goals: ['untargeted', 'targeted'],
    randomized: false,
    paper:
      'Pin-Yu Chen, Yash Sharma, Huan Zhang, Jinfeng Yi, Cho-Jui Hsieh (2018). EAD: Elastic-Net Attacks to Deep Neural Networks via Adversarial Examples. https://arxiv.org/abs/1709.04114',
  },
  options: {
    steps: option.integer(1000, 'FISTA iterations per binary-search step', { min: 1 }),
    binarySearchSteps: option.integer(9, 'binary-search steps over the constant c, per sample', { min: 1 }),
    initialConst: option.number(1e-3, 'first value of the constant c that weighs the classification loss against the distance', { min: 0, above: true }),
    learningRate: option.number(0.01, 'initial step size α₀ of the ISTA step, decayed as α₀·√(1 − k/steps)', { min: 0, above: true }),
    beta: option.number(0.01, 'the L1 weight β of the elastic-net distance and the shrinkage threshold', { min: 0 }),
    confidence: option.number(0, 'confidence κ: the margin by which the adversarial class must win', { min: 0 }),
    decisionRule: option.oneOf(['en', 'l1'], 'en', 'which distance selects the best adversarial among the iterates: the elastic-net ‖δ‖₂² + β‖δ‖₁, or ‖δ‖₁'),
    abortEarly: option.boolean(
      true,
      "end a sample's binary-search step when its elastic-net loss has not decreased by 0.01 % over the last ceil(steps / 10) iterations",
    ),
  },
  perturb: async (ctx) => {
    const { learningRate, beta, confidence, decisionRule, steps } = ctx.options;
    const n = ctx.n;
    const x = ctx.x;
    const [lo, hi] = ctx.bounds;
    const model = ctx.whiteBox();
    const margin = cwMargin(ctx, model.numClasses, confidence);
    try {
      return await searchConstant<FistaRun>(ctx, ctx.options, margin, {
        start: (base) => ({ ...base, xk: tf.clone(x), yk: tf.clone(x) }),
        step: (prev, { k, c, objective, check }) => {
          const alpha = learningRate * Math.sqrt(1 - k / steps);
          const momentum = k / (k + 3);
          // value = −c·f(y), grad = −c·∇f(y); ∇g(y) = c·∇f(y) + 2(y − x).
          const { grad } = ctx.gradient(prev.yk, objective);
          const gradG = tf.sub(tf.mul(tf.sub(prev.yk, x), 2), grad);
          const xNew = shrinkageThreshold(tf.sub(prev.yk, tf.mul(gradG, alpha)), x, beta, lo, hi);
          const yNew = tf.add(xNew, tf.mul(tf.sub(xNew, prev.xk), momentum));
          const logits = model.logits(xNew);
          const flat = tf.reshape(tf.sub(xNew, x), [n, -1]);
          const l1 = tf.sum(tf.abs(flat), 1);
          const elastic = tf.add(tf.sum(tf.square(flat), 1), tf.mul(l1, beta)) as tf.Tensor1D;
          const dist = decisionRule === 'en' ? elastic : (l1 as tf.Tensor1D);
          let frozen = prev.frozen;
          let prevLoss = prev.prevLoss;
          if (check) {
            const loss = tf.add(tf.mul(c, margin.loss(logits)), elastic) as tf.Tensor1D;
            const stalled = stalledRows(loss, prev.prevLoss);
            frozen = tf.logicalOr(prev.frozen, stalled) as tf.Tensor1D;
            prevLoss = tf.where(frozen, prev.prevLoss, loss) as tf.Tensor1D;
          }
          // A frozen sample ends its binary-search step: the iteration that stalled is dropped (as the
          // reference code's `break`), and nothing of the sample changes until the next step.
          const live = tf.logicalNot(frozen);
          const ok = tf.logicalAnd(margin.succeeded(logits), live);
          const improved = tf.logicalAnd(ok, tf.less(dist, prev.bestDist));
          return {
            xk: whereRows(frozen, prev.xk, xNew),
            yk: whereRows(frozen, prev.yk, yNew),
            best: whereRows(improved, xNew, prev.best),
            bestDist: tf.where(improved, dist, prev.bestDist) as tf.Tensor1D,
            found: tf.logicalOr(prev.found, ok) as tf.Tensor1D,
            frozen: tf.clone(frozen),
            prevLoss: tf.clone(prevLoss),
          };
        },
      });
    } finally {
      margin.dispose();
    }
  },
});

/**
 * Options of {@link ead} (each optional; see its option table).
 *
 * @public
 */
export type EadOptions = FactoryOptions<typeof ead>;
