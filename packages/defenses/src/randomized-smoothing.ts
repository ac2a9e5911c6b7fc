import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, checkInteger, deriveSeed, option, resolveOptions, Rng, validateInput, type AnyModel, type OptionsInput } from '@advx/core';
import { forEachChunk } from '@advx/core/plugin';

import { binomialTestHalf, clopperPearsonLower, normalQuantile } from './internal/stats.js';

/**
 * The class returned for a sample on which the smoothed classifier abstains.
 *
 * @public
 */
export const ABSTAIN = -1;

const SMOOTH_OPTIONS = {
  sigma: option.number(undefined, 'standard deviation σ of the isotropic Gaussian noise, in input units', { min: 0, above: true }),
  batchSize: option.integer(1000, 'noisy copies evaluated per forward pass (results do not depend on it)', { min: 1 }),
};

const SMOOTH_PREDICT_OPTIONS = {
  n: option.integer(100_000, "noise samples per input (100,000: the paper's)", { min: 1 }),
  alpha: option.number(0.001, 'failure probability α of the binomial test', { min: 0, max: 1, above: true, below: true }),
  seed: option.number(0, 'seed of the noise: sample i of the batch draws from its own stream'),
};

const CERTIFY_OPTIONS = {
  n0: option.integer(100, 'noise samples used to select the top class', { min: 1 }),
  n: option.integer(100_000, 'noise samples used to estimate its probability', { min: 1 }),
  alpha: option.number(0.001, 'failure probability α of the certificate', { min: 0, max: 1, above: true, below: true }),
  seed: option.number(0, 'seed of the noise: sample i of the batch draws from its own streams'),
};

/**
 * Options of {@link smooth}: `sigma` (required, > 0), `batchSize` (1000).
 *
 * @public
 */
export type SmoothOptions = OptionsInput<typeof SMOOTH_OPTIONS>;

/**
 * Options of {@link SmoothedClassifier.predict} (`n` 100,000, `alpha` 0.001, `seed` 0).
 *
 * @public
 */
export type SmoothPredictOptions = OptionsInput<typeof SMOOTH_PREDICT_OPTIONS>;

/**
 * Options of {@link SmoothedClassifier.certify} (`n0` 100, `n` 100,000, `alpha` 0.001, `seed` 0).
 *
 * @public
 */
export type CertifyOptions = OptionsInput<typeof CERTIFY_OPTIONS>;

/**
 * Result of {@link SmoothedClassifier.certify}, one entry per sample.
 *
 * @public
 */
export interface Certification {
  /** Certified class, or {@link ABSTAIN}. */
  readonly classes: Int32Array;
  /** Certified L2 radius `σ·Φ⁻¹(pA)` (0 where the classifier abstains). */
  readonly radii: Float64Array;
  /** One-sided Clopper–Pearson lower confidence bound `pA` on the top class's probability under noise. */
  readonly pALower: Float64Array;
}

/**
 * A randomized-smoothing classifier `g(x) = argmax_c P(f(x + ε) = c)`, `ε ~ N(0, σ²I)`, over a base
 * classifier `f`. It may abstain ({@link ABSTAIN}).
 *
 * @public
 */
export interface SmoothedClassifier {
  /** The base classifier. */
  readonly base: AnyModel;
  /** Noise level σ. */
  readonly sigma: number;
  /**
   * Cohen et al.'s PREDICT: the top class of `n` noisy votes, returned only when a two-sided binomial
   * test of the top two counts rejects a tie at level α (else {@link ABSTAIN}). The answer differs
   * from `g(x)` with probability at most α.
   */
  predict(x: tf.Tensor, options?: SmoothPredictOptions): Promise<Int32Array>;
  /**
   * Cohen et al.'s CERTIFY: selects the top class from `n0` votes, bounds its probability from below
   * with `n` fresh votes (Clopper–Pearson at level 1 − α) and returns it with the L2 radius
   * `σ·Φ⁻¹(pA)` when `pA > ½` (else {@link ABSTAIN}, radius 0). With probability ≥ 1 − α, `g`
   * predicts that class everywhere within the radius.
   */
  certify(x: tf.Tensor, options?: CertifyOptions): Promise<Certification>;
  /** Votes per class of `n` noisy copies of each sample: `[samples][classes]`. */
  votes(x: tf.Tensor, n: number, seed?: number): Promise<Int32Array[]>;
}

const PHASE_SELECT = 0;
const PHASE_ESTIMATE = 1;
const PHASE_PREDICT = 2;

/**
 * Randomized smoothing with an L2 certificate.
 *
 * Paper: Jeremy Cohen, Elan Rosenfeld, J. Zico Kolter (2019), "Certified Adversarial Robustness via
 * Randomized Smoothing", ICML, {@link https://arxiv.org/abs/1902.02918}.
 *
 * Threat model addressed: any L2 perturbation smaller than the certified radius, against any
 * attacker (white-box included) — a probabilistic guarantee that fails with probability ≤ α per
 * sample. Not addressed: perturbations larger than the radius (radii are small: at most
 * `σ·Φ⁻¹(α^(1/n))`, 3.81σ for n = 100,000, α = 0.001), other norms beyond what L2 implies, and
 * the base classifier's own accuracy under noise — train it with Gaussian noise of the same σ (the
 * zoo's `mnist-cnn-noise`). Known bypass: none within the radius; beyond it, attacks on the smoothed
 * classifier (Salman et al. 2019, {@link https://arxiv.org/abs/1906.04584}) succeed; an estimate
 * with too few samples gives small radii or abstains.
 *
 * Noise is not clipped to the bounds (as in the paper). Noise comes from the seeded generators of
 * `@advx/core`: sample `i` of a call uses streams derived from `(seed, i)`, so results do not depend
 * on `batchSize`.
 *
 * Options (defaults): `sigma` (required), `batchSize` (1000). `predict`: `n` (100,000), `alpha`
 * (0.001). `certify`: `n0` (100), `n` (100,000), `alpha` (0.001).
 *
 * @example
 * ```ts
 * import { loadDataset, loadModel } from '@advx/models-zoo';
 * import { ABSTAIN, smooth } from '@advx/defenses';
 *
 * const { model } = await loadModel('mnist-cnn-noise');
 * const { x } = await loadDataset('mnist', { count: 4 });
 * const g = smooth(model, { sigma: 0.25 });
 * const { classes, radii } = await g.certify(x, { n0: 100, n: 10_000, alpha: 0.001 });
 * // classes[i] === ABSTAIN, or g is certified to predict classes[i] within L2 radius radii[i]
 * ```
 * @public
 */
export function smooth(model: AnyModel, options: SmoothOptions): SmoothedClassifier {
  if (model?.kind !== 'model' && model?.kind !== 'query') {
    throw new AdvxError('INVALID_MODEL', 'smooth() needs an advx Model or QueryModel (from fromLayersModel, fromFunction, toQueryModel, ...).');
  }
  const { sigma, batchSize } = resolveOptions('smooth', SMOOTH_OPTIONS, options);
  const perSample = model.inputShape.reduce((p, s) => p * s, 1);

  /** Votes of `n` noisy copies of one sample (a `[1, ...]` tensor), noise from `rng`. */
  async function countOne(xi: tf.Tensor, n: number, rng: Rng): Promise<Int32Array> {
    const counts = new Int32Array(model.numClasses);
    for (let done = 0; done < n; done += batchSize) {
      const b = Math.min(batchSize, n - done);
      const noise = new Float32Array(b * perSample);
      for (let k = 0; k < noise.length; k++) noise[k] = sigma * rng.normal();
      const noisy = tf.tidy(() => tf.add(xi, tf.tensor(noise, [b, ...model.inputShape])));
      let scores: tf.Tensor2D;
      try {
        scores = model.kind === 'query' ? await model.query(noisy) : tf.tidy(() => model.logits(noisy));
      } finally {
        noisy.dispose();
      }
      const pred = tf.tidy(() => tf.argMax(scores, 1));
      scores.dispose();
      const labels = await pred.data();
      pred.dispose();
      for (const c of labels) (counts[c] as number)++;
    }
    return counts;
  }

  /** Votes per sample for one phase. */
  async function countAll(x: tf.Tensor, n: number, seed: number, phase: number): Promise<Int32Array[]> {
    const rows: Int32Array[] = [];
    await forEachChunk(x, 1, async (xi, i) => {
      rows.push(await countOne(xi, n, new Rng(deriveSeed(seed, i, phase))));
    });
    return rows;
  }

  const top2 = (counts: Int32Array): [number, number] => {
    let a = 0;
    for (let c = 1; c < counts.length; c++) if ((counts[c] as number) > (counts[a] as number)) a = c;
    let b = a === 0 ? 1 : 0;
    for (let c = 0; c < counts.length; c++) if (c !== a && (counts[c] as number) > (counts[b] as number)) b = c;
    return [a, b];
  };

  return Object.freeze({
    base: model,
    sigma,
    async votes(x: tf.Tensor, n: number, seed = 0) {
      checkInteger('smooth.votes: n', n, 1);
      await validateInput(model, x);
      return countAll(x, n, seed, PHASE_PREDICT);
    },
    async predict(x: tf.Tensor, opts: SmoothPredictOptions = {}) {
      const { n, alpha, seed } = resolveOptions('smooth.predict', SMOOTH_PREDICT_OPTIONS, opts);
      await validateInput(model, x);
      const rows = await countAll(x, n, seed, PHASE_PREDICT);
      return Int32Array.from(rows, (counts) => {
        const [a, b] = top2(counts);
        const nA = counts[a] as number;
        return binomialTestHalf(nA, nA + (counts[b] as number)) <= alpha ? a : ABSTAIN;
      });
    },
    async certify(x: tf.Tensor, opts: CertifyOptions = {}) {
      const { n0, n, alpha, seed } = resolveOptions('smooth.certify', CERTIFY_OPTIONS, opts);
      await validateInput(model, x);
      const selection = await countAll(x, n0, seed, PHASE_SELECT);
      const estimate = await countAll(x, n, seed, PHASE_ESTIMATE);
      const m = selection.length;
      const classes = new Int32Array(m);
      const radii = new Float64Array(m);
      const pALower = new Float64Array(m);
      for (let i = 0; i < m; i++) {
        const [cA] = top2(selection[i] as Int32Array);
        const pA = clopperPearsonLower((estimate[i] as Int32Array)[cA] as number, n, alpha);
        pALower[i] = pA;
        if (pA > 0.5) {
          classes[i] = cA;
          radii[i] = sigma * normalQuantile(pA);
        } else {
          classes[i] = ABSTAIN;
        }
      }
      return { classes, radii, pALower };
    },
  });
}
