import { checkInteger, checkNumber, defineAttack, type AttackOptionsBase, type Rng } from '@advx/core';

import { blendedNoiseStart, clipInPlace, l2Distance, SearchBudget, searchEachDecision, type DecisionSearchInput, type SampleSearch } from './internal/black-box.js';

/**
 * Options of {@link boundaryAttack}.
 *
 * @public
 */
export interface BoundaryAttackOptions extends AttackOptionsBase {
  /** Distance minimized: `'l2'` (the only one). */
  readonly norm?: 'l2';
  /** Queries per sample, an integer ≥ 1 (default 10,000), initialization included. */
  readonly maxQueries?: number;
  /** Steps at most, an integer ≥ 1 (default 25,000, Foolbox's). */
  readonly steps?: number;
  /** Initial orthogonal (spherical) step, relative to the current distance, > 0 (default 0.01). */
  readonly sphericalStep?: number;
  /** Initial step towards the input, relative to the current distance, > 0 (default 0.01). */
  readonly sourceStep?: number;
  /** Factor by which both steps adapt, > 1 (default 1.5). */
  readonly stepAdaptation?: number;
  /** Steps between success-rate checks of the spherical step (each costs one query), an integer ≥ 1 (default 10). */
  readonly updateStatsEvery?: number;
  /** A sample stops once its source step falls below this, ≥ 0 (default 1e-7). */
  readonly sourceStepConvergence?: number;
  /** Uniform-noise draws tried to find an adversarial starting point, an integer ≥ 1 (default 10,000). */
  readonly initTries?: number;
}

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
function proposals(x: Float32Array, adv: Float32Array, spherical: number, source: number, rng: Rng, bounds: readonly [number, number]): { candidate: Float32Array; sphere: Float32Array } {
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
 *
 * Options (defaults):
 * - `maxQueries` (10,000) and `steps` (25,000): whichever ends first.
 * - `sphericalStep` (0.01), `sourceStep` (0.01), `stepAdaptation` (1.5), `updateStatsEvery` (10).
 * - `sourceStepConvergence` (1e-7): a sample stops when its source step is smaller.
 * - `initTries` (10,000).
 * - `norm` (`'l2'`); `earlyStop`: not used (a minimization attack spends its budget).
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
export const boundaryAttack = defineAttack<BoundaryAttackOptions>({
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
  defaults: {
    norm: 'l2',
    earlyStop: true,
    maxQueries: 10_000,
    steps: 25_000,
    sphericalStep: 0.01,
    sourceStep: 0.01,
    stepAdaptation: 1.5,
    updateStatsEvery: 10,
    sourceStepConvergence: 1e-7,
    initTries: 10_000,
  },
  validate: (o) => {
    checkInteger('boundaryAttack: maxQueries', o.maxQueries, 1);
    checkInteger('boundaryAttack: steps', o.steps, 1);
    checkNumber('boundaryAttack: sphericalStep', o.sphericalStep, 0, Infinity, true);
    checkNumber('boundaryAttack: sourceStep', o.sourceStep, 0, Infinity, true);
    checkNumber('boundaryAttack: stepAdaptation', o.stepAdaptation, 1, Infinity, true);
    checkInteger('boundaryAttack: updateStatsEvery', o.updateStatsEvery, 1);
    checkNumber('boundaryAttack: sourceStepConvergence', o.sourceStepConvergence, 0);
    checkInteger('boundaryAttack: initTries', o.initTries, 1);
  },
  perturb: (ctx) => searchEachDecision(ctx, boundarySearch),
});
