import type * as tf from '@tensorflow/tfjs-core';

import { defineAttack, option, type FactoryOptions, type Rng } from '@advx/core';

import {
  blendedNoiseStart,
  clipInPlace,
  l2Distance,
  SearchBudget,
  searchEachDecision,
  type DecisionSearchInput,
  type SampleSearch,
} from './internal/black-box.js';

/** A bounded window of the latest outcomes, for the success rates that adapt the steps. */
class Outcomes {
  private values: boolean[] = [];
  constructor(private readonly size: number) {}
  push(v: boolean): void {
    this.values.push(v);
    if (this.values.length > this.size) this.values.shift();
  }
  /** The success rate once the window is full, else `undefined`. */
  rate(): number | undefined {
    return this.values.length < this.size ? undefined : this.values.filter(Boolean).length / this.size;
  }
  clear(): void {
    this.values = [];
  }
}

function euclid(v: Float64Array): number {
  let s = 0;
  for (const a of v) s += a * a;
  return Math.sqrt(s);
}

/**
 * Boundary attack proposals (Brendel et al.; Foolbox's `draw_proposals`): a Gaussian step orthogonal
 * to the direction to the input, of length `spherical·dist`, projected back onto the sphere of radius
 * `dist` around the input (the spherical candidate), then a step of `source·dist` towards the input.
 */
function proposals(
  x: Float32Array,
  adv: Float32Array,
  spherical: number,
  source: number,
  rng: Rng,
  bounds: readonly [number, number],
): { candidate: Float32Array; sphere: Float32Array } {
  const [lo, hi] = bounds;
  const d = x.length;
  const toX = Float64Array.from(x, (v, i) => v - (adv[i] as number));
  const dist = euclid(toX);
  const eta = Float64Array.from({ length: d }, () => rng.normal());
  let dot = 0;
  for (let i = 0; i < d; i++) dot += (eta[i] as number) * ((toX[i] as number) / dist);
  for (let i = 0; i < d; i++) eta[i] = (eta[i] as number) - dot * ((toX[i] as number) / dist);
  const etaNorm = euclid(eta);
  const scale = etaNorm > 0 ? (spherical * dist) / etaNorm : 0;
  const onSphere = Math.sqrt(spherical * spherical + 1);
  const sphere = new Float32Array(d);
  for (let i = 0; i < d; i++) sphere[i] = (x[i] as number) + ((eta[i] as number) * scale - (toX[i] as number)) / onSphere;
  clipInPlace(sphere, lo, hi);
  const back = Float64Array.from(x, (v, i) => v - (sphere[i] as number));
  const backNorm = euclid(back);
  const length = backNorm > 0 ? Math.max(source * dist + backNorm - dist, 0) / backNorm : 0;
  const candidate = Float32Array.from(sphere, (v, i) => v + length * (back[i] as number));
  return { candidate: clipInPlace(candidate, lo, hi), sphere };
}

type BoundarySearch = DecisionSearchInput<Required<BoundaryAttackOptions>>;

/** One sample's boundary attack; the clean input when no adversarial start was found. */
function* boundarySearch(s: BoundarySearch): SampleSearch {
  const o = s.options;
  const budget = new SearchBudget(o.maxQueries, s.used);
  const start = yield* blendedNoiseStart(s.x, s.adversarial, s.rng, s.bounds, o.initTries, budget);
  if (!start) return s.x;
  let best = start;
  let bestDist = l2Distance(best, s.x);
  let spherical = o.sphericalStep;
  let source = o.sourceStep;
  const sphereStats = new Outcomes(100);
  const stepStats = new Outcomes(30);
  for (let step = 1; step <= o.steps && source >= o.sourceStepConvergence && bestDist > 0; step++) {
    const check = step % o.updateStatsEvery === 0;
    const { candidate, sphere } = proposals(s.x, best, spherical, source, s.rng, s.bounds);
    const out = yield* budget.ask(check ? [candidate, sphere] : [candidate]);
    if (!out) break;
    const isAdv = s.adversarial(out[0] as Float32Array);
    const dist = l2Distance(candidate, s.x);
    if (isAdv && dist < bestDist) {
      best = candidate;
      bestDist = dist;
    }
    if (!check) continue;
    sphereStats.push(s.adversarial(out[1] as Float32Array));
    stepStats.push(isAdv);
    const pSphere = sphereStats.rate();
    if (pSphere !== undefined && (pSphere > 0.5 || pSphere < 0.2)) {
      const f = pSphere > 0.5 ? o.stepAdaptation : 1 / o.stepAdaptation;
      spherical *= f;
      source *= f;
      sphereStats.clear();
    }
    const pStep = stepStats.rate();
    if (pStep !== undefined && (pStep > 0.25 || pStep < 0.1)) {
      source *= pStep > 0.25 ? o.stepAdaptation : 1 / o.stepAdaptation;
      stepStats.clear();
    }
  }
  return best;
}

/**
 * Boundary attack: a decision-based attack that walks along the decision boundary towards the input.
 *
 * Paper: Wieland Brendel, Jonas Rauber, Matthias Bethge (2018), "Decision-Based Adversarial Attacks:
 * Reliable Attacks Against Black-Box Machine Learning Models", ICLR,
 * {@link https://arxiv.org/abs/1712.04248}.
 *
 * Threat model: decision-based black box (the top-1 label of each query; never scores, logits or
 * gradients), minimization; untargeted or targeted. Works on a `QueryModel` (`'label'` or
 * `'scores'` output) and on a white-box `Model`, which it only queries.
 *
 * Distance measure: L2. From an adversarial start (uniform noise satisfying the goal, blended towards
 * the input by binary search), every step proposes an orthogonal Gaussian step of relative length
 * `sphericalStep` projected onto the sphere around the input, then a step of relative length
 * `sourceStep` towards the input, and keeps it when it satisfies the goal and is closer. Every
 * `updateStatsEvery` steps the spherical proposal is queried as well, and the steps adapt by
 * `stepAdaptation` to keep the spherical success rate in [0.2, 0.5] (last 100 checks) and the
 * candidate success rate in [0.1, 0.25] (last 30), as in the paper and Foolbox.
 *
 * Input: a batch `[n, ...model.inputShape]` inside `model.bounds`, any shape.
 *
 * Queries: at most `maxQueries` per sample (1 per step, 2 every `updateStatsEvery` steps);
 * `result.queries` also counts the base's clean check and final checks (one per sample and one per
 * epsilon). A sample without an adversarial start within `initTries` is returned unchanged.
 * `earlyStop` is not used (a minimization attack spends its budget).
 *
 * Options: {@link boundaryAttack}.schema, listed by `advx list --options boundary-attack`:
 *
 * <!-- options:boundary-attack -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'l2' | 'l2' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `maxQueries` | integer in [1, ∞) | 10000 | queries per sample, initialization included |
 * | `steps` | integer in [1, ∞) | 25000 | steps at most (Foolbox's default) |
 * | `sphericalStep` | number in (0, ∞) | 0.01 | initial orthogonal (spherical) step, relative to the current distance |
 * | `sourceStep` | number in (0, ∞) | 0.01 | initial step towards the input, relative to the current distance |
 * | `stepAdaptation` | number in (1, ∞) | 1.5 | factor by which both steps adapt |
 * | `updateStatsEvery` | integer in [1, ∞) | 10 | steps between success-rate checks of the spherical step (each costs one query) |
 * | `sourceStepConvergence` | number in [0, ∞) | 1e-7 | a sample stops once its source step falls below this |
 * | `initTries` | integer in [1, ∞) | 10000 | uniform-noise draws tried to find an adversarial starting point |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import { toQueryModel } from '@advx/core';
 * import { boundaryAttack } from '@advx/attacks';
 * import { loadDataset, loadModel } from '@advx/models-zoo';
 *
 * const { model } = await loadModel('mnist-cnn');
 * const { x, y } = await loadDataset('mnist', { count: 4, source: 'shipped' });
 * const labelOnly = toQueryModel(model, { output: 'label' });
 * const result = await boundaryAttack({ maxQueries: 5000 }).run(labelOnly, x, { labels: y }, { epsilons: [2, 4] });
 * console.log(result.distances, result.queries);
 * result.dispose();
 * ```
 * @public
 */
export const boundaryAttack = defineAttack({
  meta: {
    name: 'boundary-attack',
    kind: 'minimization',
    norms: ['l2'],
    threat: 'decision',
    goals: ['untargeted', 'targeted'],
    randomized: true,
    paper:
      'Brendel, Rauber & Bethge (2018), "Decision-Based Adversarial Attacks: Reliable Attacks Against Black-Box Machine Learning Models", https://arxiv.org/abs/1712.04248',
  },
  options: {
    maxQueries: option.integer(10_000, 'queries per sample, initialization included', { min: 1 }),
    steps: option.integer(25_000, "steps at most (Foolbox's default)", { min: 1 }),
    sphericalStep: option.number(0.01, 'initial orthogonal (spherical) step, relative to the current distance', { min: 0, above: true }),
    sourceStep: option.number(0.01, 'initial step towards the input, relative to the current distance', { min: 0, above: true }),
    stepAdaptation: option.number(1.5, 'factor by which both steps adapt', { min: 1, above: true }),
    updateStatsEvery: option.integer(10, 'steps between success-rate checks of the spherical step (each costs one query)', { min: 1 }),
    sourceStepConvergence: option.number(1e-7, 'a sample stops once its source step falls below this', { min: 0 }),
    initTries: option.integer(10_000, 'uniform-noise draws tried to find an adversarial starting point', { min: 1 }),
  },
  perturb: (ctx): Promise<tf.Tensor> => searchEachDecision(ctx, boundarySearch),
});

/**
 * Options of {@link boundaryAttack} (each optional; see its option table).
 *
 * @public
 */
export type BoundaryAttackOptions = FactoryOptions<typeof boundaryAttack>;
