import * as tf from '@tensorflow/tfjs-core';

import { defineAttack, option, whereRows, type FactoryOptions } from '@advx/core';

import { adamStep } from '@advx/core/plugin';
import { searchConstant, type SearchState } from './internal/const-search.js';
import { cwMargin, stalledRows } from './internal/cw-margin.js';

/** Shrinks the clean input before `atanh` so that values on the bounds stay finite in the tanh space. */
const ATANH_SAFETY = 1 - 1e-6;

/** The state of one binary-search step, every tensor with the batch as first axis. */
interface AdamRun extends SearchState {
  /** The iterate in tanh space. */
  readonly w: tf.Tensor;
  /** Adam's first moment. */
  readonly m: tf.Tensor;
  /** Adam's second moment. */
  readonly v: tf.Tensor;
  /** `frozen` broadcast to the input's shape. */
  readonly frozenRows: tf.Tensor;
}

/**
 * Carlini & Wagner's L2 attack: the smallest L2 perturbation found by optimisation.
 *
 * Paper: Nicholas Carlini, David Wagner, "Towards Evaluating the Robustness of Neural Networks",
 * IEEE S&P 2017, {@link https://arxiv.org/abs/1608.04644}.
 *
 * For each sample it minimises `‖x' − x‖₂² + c·f(x')` over `w`, with the change of variables
 * `x' = lo + (hi − lo)·(tanh(w) + 1)/2` that keeps `x'` inside the model's bounds `[lo, hi]`
 * (the clean `x` maps to `w₀ = atanh((2(x − lo)/(hi − lo) − 1)·(1 − 1e-6))`), and the loss
 * `f(x') = max(z_y − max_{i≠y} z_i, −κ)` (untargeted) or `max(max_{i≠t} z_i − z_t, −κ)` (targeted)
 * on the logits `z`. Each binary-search step restarts Adam from `w₀` and runs `steps` iterations;
 * the constant `c` is searched per sample: multiplied by 10 while no adversarial has been found,
 * bisected between the largest failing and the smallest succeeding value afterwards (as in the
 * authors' code, when `binarySearchSteps ≥ 10` the last step uses the smallest succeeding `c`).
 * The result is, per sample, the adversarial (every class beaten by the margin κ) with the smallest
 * L2 distance over all iterations and binary-search steps; the clean input where none was found
 * (its distance is then `Infinity`).
 *
 * - Threat model: white-box (gradients of the logits).
 * - Kind: minimization — it runs once per batch and the base clips the result to every epsilon.
 * - Norm: `l2`. Goals: untargeted and targeted.
 * - Input: any shape `[n, ...model.inputShape]` inside `model.bounds`; the model must return logits.
 * - Every computation is per sample, so results do not depend on the batch size. Deterministic.
 *
 * Options: {@link carliniWagnerL2}.schema, listed by `advx list --options carlini-wagner-l2`:
 *
 * <!-- options:carlini-wagner-l2 -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'l2' | 'l2' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `steps` | integer in [1, ∞) | 1000 | Adam iterations per binary-search step |
 * | `binarySearchSteps` | integer in [1, ∞) | 9 | binary-search steps over the constant c, per sample |
 * | `initialConst` | number in (0, ∞) | 0.001 | first value of the constant c that weighs the classification loss against the distance |
 * | `learningRate` | number in (0, ∞) | 0.01 | Adam learning rate in the tanh space w |
 * | `confidence` | number in [0, ∞) | 0 | confidence κ: the margin by which the adversarial class must win |
 * | `abortEarly` | boolean | true | end a sample's binary-search step when its loss has not decreased by 0.01 % over the last ceil(steps / 10) iterations |
 * <!-- /options -->
 *
 * The defaults are those of the authors' reference code and Foolbox, except `steps`, which is 10000
 * there. Adam uses β1 = 0.9, β2 = 0.999, ε = 1e-8. `earlyStop` has no effect: a minimization attack
 * keeps shrinking the perturbation after the first success.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { fromFunction } from '@advx/core';
 * import { carliniWagnerL2 } from '@advx/attacks';
 *
 * const w = tf.tensor2d([[1, -1], [-1, 1]]);
 * const model = fromFunction((x) => tf.matMul(x as tf.Tensor2D, w), {
 *   inputShape: [2], numClasses: 2, bounds: [0, 1], output: 'logits',
 * });
 * const x = tf.tensor2d([[0.7, 0.3]]);
 * const labels = tf.tensor1d([0], 'int32');
 * const result = await carliniWagnerL2({ steps: 200 }).run(model, x, { labels }, { epsilons: [0.1, 0.5] });
 * console.log(result.distances[0]); // ≈ 0.2828 = 0.4/√2, the distance to the boundary x0 = x1
 * result.dispose();
 * ```
 * @public
 */
export const carliniWagnerL2 = defineAttack({
  meta: {
    name: 'carlini-wagner-l2',
    kind: 'minimization',
    norms: ['l2'],
    threat: 'white-box',
    goals: ['untargeted', 'targeted'],
    randomized: false,
    paper: 'Nicholas Carlini, David Wagner (2017). Towards Evaluating the Robustness of Neural Networks. https://arxiv.org/abs/1608.04644',
  },
  options: {
    steps: option.integer(1000, 'Adam iterations per binary-search step', { min: 1 }),
    binarySearchSteps: option.integer(9, 'binary-search steps over the constant c, per sample', { min: 1 }),
    initialConst: option.number(1e-3, 'first value of the constant c that weighs the classification loss against the distance', { min: 0, above: true }),
    learningRate: option.number(0.01, 'Adam learning rate in the tanh space w', { min: 0, above: true }),
    confidence: option.number(0, 'confidence κ: the margin by which the adversarial class must win', { min: 0 }),
    abortEarly: option.boolean(true, "end a sample's binary-search step when its loss has not decreased by 0.01 % over the last ceil(steps / 10) iterations"),
  },
  perturb: async (ctx) => {
    const { learningRate, confidence } = ctx.options;
    const n = ctx.n;
    const x = ctx.x;
    const [lo, hi] = ctx.bounds;
    const half = (hi - lo) / 2;
    const margin = cwMargin(ctx, ctx.whiteBox().numClasses, confidence);
    const broadcast = (rows: tf.Tensor1D): tf.Tensor => tf.broadcastTo(tf.reshape(rows, [n, ...new Array<number>(x.rank - 1).fill(1)]), x.shape);
    const w0 = tf.tidy(() => tf.atanh(tf.mul(tf.sub(tf.div(tf.sub(x, lo), half), 1), ATANH_SAFETY)));
    try {
      return await searchConstant<AdamRun>(ctx, ctx.options, margin, {
        start: (base) => ({ ...base, w: tf.clone(w0), m: tf.zerosLike(x), v: tf.zerosLike(x), frozenRows: tf.tidy(() => broadcast(base.frozen)) }),
        step: (prev, { k, objective, check }) => {
          const tanhW = tf.tanh(prev.w);
          const xAdv = tf.add(tf.mul(tf.add(tanhW, 1), half), lo);
          // value = −c·f(x'), grad = −c·∇f(x').
          const { value, logits, grad } = ctx.gradient(xAdv, objective);
          const diff = tf.sub(xAdv, x);
          const dist = tf.sum(tf.reshape(tf.square(diff), [n, -1]), 1) as tf.Tensor1D;
          const loss = tf.sub(dist, value) as tf.Tensor1D;
          // ∂L/∂w = (2(x' − x) + c·∇f) ⊙ (hi − lo)/2·(1 − tanh²w).
          const gradW = tf.mul(tf.sub(tf.mul(diff, 2), grad), tf.mul(tf.sub(1, tf.square(tanhW)), half));
          const adam = adamStep(prev.w, gradW, prev.m, prev.v, k + 1, learningRate);
          const ok = margin.succeeded(logits);
          const improved = tf.logicalAnd(ok, tf.less(dist, prev.bestDist));
          let frozen = prev.frozen;
          let frozenRows = prev.frozenRows;
          let prevLoss = prev.prevLoss;
          if (check) {
            const stalled = stalledRows(loss, prev.prevLoss);
            frozen = tf.logicalOr(prev.frozen, stalled) as tf.Tensor1D;
            frozenRows = broadcast(frozen);
            prevLoss = tf.where(prev.frozen, prev.prevLoss, loss) as tf.Tensor1D;
          }
          // A frozen sample keeps its w until the binary-search step ends; its m and v are unused.
          return {
            w: tf.where(frozenRows, prev.w, adam.w),
            m: adam.m,
            v: adam.v,
            best: whereRows(improved, xAdv, prev.best),
            bestDist: tf.where(improved, dist, prev.bestDist) as tf.Tensor1D,
            found: tf.logicalOr(prev.found, ok) as tf.Tensor1D,
            frozen: tf.clone(frozen),
            frozenRows: tf.clone(frozenRows),
            prevLoss: tf.clone(prevLoss),
          };
        },
      });
    } finally {
      w0.dispose();
      margin.dispose();
    }
  },
});

/**
 * Options of {@link carliniWagnerL2} (each optional; see its option table).
 *
 * @public
 */
export type CarliniWagnerL2Options = FactoryOptions<typeof carliniWagnerL2>;
