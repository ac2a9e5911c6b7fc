import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, defineAttack, option, type AttackContext, type FactoryOptions } from '@advx/core';

/**
 * How {@link jsma} searches the best pair of features each iteration.
 *
 * - `'js'`: a plain loop over the pairs of features still in the search domain, in float32
 *   arithmetic (`Math.fround`); the Jacobian rows are read back from the backend each iteration.
 * - `'tensor'`: batched tfjs ops on `[samples, D, D]` pair scores (as many samples per op as fit
 *   in about 4M scores, at least one: `D²` float32 per sample, 2.5 MB for MNIST), for GPU
 *   backends.
 * - `'auto'`: `'tensor'` on the GPU backends (`webgpu`, `webgl`) when `D ≤ 4096` (to bound memory),
 *   `'js'` otherwise: on `cpu` tfjs's broadcast ops are ~50× slower than the loop, and on `wasm` 30
 *   MNIST samples take 18 s with the loop against more than 300 s with the tensor search.
 *
 * Both searches pick the same pair (same float32 scores, same tie-breaking), so the choice
 * affects only speed.
 *
 * @public
 */
export type JsmaPairSearch = 'auto' | 'js' | 'tensor';

/** Pair scores per tensor op in the `'tensor'` search (4M float32 = 16 MB), at least one sample's `D²`. */
const PAIR_BUDGET = 1 << 22;
/** Backends on which `'auto'` uses the `'tensor'` search. */
const GPU_BACKENDS = ['webgpu', 'webgl'];
/** Largest `D²` for which `'auto'` uses the `'tensor'` search (`D` = 4096: 64 MB per op). */
const TENSOR_SEARCH_MAX = 1 << 24;

/**
 * Best pair per row for the rows `rows` of the flattened Jacobian rows `alpha` (target) and `beta`
 * (sum of the other classes), `[n·d]` row-major: the in-domain `p < q` maximizing
 * `(α_p + α_q)·|β_p + β_q|` with `α_p + α_q > 0` and `β_p + β_q < 0` (after multiplying both by
 * `sign`). Returns `p·d + q` per listed row, or −1 when no pair qualifies.
 */
function searchJs(alpha: Float32Array, beta: Float32Array, domain: Uint8Array, rows: readonly number[], d: number, sign: number): Int32Array {
  const out = new Int32Array(rows.length).fill(-1);
  const idx = new Int32Array(d);
  const a = new Float32Array(d);
  const b = new Float32Array(d);
  rows.forEach((row, r) => {
    const o = row * d;
    let m = 0;
    for (let j = 0; j < d; j++) {
      if (domain[o + j] === 1) {
        idx[m] = j;
        a[m] = sign * (alpha[o + j] as number);
        b[m] = sign * (beta[o + j] as number);
        m++;
      }
    }
    let best = 0;
    let code = -1;
    for (let i = 0; i < m - 1; i++) {
      const ai = a[i] as number;
      const bi = b[i] as number;
      for (let j = i + 1; j < m; j++) {
        const sa = Math.fround(ai + (a[j] as number));
        if (!(sa > 0)) continue;
        const sb = Math.fround(bi + (b[j] as number));
        if (!(sb < 0)) continue;
        const score = Math.fround(sa * -sb);
        if (score > best) {
          best = score;
          code = (idx[i] as number) * d + (idx[j] as number);
        }
      }
    }
    out[r] = code;
  });
  return out;
}

/**
 * The same search as {@link searchJs} with tfjs ops on `[k, d, d]` pair scores, `k` rows at a
 * time; `alpha`, `beta` are `[n, d]`, `domain` bool `[n, d]`, `upper` bool `[d, d]` (`q > p`).
 */
async function searchTensor(
  alpha: tf.Tensor2D,
  beta: tf.Tensor2D,
  domain: tf.Tensor2D,
  upper: tf.Tensor2D,
  rows: readonly number[],
  d: number,
  sign: number,
): Promise<Int32Array> {
  const out = new Int32Array(rows.length).fill(-1);
  const perChunk = Math.max(1, Math.floor(PAIR_BUDGET / (d * d)));
  for (let c0 = 0; c0 < rows.length; c0 += perChunk) {
    const chunk = rows.slice(c0, c0 + perChunk);
    const k = chunk.length;
    const [best, at] = tf.tidy(() => {
      const index = tf.tensor1d(chunk, 'int32');
      const inDomain = tf.gather(domain, index);
      // Features outside the domain get α = −∞ and β = +∞: every pair with one scores 0.
      const a = tf.where(inDomain, tf.mul(tf.gather(alpha, index), sign), tf.scalar(-Infinity));
      const b = tf.where(inDomain, tf.mul(tf.gather(beta, index), sign), tf.scalar(Infinity));
      const pairSum = (v: tf.Tensor) => tf.add(tf.reshape(v, [k, d, 1]), tf.reshape(v, [k, 1, d]));
      const score = tf.mul(tf.relu(pairSum(a)), tf.relu(tf.neg(pairSum(b))));
      const flat = tf.reshape(tf.where(upper, score, tf.scalar(0)), [k, d * d]);
      return [tf.max(flat, 1), tf.argMax(flat, 1)];
    });
    const scores = await best.data();
    const codes = await at.data();
    tf.dispose([best, at]);
    for (let r = 0; r < k; r++) {
      if ((scores[r] as number) > 0) out[c0 + r] = codes[r] as number;
    }
  }
  return out;
}

async function perturb(ctx: AttackContext<Required<JsmaOptions>>): Promise<tf.Tensor> {
  const { theta, gamma, pairSearch, earlyStop, others } = ctx.options;
  const model = ctx.whiteBox();
  const n = ctx.n;
  const shape = ctx.x.shape;
  const d = shape.slice(1).reduce((p, s) => p * s, 1);
  const [lo, hi] = ctx.bounds;
  const sign = theta > 0 ? 1 : -1;
  const change = theta * (hi - lo);
  const useJs = pairSearch === 'js' || (pairSearch === 'auto' && (!GPU_BACKENDS.includes(tf.getBackend()) || d * d > TENSOR_SEARCH_MAX));
  const maxIters = Math.floor((gamma * d) / 2);

  const flat = tf.reshape(ctx.x, [n, d]);
  const x = Float32Array.from((await flat.data()) as Float32Array);
  flat.dispose();
  const domain = new Uint8Array(n * d);
  x.forEach((v, j) => (domain[j] = (sign > 0 ? v < hi : v > lo) ? 1 : 0));
  const free = new Int32Array(n);
  domain.forEach((v, j) => {
    const row = Math.floor(j / d);
    free[row] = (free[row] as number) + v;
  });
  const activeFlags = await ctx.active.data();
  const done = Uint8Array.from(activeFlags, (a) => (a ? 0 : 1));
  const targetRow = tf.tidy(() => tf.oneHot(tf.cast(ctx.goal.classes, 'int32'), model.numClasses));
  const zTarget = (z: tf.Tensor2D) => tf.sum(tf.mul(z, targetRow), 1) as tf.Tensor1D;
  const zOthers =
    others === 'sum'
      ? (z: tf.Tensor2D) => tf.sub(tf.sum(z, 1), zTarget(z)) as tf.Tensor1D
      : (z: tf.Tensor2D) => tf.max(tf.where(tf.cast(targetRow, 'bool'), tf.fill(z.shape, -Infinity), z), 1) as tf.Tensor1D;
  const targets = (await ctx.goal.classes.data()) as Int32Array;
  let upper: tf.Tensor2D | undefined;

  try {
    for (let it = 0; it < maxIters; it++) {
      await ctx.checkpoint(it, maxIters);
      const jac = tf.tidy(() => {
        const xt = tf.tensor(x, shape);
        const ga = ctx.gradient(xt, zTarget);
        const gb = ctx.gradient(xt, zOthers);
        return {
          alpha: tf.reshape(ga.grad, [n, d]) as tf.Tensor2D,
          beta: tf.reshape(gb.grad, [n, d]) as tf.Tensor2D,
          pred: tf.cast(tf.argMax(ga.logits, 1), 'int32'),
        };
      });
      try {
        const pred = (await jac.pred.data()) as Int32Array;
        const rows: number[] = [];
        for (let i = 0; i < n; i++) {
          if (earlyStop && pred[i] === targets[i]) done[i] = 1;
          if ((free[i] as number) < 2) done[i] = 1;
          if (done[i] === 0) rows.push(i);
        }
        if (rows.length === 0) break;
        let pairs: Int32Array;
        if (useJs) {
          pairs = searchJs((await jac.alpha.data()) as Float32Array, (await jac.beta.data()) as Float32Array, domain, rows, d, sign);
        } else {
          const dom = tf.tensor2d(domain, [n, d], 'bool');
          try {
            upper ??= tf.tidy(() => tf.greater(tf.reshape(tf.range(0, d, 1, 'int32'), [1, d]), tf.reshape(tf.range(0, d, 1, 'int32'), [d, 1])) as tf.Tensor2D);
            pairs = await searchTensor(jac.alpha, jac.beta, dom, upper, rows, d, sign);
          } finally {
            dom.dispose();
          }
        }
        rows.forEach((i, r) => {
          const code = pairs[r] as number;
          if (code < 0) {
            done[i] = 1;
            return;
          }
          for (const f of [Math.floor(code / d), code % d]) {
            const j = i * d + f;
            x[j] = Math.min(hi, Math.max(lo, (x[j] as number) + change));
            domain[j] = 0;
          }
          free[i] = (free[i] as number) - 2;
        });
      } finally {
        tf.dispose([jac.alpha, jac.beta, jac.pred]);
      }
    }
  } finally {
    targetRow.dispose();
    upper?.dispose();
  }
  return tf.tensor(x, shape);
}

/**
 * JSMA — the Jacobian-based Saliency Map Attack (Papernot, McDaniel, Jha, Fredrikson, Celik and
 * Swami, 2016, "The Limitations of Deep Learning in Adversarial Settings",
 * https://arxiv.org/abs/1511.07528), with the paper's pairwise saliency map.
 *
 * Each iteration computes two rows of the forward derivative on the logits — `α = ∂z_t/∂x` for the
 * target `t` and `β = Σ_{j≠t} ∂z_j/∂x` — and picks, among the features still in the search
 * domain, the pair `(p, q)` maximizing `(α_p + α_q)·|β_p + β_q|` subject to `α_p + α_q > 0` and
 * `β_p + β_q < 0` (for θ < 0 the signs flip). Both features move by `theta · (high − low)`, clipped
 * to the bounds, and leave the search domain. A sample stops as soon as the model predicts its
 * target, when no pair qualifies, or after `floor(gamma · D / 2)` iterations (at most `gamma · D`
 * changed features). The search domain starts with the features that can still move (below the
 * upper bound for θ > 0, above the lower bound for θ < 0).
 *
 * The derivative is taken on the logits `z` (the paper's experiments use the last layer before the
 * softmax, as do cleverhans and Foolbox): softmax derivatives vanish when the softmax saturates.
 *
 * - Threat model: white-box (gradients of the logits); targeted goals only (`{ targets }`).
 * - Norm: `l0`, the number of changed input elements; distances are counts of changed elements.
 * - Kind: minimization. When `epsilons` are given, each is a budget of changed elements and the
 *   result is cut to the `floor(epsilon)` largest changes.
 * - Input: any shape `[n, ...inputShape]` inside the model's bounds (features are the flattened
 *   elements, channels included). Works best from dark inputs with θ = +1 (e.g. MNIST digits).
 * - Cost: two gradient passes and an O(D²) pair search per iteration (D = elements per sample).
 *   On MNIST (D = 784, at most 56 iterations at the default `gamma`) the search takes about 4 ms
 *   per sample and iteration on the `cpu` backend: under 1 s per sample for a small MLP even when
 *   the whole budget is spent.
 *
 * Inputs with `gamma · D < 2` are not changed. On the zoo's `mnist-cnn` (30 images, random
 * targets) `others: 'runner-up'` (the largest non-target logit at the current input, the class the
 * target must overtake) reaches 100 % targeted success at 4.0 % mean distortion, `'sum'` (the
 * paper) 86.7 % at 5.5 %. The two `pairSearch` implementations give the same result. With
 * `earlyStop: false` a sample keeps changing features until the `gamma` budget is spent or no pair
 * qualifies.
 *
 * Options: {@link jsma}.schema, listed by `advx list --options jsma`:
 *
 * <!-- options:jsma -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'l0' | 'l0' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `theta` | number in [-1, 1] | 1 | change applied to each chosen feature, as a fraction of the bounds' width, not 0 (the paper's θ = +1 sets features to the upper bound; negative values decrease them) |
 * | `gamma` | number in (0, 1] | 0.145 | maximum fraction of features that may be changed (the paper's Υ = 14.5 % on MNIST); at most floor(gamma · D / 2) iterations of two features each |
 * | `pairSearch` | 'auto' \| 'js' \| 'tensor' | 'auto' | implementation of the pair search (see JsmaPairSearch) |
 * | `others` | 'sum' \| 'runner-up' | 'sum' | what β differentiates: the sum of the other classes' logits (the paper), or the largest other logit only |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { jsma } from '@advx/attacks';
 *
 * const targets = tf.tensor1d([3, 3], 'int32');
 * const result = await jsma({ gamma: 0.145 }).run(model, x, { targets }, { epsilons: [10, 40] });
 * result.distances; // changed pixels per sample (Infinity where the target was not reached)
 * result.dispose();
 * ```
 * @public
 */
export const jsma = defineAttack({
  meta: {
    name: 'jsma',
    kind: 'minimization',
    norms: ['l0'],
    threat: 'white-box',
    goals: ['targeted'],
    randomized: false,
    paper:
      'Papernot, McDaniel, Jha, Fredrikson, Celik, Swami (2016). The Limitations of Deep Learning in Adversarial Settings. https://arxiv.org/abs/1511.07528',
  },
  options: {
    theta: option.number(
      1,
      "change applied to each chosen feature, as a fraction of the bounds' width, not 0 (the paper's θ = +1 sets features to the upper bound; negative values decrease them)",
      { min: -1, max: 1 },
    ),
    gamma: option.number(
      0.145,
      "maximum fraction of features that may be changed (the paper's Υ = 14.5 % on MNIST); at most floor(gamma · D / 2) iterations of two features each",
      { min: 0, max: 1, above: true },
    ),
    pairSearch: option.oneOf(['auto', 'js', 'tensor'], 'auto', 'implementation of the pair search (see JsmaPairSearch)'),
    others: option.oneOf(
      ['sum', 'runner-up'],
      'sum',
      "what β differentiates: the sum of the other classes' logits (the paper), or the largest other logit only",
    ),
  },
  check: (o) => {
    if (o.theta === 0) {
      throw new AdvxError('INVALID_OPTION', `jsma: theta must be a finite number in [-1, 1] other than 0, got ${String(o.theta)}.`, { option: 'theta' });
    }
  },
  perturb: (ctx): Promise<tf.Tensor> => perturb(ctx),
});

/**
 * Options of {@link jsma} (each optional; see its option table).
 *
 * @public
 */
export type JsmaOptions = FactoryOptions<typeof jsma>;
