import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, defineAttack, option, type AttackContext, type AttackOptions, type Bounds, type FactoryOptions } from '@advx/core';

/** Guards the division by the dual norm of the gradient difference (reference code: 1e-12). */
const DUAL_GUARD = 1e-12;
/** Lower bound of the projection lengths in the step weight α (reference code: 1e-8). */
const LENGTH_GUARD = 1e-8;
/** A finite stand-in for +∞ where values are sorted (tfjs's CPU topk mishandles ±Infinity). */
const BIG = 1e30;
/** AutoAttack's `DEFAULT_EPS_DICT_BY_NORM` (for inputs in [0, 1]): ε of the random starts. */
const DEFAULT_EPS = { linf: 0.3, l2: 1, l1: 5 } as const;

type FabNorm = 'linf' | 'l2' | 'l1';

/**
 * Per row, the entries of `values` `[m, d]` at `indices` `[m, k]` (int32): `tf.gather` with
 * `batchDims = 1`, written as a flat gather (the wasm backend's batched gather reads out of bounds).
 */
function gatherRows(values: tf.Tensor, indices: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const [m, d] = values.shape as [number, number];
    const offsets = tf.mul(tf.range(0, m, 1, 'int32'), tf.scalar(d, 'int32'));
    const flat: tf.Tensor1D = tf.reshape(values, [m * d]);
    const picked: tf.Tensor = tf.gather(flat, tf.add(indices, tf.expandDims(offsets, 1)));
    return picked as tf.Tensor2D;
  });
}

/**
 * The box-constrained projection of FAB (Croce & Hein 2020, Section 3.1; `projection_linf`,
 * `projection_l2`, `projection_l1` of the AutoAttack code): per row of `t` `[m, d]`, the perturbation
 * `δ` of smallest `norm` with `⟨w, t + δ⟩ = b` and `lo ≤ t + δ ≤ hi`. Where the hyperplane cannot be
 * reached inside the box, `δ` moves every coordinate with `w_j ≠ 0` to the bound that brings `⟨w, ·⟩`
 * closest to `b` (as the reference code does).
 *
 * The solution moves coordinate `j` against `sign(w_j)·sign(⟨w, t⟩ − b)` by `min(λ·s_j, room_j)`,
 * `room_j` being its distance to the bound in that direction and `s_j = |w_j|` (l2) or `1` (linf), with
 * the λ ≥ 0 that closes the gap `|⟨w, t⟩ − b|` (a piecewise-linear equation solved exactly over the
 * sorted breakpoints `room_j/s_j`); for l1 the coordinates are filled greedily in order of `|w_j|`
 * (a fractional knapsack).
 *
 * @internal
 */
export function fabProjection(t: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, bounds: Bounds, norm: FabNorm): tf.Tensor2D {
  return tf.tidy(() => {
    const [lo, hi] = bounds;
    const [m, d] = t.shape;
    const gap0 = tf.sub(tf.sum(tf.mul(w, t), 1), b);
    // Orient every row so that the gap c = ⟨w, t⟩ − b is ≥ 0 and δ has to lower ⟨w, ·⟩.
    const orient = tf.where(tf.greaterEqual(gap0, 0), tf.onesLike(gap0), tf.neg(tf.onesLike(gap0)));
    const c = tf.expandDims(tf.abs(gap0), 1);
    const wo = tf.mul(w, tf.expandDims(orient, 1));
    const a = tf.abs(w);
    const nz = tf.greater(a, 0);
    // Each coordinate moves against sign(wo_j), towards lo where wo_j > 0 and towards hi where wo_j < 0.
    const room = tf.where(tf.greater(wo, 0), tf.sub(t, lo), tf.sub(hi, t));
    const direction = tf.neg(tf.sign(wo));
    let amount: tf.Tensor;
    if (norm === 'l1') {
      const order = tf.topk(a, d, true).indices;
      const aSorted = gatherRows(a, order);
      const gains = tf.mul(aSorted, gatherRows(room, order));
      const before = tf.cumsum(gains, 1, true);
      // k*: the first sorted coordinate whose saturation closes the gap; all before it are saturated.
      const kStar = tf.sum(tf.cast(tf.less(tf.add(before, gains), c), 'int32'), 1);
      const position = tf.range(0, d, 1, 'int32');
      const kCol = tf.expandDims(kStar, 1);
      const partial = tf.div(tf.sub(c, before), tf.maximum(aSorted, 1e-30));
      const sortedAmount = tf.where(
        tf.less(position, kCol),
        gatherRows(room, order),
        tf.where(tf.equal(position, kCol), tf.clipByValue(partial, 0, BIG), tf.zerosLike(partial)),
      );
      const inverse = tf.topk(tf.neg(tf.cast(order, 'float32')), d, true).indices;
      amount = gatherRows(sortedAmount, inverse);
    } else {
      const s = norm === 'l2' ? a : tf.onesLike(a);
      const q = tf.mul(a, s);
      const r = tf.where(nz, tf.minimum(tf.div(room, tf.where(nz, s, tf.onesLike(s))), BIG), tf.fill([m, d], BIG));
      const sorted = tf.topk(tf.neg(r), d, true);
      const rs = tf.neg(sorted.values);
      const qs = gatherRows(q, sorted.indices);
      const prefix = tf.cumsum(tf.mul(qs, rs), 1, true);
      const rest = tf.cumsum(qs, 1, false, true);
      // Closed gap at breakpoint k: Σ_{i<k} q_i r_i + r_k·Σ_{i≥k} q_i, nondecreasing in k.
      const atBreak = tf.add(prefix, tf.mul(rs, rest));
      const kStar = tf.sum(tf.cast(tf.less(atBreak, c), 'int32'), 1);
      const reachable = tf.less(kStar, d);
      const kIdx = tf.expandDims(tf.minimum(kStar, tf.scalar(d - 1, 'int32')), 1);
      const lambda = tf.div(tf.sub(tf.squeeze(c, [1]), tf.squeeze(gatherRows(prefix, kIdx), [1])), tf.maximum(tf.squeeze(gatherRows(rest, kIdx), [1]), 1e-30));
      const lam = tf.expandDims(tf.where(reachable, tf.maximum(lambda, 0), tf.fill([m], BIG)), 1);
      amount = tf.minimum(tf.mul(lam, s), room);
    }
    return tf.where(nz, tf.mul(direction, amount), tf.zerosLike(t)) as tf.Tensor2D;
  });
}

/** The dual norm of each norm, per row of `[m, d]` (the paper's ‖·‖_q with 1/p + 1/q = 1). */
function dualNorm(g: tf.Tensor, norm: FabNorm, axis: number): tf.Tensor {
  if (norm === 'linf') return tf.sum(tf.abs(g), axis);
  if (norm === 'l2') return tf.sqrt(tf.sum(tf.square(g), axis));
  return tf.max(tf.abs(g), axis);
}

/** The norm of each row of `[m, d]`. */
function rowNorm(g: tf.Tensor2D, norm: FabNorm): tf.Tensor1D {
  if (norm === 'linf') return tf.max(tf.abs(g), 1) as tf.Tensor1D;
  if (norm === 'l2') return tf.sqrt(tf.sum(tf.square(g), 1)) as tf.Tensor1D;
  return tf.sum(tf.abs(g), 1) as tf.Tensor1D;
}

/** A direction of unit norm per row: AutoAttack's random start (uniform in [−1, 1] for linf, Gaussian for l2 and l1). */
function randomDirection(ctx: AttackContext<FabResolved>, norm: FabNorm, d: number): tf.Tensor2D {
  return tf.tidy(() => {
    const u = norm === 'linf' ? ctx.rng.uniform([ctx.n, d], -1, 1) : ctx.rng.normal([ctx.n, d]);
    return tf.div(u, tf.expandDims(tf.maximum(rowNorm(u as tf.Tensor2D, norm), 1e-12), 1)) as tf.Tensor2D;
  });
}

/** The hyperplane of one step, per row: `w` `[n, d]` and the linearised function value `f` `[n]` at the iterate. */
type Hyperplane = (x1: tf.Tensor) => { w: tf.Tensor2D; f: tf.Tensor1D };

/**
 * The FAB search of one batch: `hyperplanes.length` groups (FAB: one, the closest linearised boundary;
 * FAB-T: one per target) × `restarts` runs of `steps` steps each, keeping per sample the smallest
 * misclassified iterate. Returns it (the clean input where none was found).
 */
async function fabSearch(ctx: AttackContext<FabResolved>, hyperplanes: readonly Hyperplane[], owned: tf.Tensor[]): Promise<tf.Tensor> {
  const { steps, restarts, alphaMax, eta, beta } = ctx.options;
  const norm = ctx.norm.name as FabNorm;
  const eps = ctx.options.eps > 0 ? ctx.options.eps : DEFAULT_EPS[norm] * (ctx.bounds[1] - ctx.bounds[0]);
  const { n, x } = ctx;
  const d = x.size / n;
  const labels = ctx.goal.classes;
  const model = ctx.whiteBox();
  const x0 = tf.reshape(x, [n, d]) as tf.Tensor2D;
  let best: tf.Tensor2D = tf.clone(x0);
  let bestNorm: tf.Tensor1D = tf.fill([n], Infinity) as tf.Tensor1D;
  let x1: tf.Tensor2D | undefined;
  const total = hyperplanes.length * restarts * steps;
  let done = 0;
  try {
    for (const hyperplane of hyperplanes) {
      for (let restart = 0; restart < restarts; restart++) {
        const prevBest = bestNorm;
        x1 =
          restart === 0
            ? tf.clone(x0)
            : tf.tidy(() => {
                const radius = tf.div(tf.minimum(prevBest, eps), 2);
                const start = tf.add(x0, tf.mul(randomDirection(ctx, norm, d), tf.expandDims(radius, 1)));
                return ctx.clip(start) as tf.Tensor2D;
              });
        for (let i = 0; i < steps; i++) {
          await ctx.checkpoint(done++, total);
          const cur = x1;
          const before = { best, bestNorm };
          const next = tf.tidy(() => {
            const { w, f } = hyperplane(tf.reshape(cur, x.shape));
            // The hyperplane {z : ⟨w, z⟩ = b} of the linearisation f(z) ≈ f + ⟨w, z − x1⟩ = 0.
            const b = tf.sub(tf.sum(tf.mul(w, cur), 1), f) as tf.Tensor1D;
            const both = fabProjection(tf.concat([cur, x0], 0), tf.concat([w, w], 0), tf.concat([b, b], 0), ctx.bounds, norm);
            const d1 = tf.slice(both, [0, 0], [n, d]);
            const d2 = tf.slice(both, [n, 0], [n, d]);
            const lengths = tf.maximum(rowNorm(both, norm), LENGTH_GUARD);
            const a1 = tf.slice(lengths, 0, n);
            const a2 = tf.slice(lengths, n, n);
            const alpha = tf.expandDims(tf.clipByValue(tf.div(a1, tf.add(a1, a2)), 0, alphaMax), 1);
            // The biased step: mix the extrapolated projections from the iterate and from the original point.
            const stepped = ctx.clip(tf.add(tf.mul(tf.add(cur, tf.mul(d1, eta)), tf.sub(1, alpha)), tf.mul(tf.add(x0, tf.mul(d2, eta)), alpha))) as tf.Tensor2D;
            const pred = tf.argMax(model.logits(tf.reshape(stepped, x.shape)), 1);
            const adversarial = tf.notEqual(pred, labels);
            const distance = rowNorm(tf.sub(stepped, x0) as tf.Tensor2D, norm);
            const improved = tf.logicalAnd(adversarial, tf.less(distance, before.bestNorm));
            const back = tf.add(x0, tf.mul(tf.sub(stepped, x0), beta));
            return {
              x1: tf.where(tf.expandDims(adversarial, 1), back, stepped) as tf.Tensor2D,
              best: tf.where(tf.expandDims(improved, 1), stepped, before.best) as tf.Tensor2D,
              bestNorm: tf.where(improved, distance, before.bestNorm) as tf.Tensor1D,
            };
          });
          tf.dispose([cur, before.best, before.bestNorm]);
          x1 = next.x1;
          best = next.best;
          bestNorm = next.bestNorm;
        }
        x1.dispose();
        x1 = undefined;
      }
    }
  } catch (err) {
    // Aborted between steps: release what the search holds (no engine scope will).
    tf.dispose([best, bestNorm, x0, ...(x1 ? [x1] : []), ...owned]);
    throw err;
  }
  const result = tf.reshape(best, x.shape);
  tf.dispose([best, bestNorm, x0, ...owned]);
  return result;
}

const PAPER_FAB =
  'Francesco Croce, Matthias Hein (2020). Minimally distorted Adversarial Examples with a Fast Adaptive Boundary Attack. ICML 2020. https://arxiv.org/abs/1907.02044';

/** The options shared by {@link fab} and {@link fabT} (AutoAttack's `FABAttack` defaults), declared once. */
const FAB_OPTIONS = {
  steps: option.integer(100, "iterations per run (AutoAttack's n_iter)", { min: 1 }),
  restarts: option.integer(1, "runs per sample (AutoAttack's n_restarts); every run after the first starts from a random point", { min: 1 }),
  alphaMax: option.number(0.1, 'α_max: the largest weight of the step from the original point', { min: 0, max: 1 }),
  eta: option.number(1.05, 'η: the extrapolation (overshoot) of each projection step', { min: 1 }),
  beta: option.number(0.9, 'β: the backward step x ← x_orig + β·(x − x_orig) taken when the iterate is adversarial', {
    min: 0,
    max: 1,
    above: true,
    below: true,
  }),
  eps: option.number(
    0,
    "ε of the random starts (AutoAttack's eps), in input units: a restart starts on the sphere of radius min(ε, best distance so far)/2 (0: AutoAttack's per-norm default times hi − lo)",
    { min: 0 },
  ),
} as const;

/** The resolved options the shared FAB search reads (those of {@link fab}; {@link fabT}'s include them). */
type FabResolved = Required<AttackOptions<typeof FAB_OPTIONS, FabNorm>>;

/**
 * FAB: the fast adaptive boundary attack, a minimum-norm white-box attack that steps to the projection
 * onto the closest linearised decision boundary.
 *
 * Paper: Francesco Croce, Matthias Hein, "Minimally distorted Adversarial Examples with a Fast Adaptive
 * Boundary Attack", ICML 2020, {@link https://arxiv.org/abs/1907.02044}. Options, defaults and details
 * follow the authors' implementation in AutoAttack (`fab_base.py`, `fab_pt.py`, `fab_projections.py`).
 *
 * Per step, at the iterate `x⁽ⁱ⁾` the attack computes for every class `k ≠ y` the difference
 * `f_k = z_k − z_y` and its gradient `∇f_k` (the whole Jacobian in one forward/backward pass: the batch
 * is tiled once per class and each copy back-propagates one logit), takes the class `l` with the
 * smallest `|f_k|/‖∇f_k‖_q` (q the dual norm: l1 for linf, l2 for l2, linf for l1), and projects both
 * `x⁽ⁱ⁾` and the original point `x_orig` onto the hyperplane `f_l(x⁽ⁱ⁾) + ⟨∇f_l, z − x⁽ⁱ⁾⟩ = 0`
 * intersected with the box of the bounds (the exact box-constrained projection, see
 * `fabProjection` in this file), giving `δ` and `δ_orig`. The biased step is
 * `x⁽ⁱ⁺¹⁾ = clip((1 − α)(x⁽ⁱ⁾ + η·δ) + α(x_orig + η·δ_orig))` with
 * `α = min(‖δ‖/(‖δ‖ + ‖δ_orig‖), α_max)` and the extrapolation η. When `x⁽ⁱ⁺¹⁾` is misclassified it is
 * kept if it is the closest so far, and the iterate takes the backward step
 * `x⁽ⁱ⁺¹⁾ ← x_orig + β(x⁽ⁱ⁺¹⁾ − x_orig)`. Runs after the first start at a random point on the sphere of
 * radius `min(ε, best so far)/2` (uniform entries in [−1, 1] for linf, Gaussian ones for l2 and l1,
 * rescaled), clipped to the bounds. The result is the closest misclassified iterate over all steps and
 * runs, the clean input where there is none. On a linear model the first step lands η times beyond the
 * closest boundary and the next ones approach it from outside (within 1 % after two steps).
 *
 * Differences from AutoAttack, which tests one ε: AutoAttack runs each restart (and, for FAB-T, each
 * target) as a fresh search whose random start has radius ε/2 and keeps the first result inside ε;
 * here the best distance carries over from run to run, as in the authors' original code
 * (fra31/fab-attack), and the smallest adversarial is kept. Inputs in any bounds `[lo, hi]` (the
 * reference code assumes [0, 1]).
 *
 * - Threat model: white-box (gradients of the logits).
 * - Kind: minimization — it runs once per batch and the base clips the result to every epsilon.
 * - Norms: `linf` (default), `l2`, `l1`. Goal: untargeted.
 * - Input: any shape `[n, ...model.inputShape]` inside `model.bounds`; the model must return logits.
 * - Cost per step: one forward/backward pass of `numClasses × n` rows and one forward pass of `n` rows.
 * - Deterministic with `restarts = 1`; random starts come from the run's seed, one stream per sample, so
 *   results never depend on the batch size.
 *
 * Options: {@link fab}.schema, listed by `advx list --options fab`:
 *
 * <!-- options:fab -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'linf' \| 'l2' \| 'l1' | 'linf' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `steps` | integer in [1, ∞) | 100 | iterations per run (AutoAttack's n_iter) |
 * | `restarts` | integer in [1, ∞) | 1 | runs per sample (AutoAttack's n_restarts); every run after the first starts from a random point |
 * | `alphaMax` | number in [0, 1] | 0.1 | α_max: the largest weight of the step from the original point |
 * | `eta` | number in [1, ∞) | 1.05 | η: the extrapolation (overshoot) of each projection step |
 * | `beta` | number in (0, 1) | 0.9 | β: the backward step x ← x_orig + β·(x − x_orig) taken when the iterate is adversarial |
 * | `eps` | number in [0, ∞) | 0 | ε of the random starts (AutoAttack's eps), in input units: a restart starts on the sphere of radius min(ε, best distance so far)/2 (0: AutoAttack's per-norm default times hi − lo) |
 * <!-- /options -->
 *
 * The defaults are those of AutoAttack's `FABAttack`. `eps` 0 takes AutoAttack's per-norm default,
 * 0.3 / 1 / 5 for linf / l2 / l1 on `[0, 1]` inputs, scaled by the bounds' width `hi − lo`.
 * `earlyStop` has no effect: a minimization attack keeps shrinking after the first success.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { fromFunction } from '@advx/core';
 * import { fab } from '@advx/attacks';
 *
 * const w = tf.tensor2d([[1, -1], [-1, 1]]);
 * const model = fromFunction((x) => tf.matMul(x as tf.Tensor2D, w), {
 *   inputShape: [2], numClasses: 2, bounds: [0, 1], output: 'logits',
 * });
 * const x = tf.tensor2d([[0.7, 0.3]]);
 * const labels = tf.tensor1d([0], 'int32');
 * const result = await fab({ norm: 'l2', steps: 10 }).run(model, x, { labels }, { epsilons: [0.1, 0.5] });
 * console.log(result.distances[0]); // ≈ 0.2843, within 1 % of 0.4/√2 ≈ 0.2828, the distance to the boundary x0 = x1
 * result.dispose();
 * ```
 * @public
 */
export const fab = defineAttack({
  meta: {
    name: 'fab',
    kind: 'minimization',
    norms: ['linf', 'l2', 'l1'],
    threat: 'white-box',
    goals: ['untargeted'],
    randomized: true,
    paper: PAPER_FAB,
  },
  options: FAB_OPTIONS,
  perturb: (ctx) => {
    const model = ctx.whiteBox();
    const { n, x } = ctx;
    const c = model.numClasses;
    const d = x.size / n;
    const norm = ctx.norm.name as FabNorm;
    const labels = ctx.goal.classes;
    // Copy k of the tiled batch back-propagates logit k: the rows of the Jacobian in one pass.
    const pickMask = tf.tidy(() => tf.oneHot(tf.reshape(tf.tile(tf.expandDims(tf.range(0, c, 1, 'int32'), 1), [1, n]), [c * n]), c));
    const isLabel = tf.tidy(() => tf.cast(tf.oneHot(labels, c), 'bool'));
    const closest: Hyperplane = (x1) => {
      const tiled = tf.tile(x1, [c, ...new Array<number>(x1.rank - 1).fill(1)]);
      const { logits, grad } = ctx.gradient(tiled, (z) => tf.sum(tf.mul(z, pickMask), 1) as tf.Tensor1D);
      const z = tf.slice(logits, [0, 0], [n, c]);
      const jac = tf.transpose(tf.reshape(grad, [c, n, d]), [1, 0, 2]);
      const zy = tf.sum(tf.mul(z, isLabel), 1, true);
      const jy = tf.sum(tf.mul(jac, tf.expandDims(isLabel, 2)), 1, true);
      const df = tf.sub(z, zy);
      const dg = tf.sub(jac, jy);
      const dist = tf.where(isLabel, tf.fill([n, c], BIG), tf.div(tf.abs(df), tf.add(dualNorm(dg, norm, 2), DUAL_GUARD)));
      const pick = tf.oneHot(tf.argMin(dist, 1), c);
      return {
        w: tf.sum(tf.mul(dg, tf.expandDims(pick, 2)), 1) as tf.Tensor2D,
        f: tf.sum(tf.mul(df, pick), 1) as tf.Tensor1D,
      };
    };
    return fabSearch(ctx, [closest], [pickMask, isLabel]);
  },
});

/**
 * FAB-T: the targeted version of FAB used in AutoAttack, an untargeted attack that tries the most
 * likely other classes as targets one after the other.
 *
 * Papers: Francesco Croce, Matthias Hein, "Reliable evaluation of adversarial robustness with an
 * ensemble of diverse parameter-free attacks", ICML 2020, {@link https://arxiv.org/abs/2003.01690}
 * (FAB-T), on "Minimally distorted Adversarial Examples with a Fast Adaptive Boundary Attack", ICML 2020,
 * {@link https://arxiv.org/abs/1907.02044} (FAB).
 *
 * For each of the `numTargets` classes `t` with the highest clean logits other than the label, FAB
 * (see {@link fab}) runs with the linearised boundary of `f_t = z_t − z_y` alone instead of the
 * closest of all classes: one gradient per step instead of the whole Jacobian, which is what makes it
 * scale to many classes. As in AutoAttack's targeted mode, an iterate counts as adversarial when it is
 * misclassified (not only when it reaches `t`). The result is, per sample, the closest misclassified
 * iterate over all targets and runs (AutoAttack, which tests one ε, stops at the first target that
 * succeeds within it; a minimization attack keeps the smallest).
 *
 * - Threat model: white-box. Kind: minimization. Norms: `linf` (default), `l2`, `l1`. Goal: untargeted.
 * - Cost per step: one forward/backward pass and one forward pass of `n` rows; `numTargets × restarts × steps` steps.
 * - Deterministic with `restarts = 1`; random starts are seeded per sample, independent of the batch size.
 *
 * Its options are those of {@link fab} (same defaults) and `numTargets`.
 *
 * Options: {@link fabT}.schema, listed by `advx list --options fab-t`:
 *
 * <!-- options:fab-t -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'linf' \| 'l2' \| 'l1' | 'linf' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `steps` | integer in [1, ∞) | 100 | iterations per run (AutoAttack's n_iter) |
 * | `restarts` | integer in [1, ∞) | 1 | runs per sample (AutoAttack's n_restarts); every run after the first starts from a random point |
 * | `alphaMax` | number in [0, 1] | 0.1 | α_max: the largest weight of the step from the original point |
 * | `eta` | number in [1, ∞) | 1.05 | η: the extrapolation (overshoot) of each projection step |
 * | `beta` | number in (0, 1) | 0.9 | β: the backward step x ← x_orig + β·(x − x_orig) taken when the iterate is adversarial |
 * | `eps` | number in [0, ∞) | 0 | ε of the random starts (AutoAttack's eps), in input units: a restart starts on the sphere of radius min(ε, best distance so far)/2 (0: AutoAttack's per-norm default times hi − lo) |
 * | `numTargets` | integer in [1, ∞) | 9 | target classes tried per sample (AutoAttack's n_target_classes): the classes with the highest clean logits other than the label, in decreasing order; capped at numClasses − 1 |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { fromFunction } from '@advx/core';
 * import { fabT } from '@advx/attacks';
 *
 * const w = tf.tensor2d([[1, -1], [-1, 1]]);
 * const model = fromFunction((x) => tf.matMul(x as tf.Tensor2D, w), {
 *   inputShape: [2], numClasses: 2, bounds: [0, 1], output: 'logits',
 * });
 * const x = tf.tensor2d([[0.7, 0.3]]);
 * const labels = tf.tensor1d([0], 'int32');
 * const result = await fabT({ norm: 'linf', steps: 10 }).run(model, x, { labels }, { epsilons: [0.1, 0.3] });
 * console.log(result.distances[0]); // ≈ 0.2, the linf distance to the boundary x0 = x1 (within 1 %)
 * result.dispose();
 * ```
 * @public
 */
export const fabT = defineAttack({
  meta: {
    name: 'fab-t',
    kind: 'minimization',
    norms: ['linf', 'l2', 'l1'],
    threat: 'white-box',
    goals: ['untargeted'],
    randomized: true,
    paper:
      'Francesco Croce, Matthias Hein (2020). Reliable evaluation of adversarial robustness with an ensemble of diverse parameter-free attacks. ICML 2020. https://arxiv.org/abs/2003.01690',
  },
  options: {
    ...FAB_OPTIONS,
    numTargets: option.integer(
      9,
      "target classes tried per sample (AutoAttack's n_target_classes): the classes with the highest clean logits other than the label, in decreasing order; capped at numClasses − 1",
      { min: 1 },
    ),
  },
  checkModel: (model) => {
    if (model.numClasses < 2) {
      throw new AdvxError('INVALID_MODEL', `fab-t needs a model with at least 2 classes, got ${model.numClasses}.`);
    }
  },
  perturb: (ctx) => {
    const model = ctx.whiteBox();
    const { n } = ctx;
    const c = model.numClasses;
    const k = Math.min(ctx.options.numTargets, c - 1);
    const labels = ctx.goal.classes;
    const isLabel = tf.tidy(() => tf.oneHot(labels, c));
    // The k classes other than the label with the largest clean logits; the label's logit is replaced by a
    // finite value below the row minimum (tfjs's CPU topk mishandles ±Infinity).
    const targets = tf.tidy(() => {
      const logits = model.logits(ctx.x);
      const floor = tf.sub(tf.min(logits, 1, true), 1);
      const order = tf.topk(tf.where(tf.cast(isLabel, 'bool'), tf.broadcastTo(floor, logits.shape), logits), k, true).indices;
      return Array.from({ length: k }, (_, j) => tf.oneHot(tf.reshape(tf.slice(order, [0, j], [n, 1]), [n]), c));
    });
    const towards =
      (isTarget: tf.Tensor): Hyperplane =>
      (x1) => {
        const { value, grad } = ctx.gradient(x1, (z) => tf.sum(tf.mul(z, tf.sub(isTarget, isLabel)), 1) as tf.Tensor1D);
        return { w: tf.reshape(grad, [n, -1]) as tf.Tensor2D, f: value };
      };
    return fabSearch(ctx, targets.map(towards), [isLabel, ...targets]);
  },
});

/**
 * Options of {@link fab} (each optional; see its option table).
 *
 * @public
 */
export type FabOptions = FactoryOptions<typeof fab>;

/**
 * Options of {@link fabT} (each optional; see its option table).
 *
 * @public
 */
export type FabTOptions = FactoryOptions<typeof fabT>;
