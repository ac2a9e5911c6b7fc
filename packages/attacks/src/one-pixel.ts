import type * as tf from '@tensorflow/tfjs-core';

import { defineAttack, option, type FactoryOptions, type Rng } from '@advx/core';

import { imageDims, reachedGoal, requireScores, rowOf, SearchBudget, searchEachSample, type ImageDims, type SampleSearch } from './internal/black-box.js';

/** Values of one candidate: per pixel its row, column (continuous) and c channel values. */
type Candidate = Float64Array;

/**
 * The DE/rand/1 child of Su et al.: `a + F·(b − c)` for three distinct members, positions clamped to
 * the image and values to the bounds (no crossover).
 *
 * @internal
 */
export function mutate(a: Candidate, b: Candidate, c: Candidate, f: number, dims: ImageDims, bounds: readonly [number, number]): Candidate {
  const [lo, hi] = bounds;
  const per = 2 + dims.c;
  const child = new Float64Array(a.length);
  for (let j = 0; j < a.length; j++) {
    const v = (a[j] as number) + f * ((b[j] as number) - (c[j] as number));
    const slot = j % per;
    const max = slot === 0 ? dims.h : slot === 1 ? dims.w : undefined;
    child[j] = max === undefined ? Math.min(hi, Math.max(lo, v)) : Math.min(max - 1e-6, Math.max(0, v));
  }
  return child;
}

/** The image `x` with the candidate's pixels written in. */
function apply(x: Float32Array, cand: Candidate, dims: ImageDims): Float32Array {
  const { w, c } = dims;
  const per = 2 + c;
  const out = Float32Array.from(x);
  for (let p = 0; p < cand.length / per; p++) {
    const r = Math.floor(cand[p * per] as number);
    const col = Math.floor(cand[p * per + 1] as number);
    for (let ch = 0; ch < c; ch++) out[(r * w + col) * c + ch] = cand[p * per + 2 + ch] as number;
  }
  return out;
}

interface OnePixelSearch {
  readonly x: Float32Array;
  readonly cls: number;
  readonly targeted: boolean;
  readonly dims: ImageDims;
  readonly rng: Rng;
  readonly bounds: readonly [number, number];
  readonly options: Required<OnePixelOptions>;
  readonly used: (q: number) => void;
}

/** One sample's differential evolution; returns the fittest image (the first adversarial with early stop). */
function* onePixelSearch(s: OnePixelSearch): SampleSearch {
  const { dims, rng, options: o } = s;
  const [lo, hi] = s.bounds;
  const budget = new SearchBudget(o.maxQueries, s.used);
  // Fitness to minimize: p(label) (untargeted) or −p(target) (targeted).
  const fitness = (p: Float32Array) => (s.targeted ? -(p[s.cls] as number) : (p[s.cls] as number));
  const mid = (lo + hi) / 2;
  const spread = (hi - lo) / 2;
  // Initial positions uniform over the image; values ~ N(mid, (hi − lo)/2), the paper's N(128, 127) on [0, 255].
  const population: Candidate[] = Array.from({ length: Math.min(o.populationSize, o.maxQueries) }, () => {
    const cand = new Float64Array(o.pixels * (2 + dims.c));
    for (let p = 0; p < o.pixels; p++) {
      const at = p * (2 + dims.c);
      cand[at] = rng.uniform() * dims.h;
      cand[at + 1] = rng.uniform() * dims.w;
      for (let ch = 0; ch < dims.c; ch++) cand[at + 2 + ch] = Math.min(hi, Math.max(lo, mid + spread * rng.normal()));
    }
    return cand;
  });
  const images = population.map((cand) => apply(s.x, cand, dims));
  const first = yield* budget.ask(images);
  if (!first) return s.x;
  const scores = first.map(fitness);
  const found = first.findIndex((p) => reachedGoal(p, s.cls, s.targeted));
  if (o.earlyStop && found >= 0) return images[found] as Float32Array;
  const m = population.length;
  const pick = (exclude: number[]) => {
    let r = rng.int(m);
    while (exclude.includes(r)) r = rng.int(m);
    return r;
  };
  for (let g = 0; g < o.generations && m >= 4; g++) {
    const children = population.map((_, i) => {
      const r1 = pick([i]);
      const r2 = pick([i, r1]);
      const r3 = pick([i, r1, r2]);
      return mutate(population[r1] as Candidate, population[r2] as Candidate, population[r3] as Candidate, o.mutation, dims, s.bounds);
    });
    const childImages = children.map((cand) => apply(s.x, cand, dims));
    const out = yield* budget.ask(childImages);
    if (!out) break;
    for (let i = 0; i < m; i++) {
      const f = fitness(out[i] as Float32Array);
      if (f <= (scores[i] as number)) {
        population[i] = children[i] as Candidate;
        images[i] = childImages[i] as Float32Array;
        scores[i] = f;
      }
      if (o.earlyStop && reachedGoal(out[i] as Float32Array, s.cls, s.targeted)) return childImages[i] as Float32Array;
    }
  }
  let best = 0;
  for (let i = 1; i < m; i++) if ((scores[i] as number) < (scores[best] as number)) best = i;
  return images[best] as Float32Array;
}

/**
 * One-pixel attack: a few-pixel attack found by differential evolution.
 *
 * Paper: Jiawei Su, Danilo Vasconcellos Vargas, Kouichi Sakurai (2019), "One Pixel Attack for Fooling
 * Deep Neural Networks", IEEE Transactions on Evolutionary Computation,
 * {@link https://arxiv.org/abs/1710.08864}.
 *
 * Threat model: score-based black box (the probability of the label or target; never logits or
 * gradients), minimization over a fixed number of pixels; untargeted or targeted. Works on a
 * `QueryModel` with `output: 'scores'` and on a white-box `Model`, which it only queries (as
 * softmax scores).
 *
 * Distance measure: L0 — at most `pixels` pixels change, each in all of its channels (so up to
 * `pixels · c` input values). A candidate is `pixels` tuples (row, column, channel values). The
 * initial population has positions uniform over the image and values drawn from
 * `N((lo + hi)/2, (hi − lo)/2)` clipped to the bounds (the paper's N(128, 127) on 8-bit images);
 * each generation makes one DE/rand/1 child per member, `a + F·(b − c)` of three other random
 * members, with no crossover, and a child replaces its parent when its fitness is no worse. Fitness
 * is the probability of the label (minimized) or of the target (maximized). With `earlyStop` a sample
 * stops at its first candidate that satisfies the goal; else the fittest candidate is returned.
 *
 * Input: images `[n, h, w, c]` or `[n, h, w]` (channels last), any size and channel count, inside
 * `model.bounds`.
 *
 * Queries: `populationSize` per generation plus the initial population, at most `maxQueries` per
 * sample; `result.queries` also counts the base's clean check and final checks.
 *
 * Memory: the samples of a batch search in lockstep, and one round holds the probes of every
 * sample as plain arrays (`populationSize` inputs each); for large inputs lower the
 * run's `batchSize`.
 *
 * Options: {@link onePixel}.schema, listed by `advx list --options one-pixel`:
 *
 * <!-- options:one-pixel -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'l0' | 'l0' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `pixels` | integer in [1, ∞) | 1 | pixels the attack may change |
 * | `populationSize` | integer in [4, ∞) | 400 | candidate solutions of differential evolution (the paper's) |
 * | `generations` | integer in [0, ∞) | 100 | generations after the initial population (the paper's) |
 * | `mutation` | number in (0, 2] | 0.5 | differential weight F of the DE/rand/1 mutation (the paper's) |
 * | `maxQueries` | integer in [1, ∞) | 40400 | queries per sample; populationSize · (generations + 1) lets every generation run |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import { toQueryModel } from '@advx/core';
 * import { onePixel } from '@advx/attacks';
 * import { loadDataset, loadModel } from '@advx/models-zoo';
 *
 * const { model } = await loadModel('mnist-cnn');
 * const { x, y } = await loadDataset('mnist', { count: 4, source: 'shipped' });
 * const oracle = toQueryModel(model, { output: 'scores' });
 * const result = await onePixel({ pixels: 3, populationSize: 100, generations: 20 }).run(oracle, x, { labels: y });
 * console.log(result.distances); // changed values per sample (Infinity: not adversarial)
 * result.dispose();
 * ```
 * @public
 */
export const onePixel = defineAttack({
  meta: {
    name: 'one-pixel',
    kind: 'minimization',
    norms: ['l0'],
    threat: 'score',
    goals: ['untargeted', 'targeted'],
    randomized: true,
    paper: 'Su, Vargas & Sakurai (2019), "One Pixel Attack for Fooling Deep Neural Networks", https://arxiv.org/abs/1710.08864',
  },
  options: {
    pixels: option.integer(1, 'pixels the attack may change', { min: 1 }),
    populationSize: option.integer(400, "candidate solutions of differential evolution (the paper's)", { min: 4 }),
    generations: option.integer(100, "generations after the initial population (the paper's)", { min: 0 }),
    mutation: option.number(0.5, "differential weight F of the DE/rand/1 mutation (the paper's)", { min: 0, max: 2, above: true }),
    maxQueries: option.integer(40_400, 'queries per sample; populationSize · (generations + 1) lets every generation run', { min: 1 }),
  },
  checkModel: (model) => {
    requireScores('onePixel', model);
    imageDims('onePixel', model.inputShape, 1);
  },
  perturb: (ctx): Promise<tf.Tensor> => {
    const dims = imageDims('onePixel', ctx.model.inputShape, 1);
    return searchEachSample(ctx, ctx.options.maxQueries, (i, b, used) =>
      onePixelSearch({
        x: rowOf(b.x, b.size, i),
        cls: b.classes[i] as number,
        targeted: b.targeted,
        dims,
        rng: ctx.rng.streams[i] as Rng,
        bounds: ctx.bounds,
        options: ctx.options,
        used,
      }),
    );
  },
});

/**
 * Options of {@link onePixel} (each optional; see its option table).
 *
 * @public
 */
export type OnePixelOptions = FactoryOptions<typeof onePixel>;
