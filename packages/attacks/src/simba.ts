import { defineAttack, option, type FactoryOptions, type Rng } from '@advx/core';

import { clipInPlace, imageDims, reachedGoal, requireScores, rowOf, searchEachSample, type ImageDims, type SampleSearch } from './internal/black-box.js';

/**
 * The order SimBA-DCT tries frequencies `(u, v, channel)` in (the paper's `block_order`): the
 * `initial × initial` lowest frequencies of every channel in random order, then bands
 * `initial + k·stride ≤ max(u, v) < initial + (k+1)·stride`, each in random order. Returns flat
 * indices `(u·w + v)·c + channel`.
 *
 * @internal
 */
export function dctOrder(dims: ImageDims, initial: number, stride: number, rng: Rng): Int32Array {
  const { h, w, c } = dims;
  const band = (u: number, v: number) => {
    const m = Math.max(u, v);
    return m < initial ? 0 : 1 + Math.floor((m - initial) / stride);
  };
  const bands: number[][] = [];
  for (let u = 0; u < h; u++) {
    for (let v = 0; v < w; v++) {
      const k = band(u, v);
      while (bands.length <= k) bands.push([]);
      for (let ch = 0; ch < c; ch++) (bands[k] as number[]).push((u * w + v) * c + ch);
    }
  }
  const order: number[] = [];
  for (const members of bands) {
    const perm = rng.permutation(members.length);
    for (const j of perm) order.push(members[j] as number);
  }
  return Int32Array.from(order);
}

/** The orthonormal 2-D DCT basis image of frequency `(u, v)` on `channel` (other channels zero). */
function dctBasis(dims: ImageDims, index: number): Float32Array {
  const { h, w, c } = dims;
  const ch = index % c;
  const v = Math.floor(index / c) % w;
  const u = Math.floor(index / (c * w));
  const au = u === 0 ? Math.sqrt(1 / h) : Math.sqrt(2 / h);
  const av = v === 0 ? Math.sqrt(1 / w) : Math.sqrt(2 / w);
  const colCos = Float64Array.from({ length: w }, (_, col) => Math.cos((Math.PI * (2 * col + 1) * v) / (2 * w)));
  const out = new Float32Array(h * w * c);
  for (let r = 0; r < h; r++) {
    const rowCos = au * av * Math.cos((Math.PI * (2 * r + 1) * u) / (2 * h));
    for (let col = 0; col < w; col++) out[(r * w + col) * c + ch] = rowCos * (colCos[col] as number);
  }
  return out;
}

interface SimbaSearch {
  readonly x: Float32Array;
  readonly cls: number;
  readonly targeted: boolean;
  readonly order: Int32Array;
  readonly direction: (index: number) => Float32Array | number;
  readonly bounds: readonly [number, number];
  readonly stepSize: number;
  readonly maxQueries: number;
  readonly earlyStop: boolean;
  readonly used: (q: number) => void;
}

/** One sample's SimBA (Guo et al.'s Algorithm 1): ±ε along each direction, kept when p(y) drops (p(t) rises). */
function* simbaSearch(s: SimbaSearch): SampleSearch {
  const [lo, hi] = s.bounds;
  const d = s.x.length;
  const delta = new Float32Array(d);
  const point = (extra: Float32Array | number, index: number, alpha: number): Float32Array => {
    const out = new Float32Array(d);
    for (let i = 0; i < d; i++) out[i] = (s.x[i] as number) + (delta[i] as number);
    if (typeof extra === 'number') out[index] = (out[index] as number) + alpha * extra;
    else for (let i = 0; i < d; i++) out[i] = (out[i] as number) + alpha * (extra[i] as number);
    return clipInPlace(out, lo, hi);
  };
  let used = 1;
  s.used(used);
  const [clean] = yield [s.x];
  let prob = (clean as Float32Array)[s.cls] as number;
  let best = s.x;
  const better = (p: number) => (s.targeted ? p > prob : p < prob);
  for (let k = 0; k < s.order.length && used < s.maxQueries; k++) {
    const index = s.order[k] as number;
    const q = s.direction(index);
    for (const alpha of [s.stepSize, -s.stepSize]) {
      if (used >= s.maxQueries) break;
      const candidate = point(q, index, alpha);
      used++;
      s.used(used);
      const [out] = yield [candidate];
      const p = (out as Float32Array)[s.cls] as number;
      if (better(p)) {
        prob = p;
        best = candidate;
        if (typeof q === 'number') delta[index] = (delta[index] as number) + alpha * q;
        else for (let i = 0; i < d; i++) delta[i] = (delta[i] as number) + alpha * (q[i] as number);
        if (s.earlyStop && reachedGoal(out as Float32Array, s.cls, s.targeted)) return best;
        break;
      }
    }
  }
  return best;
}

/**
 * SimBA: Simple Black-box Adversarial Attacks, in the pixel or the DCT basis.
 *
 * Paper: Chuan Guo, Jacob R. Gardner, Yurong You, Andrew Gordon Wilson, Kilian Q. Weinberger (2019),
 * "Simple Black-box Adversarial Attacks", ICML, {@link https://arxiv.org/abs/1905.07121}.
 *
 * Threat model: score-based black box (the probability of the label, or of the target; never logits
 * or gradients), minimization; untargeted or targeted. Works on a `QueryModel` with
 * `output: 'scores'` and on a white-box `Model`, which it only queries (as softmax scores).
 *
 * Distance measure: L2. Directions `q` are drawn without replacement from an orthonormal basis —
 * the pixels in random order (`basis: 'pixel'`), or DCT frequencies, lowest first
 * (`basis: 'dct'`, the paper's block order). For each, the attack tries `x + δ + ε·q` and then
 * `x + δ − ε·q` (clipped to the bounds) and keeps the first that lowers the probability of the label
 * (raises that of the target), so `‖δ‖₂ ≤ ε·√(steps taken)`. A sample stops once it is adversarial
 * (option `earlyStop`), after `maxQueries` queries, or when the basis is exhausted. Being a
 * minimization attack, its output is projected onto each requested epsilon ball.
 *
 * Input: a batch `[n, ...model.inputShape]` inside `model.bounds`; the DCT basis needs images
 * `[h, w, c]` or `[h, w]`.
 *
 * Queries: at most `maxQueries` per sample; `result.queries` also counts the base's clean check and
 * final checks (one per sample and one per epsilon).
 *
 * Options: {@link simba}.schema, listed by `advx list --options simba`:
 *
 * <!-- options:simba -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'l2' | 'l2' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `basis` | 'pixel' \| 'dct' | 'pixel' | search directions: the standard basis (SimBA), or the orthonormal 2-D DCT basis, low frequencies first (SimBA-DCT; image inputs only) |
 * | `stepSize` | number in (0, ∞) | 0.2 | step length ε along each direction, in input units (the paper's) |
 * | `maxQueries` | integer in [1, ∞) | 10000 | queries per sample, the first one on the clean input |
 * | `freqFraction` | number in (0, 1] | 0.125 | DCT only: side of the block of lowest frequencies tried first, as a fraction of the image side (the paper's 28 of 224) |
 * | `strideFraction` | number in (0, 1] | 0.03125 | DCT only: width of each further band of frequencies, as a fraction of the image side (the paper's 7 of 224) |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import { toQueryModel } from '@advx/core';
 * import { simba } from '@advx/attacks';
 * import { loadDataset, loadModel } from '@advx/models-zoo';
 *
 * const { model } = await loadModel('mnist-cnn');
 * const { x, y } = await loadDataset('mnist', { count: 8, source: 'shipped' });
 * const oracle = toQueryModel(model, { output: 'scores' });
 * const result = await simba({ basis: 'dct', stepSize: 0.2, maxQueries: 2000 }).run(oracle, x, { labels: y }, { epsilons: [2, 4] });
 * console.log(result.distances, result.queries);
 * result.dispose();
 * ```
 * @public
 */
export const simba = defineAttack({
  meta: {
    name: 'simba',
    kind: 'minimization',
    norms: ['l2'],
    threat: 'score',
    goals: ['untargeted', 'targeted'],
    randomized: true,
    paper: 'Guo, Gardner, You, Wilson & Weinberger (2019), "Simple Black-box Adversarial Attacks", https://arxiv.org/abs/1905.07121',
  },
  options: {
    basis: option.oneOf(
      ['pixel', 'dct'],
      'pixel',
      'search directions: the standard basis (SimBA), or the orthonormal 2-D DCT basis, low frequencies first (SimBA-DCT; image inputs only)',
    ),
    stepSize: option.number(0.2, "step length ε along each direction, in input units (the paper's)", { min: 0, above: true }),
    maxQueries: option.integer(10_000, 'queries per sample, the first one on the clean input', { min: 1 }),
    freqFraction: option.number(
      1 / 8,
      "DCT only: side of the block of lowest frequencies tried first, as a fraction of the image side (the paper's 28 of 224)",
      { min: 0, max: 1, above: true },
    ),
    strideFraction: option.number(1 / 32, "DCT only: width of each further band of frequencies, as a fraction of the image side (the paper's 7 of 224)", {
      min: 0,
      max: 1,
      above: true,
    }),
  },
  checkModel: (model, o) => {
    requireScores('simba', model);
    if (o.basis === 'dct') imageDims('simba (DCT basis)', model.inputShape, 1);
  },
  perturb: (ctx) => {
    const o = ctx.options;
    const dims = o.basis === 'dct' ? imageDims('simba (DCT basis)', ctx.model.inputShape, 1) : undefined;
    return searchEachSample(ctx, o.maxQueries, (i, b, used) => {
      const rng = ctx.rng.streams[i] as Rng;
      const side = dims ? Math.min(dims.h, dims.w) : 0;
      const order = dims
        ? dctOrder(dims, Math.max(1, Math.round(o.freqFraction * side)), Math.max(1, Math.round(o.strideFraction * side)), rng)
        : rng.permutation(b.size);
      return simbaSearch({
        x: rowOf(b.x, b.size, i),
        cls: b.classes[i] as number,
        targeted: b.targeted,
        order,
        direction: dims ? (index) => dctBasis(dims, index) : () => 1,
        bounds: ctx.bounds,
        stepSize: o.stepSize,
        maxQueries: o.maxQueries,
        earlyStop: o.earlyStop,
        used,
      });
    });
  },
});

/**
 * Options of {@link simba} (each optional; see its option table).
 *
 * @public
 */
export type SimbaOptions = FactoryOptions<typeof simba>;
