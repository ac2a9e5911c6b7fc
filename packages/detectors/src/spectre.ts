import { defineFactory, option, type Inspection, type Inspector, type LabeledData, type Model, type FactoryOptions } from '@advx/core';

import { flagPerClass, INSPECTOR_OPTIONS, inspectData, REMOVAL_OPTIONS, removalCount } from './internal/activations.js';
import { covariance, dot, mean, pca, symmetricEigen } from './internal/linalg.js';

const SPECTRE_OPTIONS = {
  ...INSPECTOR_OPTIONS,
  ...REMOVAL_OPTIONS,
  dims: option.integer(32, 'PCA dimensions kept before the robust estimate (at most n_c − 1 and d)', { min: 1 }),
  scoring: option.oneOf(['que', 'top-direction'], 'que', "'que': quantum entropy score; 'top-direction': squared projection on the top whitened direction"),
  alpha: option.number(4, "QUE's α (0 gives the Mahalanobis norm, large α the top direction)", { min: 0 }),
  robustSteps: option.integer(20, 'concentration steps of the robust estimate', { min: 1 }),
};

/** Squared Mahalanobis distance of every row from (mu, Σ) given Σ's eigen-decomposition. */
function mahalanobis(x: readonly (readonly number[])[], mu: readonly number[], values: readonly number[], vectors: readonly (readonly number[])[]): number[] {
  const floor = Math.max(values[0] ?? 0, 1e-12) * 1e-6;
  return x.map((r) => {
    const c = r.map((v, j) => v - (mu[j] as number));
    return vectors.reduce((s, u, k) => s + dot(c, u as number[]) ** 2 / Math.max(values[k] as number, floor), 0);
  });
}

/**
 * SPECTRE-style robust-covariance inspector: per class, the features are reduced by PCA, a robust
 * mean and covariance are estimated on the cleanest `(1 − 1.5ε)` fraction (concentration steps of
 * the minimum-covariance-determinant estimator, Rousseeuw & Van Driessen 1999: fit, keep the rows
 * with the smallest Mahalanobis distance, refit, until the subset is stable), the data are whitened
 * with that estimate (the clean samples become isotropic, so the poison's direction stands out even
 * when its raw variance is small), and each sample is scored by the QUantum Entropy score of the
 * whitened covariance Σ̃, `τᵢ = x̃ᵢᵀ Q x̃ᵢ / tr Q` with `Q = exp(α (Σ̃ − I)/(‖Σ̃‖₂ − 1))`, or by its
 * squared projection on Σ̃'s top direction. The ⌈1.5·ε·n_c⌉ top scores of each class are flagged;
 * scores are divided by their class mean.
 *
 * Paper: Jonathan Hayase, Weihao Kong, Raghav Somani, Sewoong Oh (2021), "SPECTRE: Defending
 * Against Backdoor Attacks Using Robust Statistics", ICML, {@link https://arxiv.org/abs/2104.11315}.
 * The robust estimate here is a trimmed (MCD concentration) estimate, not the paper's filter.
 *
 * Threat model: dataset inspection of a model trained on possibly poisoned data (white-box features).
 *
 * Options: {@link spectre}.schema (each declared once, with its default, range and doc).
 *
 * <!-- options:spectre -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `features` | a function x → [n, d] | null | features to inspect, x → [n, d] (or any shape, flattened per sample): the paper's choice is the model's penultimate-layer activations, e.g. layerFeatures(layersModel, 'dense2') (none: the model's logits (weaker: a backdoor is usually far clearer in the penultimate layer)) |
 * | `batchSize` | integer in [1, ∞) | 256 | samples per forward pass |
 * | `poisonFraction` | number in (0, 0.5) | 0.05 | expected fraction ε of poisoned samples in a class |
 * | `removalFactor` | number in (0, ∞) | 1.5 | flag the ⌈removalFactor·ε·n_c⌉ highest scores of each class (1.5: as in the paper) |
 * | `dims` | integer in [1, ∞) | 32 | PCA dimensions kept before the robust estimate (at most n_c − 1 and d) |
 * | `scoring` | 'que' \| 'top-direction' | 'que' | 'que': quantum entropy score; 'top-direction': squared projection on the top whitened direction |
 * | `alpha` | number in [0, ∞) | 4 | QUE's α (0 gives the Mahalanobis norm, large α the top direction) |
 * | `robustSteps` | integer in [1, ∞) | 20 | concentration steps of the robust estimate |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * const inspector = spectre({ features: layerFeatures(layers, 'dense2'), poisonFraction: 0.1 });
 * const { flagged } = await inspector.inspect(model, { x, y });
 * ```
 * @public
 */
export const spectre = defineFactory('spectre', SPECTRE_OPTIONS, (options): Inspector => {
  const toRemove = removalCount(options.poisonFraction, options.removalFactor);
  const { dims, alpha, robustSteps: steps, scoring } = options;
  return Object.freeze({
    name: 'spectre',
    async inspect(model: Model, data: LabeledData): Promise<Inspection> {
      const { labels, features } = await inspectData('spectre', model, data, options);
      return flagPerClass(labels, toRemove, (members) => {
        const k = Math.max(1, Math.min(dims, members.length - 1, features[0]?.length ?? 1));
        const z = pca(
          members.map((i) => features[i] as number[]),
          k,
        );
        const keep = Math.max(k + 1, members.length - toRemove(members.length));
        let subset = z.map((_, i) => i);
        let mu = mean(z);
        let eig = symmetricEigen(covariance(z, mu));
        for (let s = 0; s < steps && keep < z.length; s++) {
          const d = mahalanobis(z, mu, eig.values, eig.vectors);
          const next = d
            .map((_, i) => i)
            .sort((a, b) => (d[a] as number) - (d[b] as number) || a - b)
            .slice(0, keep)
            .sort((a, b) => a - b);
          if (next.length === subset.length && next.every((v, i) => v === subset[i])) break;
          subset = next;
          mu = mean(z, subset);
          eig = symmetricEigen(covariance(z, mu, subset));
        }
        // Whiten with the robust estimate: x̃ = Λ^{-1/2} Uᵀ (z − μ).
        const floor = Math.max(eig.values[0] ?? 0, 1e-12) * 1e-6;
        const white = z.map((r) => {
          const c = r.map((v, j) => v - (mu[j] as number));
          return eig.vectors.map((u, j) => dot(c, u) / Math.sqrt(Math.max(eig.values[j] as number, floor)));
        });
        const w = symmetricEigen(covariance(white, new Array<number>(k).fill(0)));
        const top = w.values[0] as number;
        const weights =
          scoring === 'top-direction'
            ? w.values.map((_, j) => (j === 0 ? 1 : 0))
            : w.values.map((l) => Math.exp(top > 1 + 1e-9 ? (alpha * (l - 1)) / (top - 1) : 0));
        const trace = weights.reduce((s, v) => s + v, 0);
        return white.map((r) => w.vectors.reduce((s, u, j) => s + (weights[j] as number) * dot(r, u) ** 2, 0) / trace);
      });
    },
  });
});

/**
 * Options of {@link spectre}.
 *
 * @public
 */
export type SpectreOptions = FactoryOptions<typeof spectre>;
