import type * as tf from '@tensorflow/tfjs-core';

import { defineAttack, option, type FactoryOptions } from '@advx/core';

import {
  blendedNoiseStart,
  clipInPlace,
  SearchBudget,
  searchEachDecision,
  type DecisionSearchInput,
  type QueryRequest,
  type SampleSearch,
} from './internal/black-box.js';

function distance(a: Float32Array, b: Float32Array, linf: boolean): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs((a[i] as number) - (b[i] as number));
    s = linf ? Math.max(s, v) : s + v * v;
  }
  return linf ? s : Math.sqrt(s);
}

/** HopSkipJump's `project`: the blend (1 − α)·x + α·x' (L2) or x' clipped to the α-box around x (Linf). */
function project(x: Float32Array, xAdv: Float32Array, alpha: number, linf: boolean): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] as number;
    const ai = xAdv[i] as number;
    out[i] = linf ? Math.min(xi + alpha, Math.max(xi - alpha, ai)) : (1 - alpha) * xi + alpha * ai;
  }
  return out;
}

type SearchConfig = DecisionSearchInput<Required<HopSkipJumpOptions>>;

/** One sample's HopSkipJump; returns the clean input when no adversarial start was found. */
function* hopSkipJumpSearch(cfg: SearchConfig): SampleSearch {
  const { x, rng, options: o } = cfg;
  const [lo, hi] = cfg.bounds;
  const linf = o.norm === 'linf';
  const d = x.length;
  const theta = linf ? o.gamma / (d * d) : o.gamma / (Math.sqrt(d) * d);
  const budget = new SearchBudget(o.maxQueries, cfg.used);
  /** Queries `inputs` within the budget: whether each satisfies the goal, or `undefined` when they do not fit. */
  function* ask(inputs: Float32Array[]): Generator<QueryRequest, boolean[] | undefined, Float32Array[]> {
    const out = yield* budget.ask(inputs);
    return out?.map(cfg.adversarial);
  }

  const start = yield* blendedNoiseStart(x, cfg.adversarial, rng, cfg.bounds, o.initTries, budget);
  if (!start) return x;
  let adv = start;

  /** Binary search between x and `toward` (adversarial) down to the threshold; the adversarial end. */
  function* toBoundary(toward: Float32Array): Generator<QueryRequest, { point: Float32Array; dist: number }, Float32Array[]> {
    const full = distance(toward, x, linf);
    let lowA = 0;
    let highA = linf ? full : 1;
    const threshold = linf ? Math.min(full * theta, theta) : theta;
    while ((highA - lowA) / threshold > 1) {
      const mid = (highA + lowA) / 2;
      const ok = yield* ask([project(x, toward, mid, linf)]);
      if (!ok) break;
      if (ok[0]) highA = mid;
      else lowA = mid;
    }
    const point = project(x, toward, highA, linf);
    return { point, dist: distance(point, x, linf) };
  }

  let { point, dist: distPost } = yield* toBoundary(adv);
  adv = point;
  let dist = distance(adv, x, linf);
  for (let t = 1; t <= o.steps; t++) {
    // Gradient-direction estimate at the boundary point from Monte-Carlo sign queries.
    const delta = t === 1 ? 0.1 * (hi - lo) : (linf ? d : Math.sqrt(d)) * theta * distPost;
    const evals = Math.min(Math.floor(o.initEvals * Math.sqrt(t)), o.maxEvals, budget.left);
    if (evals < 2) break;
    const directions: Float32Array[] = [];
    const probes: Float32Array[] = [];
    for (let k = 0; k < evals; k++) {
      const u = new Float32Array(d);
      let norm = 0;
      for (let i = 0; i < d; i++) {
        const v = linf ? 2 * rng.uniform() - 1 : rng.normal();
        u[i] = v;
        norm += v * v;
      }
      norm = Math.sqrt(norm) || 1;
      const probe = new Float32Array(d);
      for (let i = 0; i < d; i++) probe[i] = Math.min(hi, Math.max(lo, (adv[i] as number) + (delta * (u[i] as number)) / norm));
      for (let i = 0; i < d; i++) u[i] = ((probe[i] as number) - (adv[i] as number)) / delta;
      probes.push(probe);
      directions.push(u);
    }
    const decisions = yield* ask(probes);
    if (!decisions) break;
    const fval = decisions.map((ok) => (ok ? 1 : -1));
    const meanF = fval.reduce((a, b) => a + b, 0) / evals;
    const weights = meanF === 1 || meanF === -1 ? fval.map(() => meanF) : fval.map((f) => f - meanF);
    const grad = new Float64Array(d);
    directions.forEach((u, k) => {
      const wk = weights[k] as number;
      for (let i = 0; i < d; i++) grad[i] = (grad[i] as number) + wk * (u[i] as number);
    });
    let gNorm = 0;
    for (const g of grad) gNorm += g * g;
    gNorm = Math.sqrt(gNorm);
    if (!(gNorm > 0)) break;
    const update = Float64Array.from(grad, (g) => (linf ? Math.sign(g) : g / gNorm));

    // Geometric step-size search: ξ = dist/√t, halved until the step stays adversarial.
    let xi = dist / Math.sqrt(t);
    let stepped: Float32Array | undefined;
    while (stepped === undefined && xi > 0) {
      const candidate = clipInPlace(
        Float32Array.from(adv, (v, i) => v + xi * (update[i] as number)),
        lo,
        hi,
      );
      const ok = yield* ask([candidate]);
      if (!ok) break;
      if (ok[0]) stepped = candidate;
      else xi /= 2;
    }
    if (stepped === undefined) break;
    ({ point, dist: distPost } = yield* toBoundary(stepped));
    adv = point;
    dist = distance(adv, x, linf);
  }
  return adv;
}

/**
 * HopSkipJump (HSJA): a decision-based attack that needs only the top-1 label.
 *
 * Paper: Jianbo Chen, Michael I. Jordan, Martin J. Wainwright (2020), "HopSkipJumpAttack: A
 * Query-Efficient Decision-Based Attack", IEEE S&P, {@link https://arxiv.org/abs/1904.02144}.
 *
 * Threat model: decision-based black box (the top-1 label of each query; never scores, logits or
 * gradients), minimization; untargeted or targeted. Works on a `QueryModel` (`'label'` or
 * `'scores'` output) and on a white-box `Model`, which it only queries.
 *
 * Distance measure: L2 (default) or Linf (option `norm`). The start is uniform noise that satisfies
 * the goal, blended towards the input by binary search. Each iteration t then (1) estimates the
 * direction of the boundary's normal from `initEvals·√t` random probes around the current boundary
 * point (Gaussian for L2, uniform for Linf, radius δ = √d·θ·dist (L2) or d·θ·dist (Linf), 0.1 of the
 * bounds' width at t = 1) using only whether each probe satisfies the goal, with the paper's baseline
 * subtraction; (2) steps along it (the sign for Linf) with the geometric step-size search
 * ξ = dist/√t halved until the step satisfies the goal; (3) binary-searches back to the boundary
 * towards the input (L2: along the segment; Linf: shrinking the box), to the threshold θ.
 *
 * Input: a batch `[n, ...model.inputShape]` inside `model.bounds`, any shape.
 *
 * Queries: at most `maxQueries` per sample; `result.queries` also counts the base's clean check and
 * its final checks (one per sample and one per epsilon). A sample for which no noise draw satisfies
 * the goal within `initTries` is returned unchanged (and counted as a failure).
 *
 * Memory: the samples of a batch search in lockstep, and one round holds the probes of every
 * sample as plain arrays (e.g. up to `initEvals·√steps` inputs each); for large inputs lower the
 * run's `batchSize`.
 *
 * `earlyStop` is not used (a minimization attack spends its budget).
 *
 * Options: {@link hopSkipJump}.schema, listed by `advx list --options hop-skip-jump`:
 *
 * <!-- options:hop-skip-jump -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'l2' \| 'linf' | 'l2' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `maxQueries` | integer in [1, ∞) | 10000 | queries per sample, initialization included |
 * | `steps` | integer in [1, ∞) | 64 | iterations (gradient estimate, step, binary search; the paper's code) |
 * | `initEvals` | integer in [1, ∞) | 100 | queries of the first gradient estimate; iteration t uses initEvals·√t |
 * | `maxEvals` | integer in [1, ∞) | 10000 | cap on the queries of one gradient estimate |
 * | `gamma` | number in (0, ∞) | 1 | γ of the binary-search threshold θ = γ/(d·√d) (L2) or γ/d² (Linf), d the input size |
 * | `initTries` | integer in [1, ∞) | 10000 | uniform-noise draws tried to find an adversarial starting point (the paper's code) |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import { toQueryModel } from '@advx/core';
 * import { hopSkipJump } from '@advx/attacks';
 * import { loadDataset, loadModel } from '@advx/models-zoo';
 *
 * const { model } = await loadModel('mnist-cnn');
 * const { x, y } = await loadDataset('mnist', { count: 4, source: 'shipped' });
 * const labelOnly = toQueryModel(model, { output: 'label' });
 * const result = await hopSkipJump({ maxQueries: 2000 }).run(labelOnly, x, { labels: y }, { epsilons: [1, 2, 3] });
 * console.log(result.distances, result.queries); // per sample: L2 distance of the adversarial, queries
 * result.dispose();
 * ```
 * @public
 */
export const hopSkipJump = defineAttack({
  meta: {
    name: 'hop-skip-jump',
    kind: 'minimization',
    norms: ['l2', 'linf'],
    threat: 'decision',
    goals: ['untargeted', 'targeted'],
    randomized: true,
    paper: 'Chen, Jordan & Wainwright (2020), "HopSkipJumpAttack: A Query-Efficient Decision-Based Attack", https://arxiv.org/abs/1904.02144',
  },
  options: {
    maxQueries: option.integer(10_000, 'queries per sample, initialization included', { min: 1 }),
    steps: option.integer(64, "iterations (gradient estimate, step, binary search; the paper's code)", { min: 1 }),
    initEvals: option.integer(100, 'queries of the first gradient estimate; iteration t uses initEvals·√t', { min: 1 }),
    maxEvals: option.integer(10_000, 'cap on the queries of one gradient estimate', { min: 1 }),
    gamma: option.number(1, 'γ of the binary-search threshold θ = γ/(d·√d) (L2) or γ/d² (Linf), d the input size', { min: 0, above: true }),
    initTries: option.integer(10_000, "uniform-noise draws tried to find an adversarial starting point (the paper's code)", { min: 1 }),
  },
  perturb: (ctx): Promise<tf.Tensor> => searchEachDecision(ctx, hopSkipJumpSearch),
});

/**
 * Options of {@link hopSkipJump} (each optional; see its option table).
 *
 * @public
 */
export type HopSkipJumpOptions = FactoryOptions<typeof hopSkipJump>;
