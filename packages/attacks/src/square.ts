import { defineAttack, option, type FactoryOptions, type Rng } from '@advx/core';

import {
  clipInPlace,
  crossEntropyLoss,
  imageDims,
  marginLoss,
  queryRows,
  reachedGoal,
  readBatch,
  requireScores,
  rowOf,
  batchTensor,
  type ImageDims,
} from './internal/black-box.js';

/**
 * The paper's piecewise-constant schedule of `p` (the fraction of pixels a square covers) at
 * iteration `it` of `total`: `pInit` halved at 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000
 * (per 10,000 iterations).
 *
 * @internal
 */
export function squareSchedule(pInit: number, it: number, total: number): number {
  const t = Math.floor((it / total) * 10000);
  const edges = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000, 10000];
  for (let k = 0; k < edges.length - 1; k++) {
    if (t > (edges[k] as number) && t <= (edges[k + 1] as number)) return pInit / 2 ** (k + 1);
  }
  return pInit;
}

/** `pseudo_gaussian_pert_rectangles` of the paper's code: nested rectangles weighted 1/(k+1)², unit L2 norm. */
function rectangleBumps(rows: number, cols: number): Float64Array {
  const delta = new Float64Array(rows * cols);
  const rc = Math.floor(rows / 2) + 1;
  const cc = Math.floor(cols / 2) + 1;
  let r0 = rc - 1;
  let c0 = cc - 1;
  for (let k = 0; k < Math.max(rc, cc); k++) {
    for (let r = Math.max(r0, 0); r < Math.min(r0 + 2 * k + 1, rows); r++) {
      for (let c = Math.max(c0, 0); c < Math.min(c0 + 2 * k + 1, cols); c++) delta[r * cols + c] = (delta[r * cols + c] as number) + 1 / (k + 1) ** 2;
    }
    r0--;
    c0--;
  }
  return normalized(delta);
}

function normalized(v: Float64Array): Float64Array {
  let s = 0;
  for (const a of v) s += a * a;
  const norm = Math.sqrt(s);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) / norm;
  return v;
}

/**
 * `meta_pseudo_gaussian_pert` of the paper's code: an `s × s` window whose top half is a positive and
 * bottom half a negative bump, unit L2 norm, transposed with probability ½.
 *
 * @internal
 */
export function squareBump(s: number, rng: Rng): Float64Array {
  const half = Math.floor(s / 2);
  const delta = new Float64Array(s * s);
  if (half > 0) delta.set(rectangleBumps(half, s), 0);
  const lower = rectangleBumps(s - half, s);
  for (let i = 0; i < lower.length; i++) delta[half * s + i] = -(lower[i] as number);
  normalized(delta);
  if (rng.uniform() > 0.5) {
    const t = new Float64Array(s * s);
    for (let r = 0; r < s; r++) for (let c = 0; c < s; c++) t[c * s + r] = delta[r * s + c] as number;
    return t;
  }
  return delta;
}

/** Upper bound on redraws of a Linf square whose values would not change the current point. */
const MAX_REDRAWS = 100;

interface SquareStep {
  /** Candidate for the next query. */
  candidate(i: number, xi: Float32Array, best: Float32Array, it: number): Float32Array;
  /** Initial point. */
  init(i: number, xi: Float32Array): Float32Array;
}

function linfSteps(dims: ImageDims, eps: number, bounds: readonly [number, number], pAt: (it: number) => number, rngs: readonly Rng[]): SquareStep {
  const { h, w, c } = dims;
  const [lo, hi] = bounds;
  const d = h * w * c;
  const sign = (rng: Rng) => (rng.uniform() < 0.5 ? -eps : eps);
  return {
    // Vertical stripes: one ±ε per column and channel.
    init: (i, xi) => {
      const rng = rngs[i] as Rng;
      const stripe = Float32Array.from({ length: w * c }, () => sign(rng));
      const out = new Float32Array(d);
      for (let r = 0; r < h; r++) for (let k = 0; k < w * c; k++) out[r * w * c + k] = (xi[r * w * c + k] as number) + (stripe[k] as number);
      return clipInPlace(out, lo, hi);
    },
    candidate: (i, xi, best, it) => {
      const rng = rngs[i] as Rng;
      const s = Math.min(Math.max(Math.round(Math.sqrt((pAt(it) * d) / c)), 1), Math.min(h, w) - 1);
      const top = rng.int(h - s + 1);
      const left = rng.int(w - s + 1);
      const delta = new Float32Array(d);
      for (let k = 0; k < d; k++) delta[k] = (best[k] as number) - (xi[k] as number);
      const values = new Float32Array(c);
      for (let attempt = 0; attempt < MAX_REDRAWS; attempt++) {
        for (let ch = 0; ch < c; ch++) values[ch] = sign(rng);
        let changes = false;
        for (let r = top; r < top + s && !changes; r++) {
          for (let col = left; col < left + s && !changes; col++) {
            for (let ch = 0; ch < c; ch++) {
              const k = (r * w + col) * c + ch;
              const v = Math.min(hi, Math.max(lo, (xi[k] as number) + (values[ch] as number)));
              if (Math.abs(v - (best[k] as number)) >= 1e-7) changes = true;
            }
          }
        }
        if (changes) break;
      }
      for (let r = top; r < top + s; r++)
        for (let col = left; col < left + s; col++) for (let ch = 0; ch < c; ch++) delta[(r * w + col) * c + ch] = values[ch] as number;
      const out = new Float32Array(d);
      for (let k = 0; k < d; k++) out[k] = (xi[k] as number) + (delta[k] as number);
      return clipInPlace(out, lo, hi);
    },
  };
}

function l2Steps(dims: ImageDims, eps: number, bounds: readonly [number, number], pAt: (it: number) => number, rngs: readonly Rng[]): SquareStep {
  const { h, w, c } = dims;
  const [lo, hi] = bounds;
  const d = h * w * c;
  const at = (r: number, col: number, ch: number) => (r * w + col) * c + ch;
  /** x + ε·δ/‖δ‖₂, clipped to the bounds. */
  const place = (xi: Float32Array, delta: Float64Array): Float32Array => {
    let s = 0;
    for (const v of delta) s += v * v;
    const scale = s > 0 ? eps / Math.sqrt(s) : 0;
    const out = new Float32Array(d);
    for (let k = 0; k < d; k++) out[k] = (xi[k] as number) + scale * (delta[k] as number);
    return clipInPlace(out, lo, hi);
  };
  return {
    // A grid of s×s bumps (s = h/5) with a random sign per window and channel, scaled to norm ε.
    init: (i, xi) => {
      const rng = rngs[i] as Rng;
      const s = Math.max(1, Math.floor(h / 5));
      const start = Math.max(0, Math.floor((h - s * 5) / 2));
      const delta = new Float64Array(d);
      for (let gr = 0, top = start; gr < Math.floor(h / s); gr++, top += s) {
        for (let gc = 0, left = start; gc < Math.floor(w / s); gc++, left += s) {
          const bump = squareBump(s, rng);
          for (let ch = 0; ch < c; ch++) {
            const sgn = rng.uniform() < 0.5 ? -1 : 1;
            for (let r = 0; r < s && top + r < h; r++) {
              for (let col = 0; col < s && left + col < w; col++) {
                const k = at(top + r, left + col, ch);
                delta[k] = (delta[k] as number) + sgn * (bump[r * s + col] as number);
              }
            }
          }
        }
      }
      return place(xi, delta);
    },
    candidate: (i, xi, best, it) => {
      const rng = rngs[i] as Rng;
      let s = Math.max(Math.round(Math.sqrt((pAt(it) * d) / c)), 3);
      if (s % 2 === 0) s += 1;
      s = Math.min(s, Math.min(h, w) - 1);
      const top = rng.int(h - s + 1);
      const left = rng.int(w - s + 1);
      const top2 = rng.int(h - s + 1);
      const left2 = rng.int(w - s + 1);
      const delta = new Float64Array(d);
      let image = 0;
      for (let k = 0; k < d; k++) {
        delta[k] = (best[k] as number) - (xi[k] as number);
        image += (delta[k] as number) ** 2;
      }
      const inFirst = (r: number, col: number) => r >= top && r < top + s && col >= left && col < left + s;
      const inSecond = (r: number, col: number) => r >= top2 && r < top2 + s && col >= left2 && col < left2 + s;
      const windowNorm = new Float64Array(c);
      const unionNorm = new Float64Array(c);
      for (let r = 0; r < h; r++) {
        for (let col = 0; col < w; col++) {
          const first = inFirst(r, col);
          if (!first && !inSecond(r, col)) continue;
          for (let ch = 0; ch < c; ch++) {
            const v2 = (delta[at(r, col, ch)] as number) ** 2;
            unionNorm[ch] = (unionNorm[ch] as number) + v2;
            if (first) windowNorm[ch] = (windowNorm[ch] as number) + v2;
          }
        }
      }
      const bump = squareBump(s, rng);
      const budget = Math.max(eps * eps - image, 0) / c;
      const update = new Float64Array(s * s * c);
      for (let ch = 0; ch < c; ch++) {
        const sgn = rng.uniform() < 0.5 ? -1 : 1;
        const old = 1e-10 + Math.sqrt(windowNorm[ch] as number);
        let norm = 0;
        for (let r = 0; r < s; r++) {
          for (let col = 0; col < s; col++) {
            const v = sgn * (bump[r * s + col] as number) + (delta[at(top + r, left + col, ch)] as number) / old;
            update[(r * s + col) * c + ch] = v;
            norm += v * v;
          }
        }
        const scale = norm > 0 ? Math.sqrt(budget + (unionNorm[ch] as number)) / Math.sqrt(norm) : 0;
        for (let k = ch; k < update.length; k += c) update[k] = (update[k] as number) * scale;
      }
      for (let r = top2; r < top2 + s; r++) for (let col = left2; col < left2 + s; col++) for (let ch = 0; ch < c; ch++) delta[at(r, col, ch)] = 0;
      for (let r = 0; r < s; r++)
        for (let col = 0; col < s; col++) for (let ch = 0; ch < c; ch++) delta[at(top + r, left + col, ch)] = update[(r * s + col) * c + ch] as number;
      return place(xi, delta);
    },
  };
}

/**
 * Square Attack: a query-efficient score-based black-box attack by random search.
 *
 * Paper: Maksym Andriushchenko, Francesco Croce, Nicolas Flammarion, Matthias Hein (2020), "Square
 * Attack: a query-efficient black-box adversarial attack via random search", ECCV,
 * {@link https://arxiv.org/abs/1912.00049}.
 *
 * Threat model: score-based black box (output probabilities only; never gradients or logits), fixed
 * epsilon; untargeted or targeted. Works on a `QueryModel` with `output: 'scores'` and on a
 * white-box `Model`, which it only queries (as softmax scores).
 *
 * Distance measure: Linf or L2 (option `norm`). From an initial point on the boundary of the epsilon
 * ball (Linf: vertical stripes of ±ε; L2: a grid of ±bumps scaled to norm ε), each iteration draws a
 * square window at a random position whose side follows the paper's schedule of `p` (the fraction of
 * pixels covered), proposes a new perturbation on it (Linf: ±ε per channel on the whole square; L2:
 * a ±bump that moves the mass of a second window into the first, keeping ‖δ‖₂ = ε) and keeps it when
 * the loss drops. The loss is the margin `z_y − max_{j≠y} z_j` (untargeted) or the cross-entropy of
 * the target (targeted), computed from the probabilities, as in the paper's code. Each sample stops
 * querying once it is adversarial (option `earlyStop`).
 *
 * Square positions are uniform over all `h − s + 1` rows and columns (the paper's code draws from
 * `h − s`, never touching the last row and column). Square sides are at most `min(h, w) − 1`.
 *
 * Input: images `[n, h, w, c]` or `[n, h, w]` (channels last) inside `model.bounds`, at least 2×2
 * (Linf) or 4×4 (L2) pixels.
 *
 * Queries: up to `maxQueries` per sample and epsilon; `result.queries` also counts the base's clean
 * and final checks (one query each per sample and epsilon), so a sample spends at most
 * `1 + epsilons.length · (maxQueries + 1)`.
 *
 * Options: {@link square}.schema, listed by `advx list --options square`:
 *
 * <!-- options:square -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'linf' \| 'l2' | 'linf' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `maxQueries` | integer in [1, ∞) | 10000 | queries per sample and epsilon, the first one on the initial point; also the horizon of the p schedule |
 * | `pInit` | number in (0, 1] | 0.05 | initial fraction of the image's pixels a square covers, halved on the paper's schedule |
 * <!-- /options -->
 *
 * The default `maxQueries` (10,000) is the paper's; the default `pInit` (0.05) is the paper's Linf
 * value for ImageNet (the paper uses 0.1 for L2 and 0.8 for MNIST). `pInit` is halved on the paper's
 * schedule (after 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000 of every 10,000 queries).
 *
 * @example
 * ```ts
 * import { toQueryModel } from '@advx/core';
 * import { square } from '@advx/attacks';
 * import { loadDataset, loadModel } from '@advx/models-zoo';
 *
 * const { model } = await loadModel('mnist-cnn');
 * const { x, y } = await loadDataset('mnist', { count: 10, source: 'shipped' });
 * const oracle = toQueryModel(model, { output: 'scores' });
 * const result = await square({ maxQueries: 1000, pInit: 0.8 }).run(oracle, x, { labels: y }, { epsilons: [0.3], seed: 0 });
 * console.log(result.success[0], result.queries); // per sample: adversarial?, queries spent
 * result.dispose();
 * ```
 * @public
 */
export const square = defineAttack({
  meta: {
    name: 'square',
    kind: 'fixed-epsilon',
    norms: ['linf', 'l2'],
    threat: 'score',
    goals: ['untargeted', 'targeted'],
    randomized: true,
    paper:
      'Andriushchenko, Croce, Flammarion & Hein (2020), "Square Attack: a query-efficient black-box adversarial attack via random search", https://arxiv.org/abs/1912.00049',
  },
  options: {
    maxQueries: option.integer(10_000, 'queries per sample and epsilon, the first one on the initial point; also the horizon of the p schedule', { min: 1 }),
    pInit: option.number(0.05, "initial fraction of the image's pixels a square covers, halved on the paper's schedule", { min: 0, max: 1, above: true }),
  },
  checkModel: (model, o) => {
    requireScores('square', model);
    imageDims('square', model.inputShape, o.norm === 'l2' ? 4 : 2);
  },
  perturb: async (ctx) => {
    const o = ctx.options;
    const eps = ctx.epsilon;
    if (eps === 0) return ctx.x;
    const dims = imageDims('square', ctx.model.inputShape, o.norm === 'l2' ? 4 : 2);
    const b = await readBatch(ctx);
    const rngs = ctx.rng.streams;
    const pAt = (it: number) => squareSchedule(o.pInit, it, o.maxQueries);
    const steps = (o.norm === 'l2' ? l2Steps : linfSteps)(dims, eps, ctx.bounds, pAt, rngs);
    const best = Float32Array.from(b.x);
    const loss = new Float64Array(b.n);
    const done = new Uint8Array(b.n);
    const evaluate = (i: number, p: Float32Array) => {
      const cls = b.classes[i] as number;
      return { value: b.targeted ? crossEntropyLoss(p, cls) : marginLoss(p, cls, false), ok: reachedGoal(p, cls, b.targeted) };
    };

    const starts = Array.from(b.todo, (i) => steps.init(i, rowOf(b.x, b.size, i)));
    const scores = await queryRows(ctx, b.todo, starts);
    b.todo.forEach((i, j) => {
      best.set(starts[j] as Float32Array, i * b.size);
      const { value, ok } = evaluate(i, scores[j] as Float32Array);
      loss[i] = value;
      done[i] = ok ? 1 : 0;
    });
    const iterations = o.maxQueries - 1;
    for (let it = 0; it < iterations; it++) {
      const rows = Int32Array.from(Array.from(b.todo).filter((i) => !(o.earlyStop && done[i])));
      if (rows.length === 0) break;
      await ctx.checkpoint(it, iterations);
      const candidates = Array.from(rows, (i) => steps.candidate(i, rowOf(b.x, b.size, i), rowOf(best, b.size, i), it));
      const out = await queryRows(ctx, rows, candidates);
      rows.forEach((i, j) => {
        const { value, ok } = evaluate(i, out[j] as Float32Array);
        if (value < (loss[i] as number)) {
          loss[i] = value;
          best.set(candidates[j] as Float32Array, i * b.size);
          done[i] = ok ? 1 : 0;
        }
      });
    }
    return batchTensor(ctx, best);
  },
});

/**
 * Options of {@link square} (each optional; see its option table).
 *
 * @public
 */
export type SquareOptions = FactoryOptions<typeof square>;
