import type { Inspection, Inspector, LabeledData, Model } from '@advx/core';

import type { FeatureFn, InspectorOptionsBase } from './internal/activations.js';
import { flagPerClass, inspectData, removalCount } from './internal/activations.js';
import { checkKnownOptions } from './internal/checks.js';
import { covariance, dot, mean, symmetricEigen } from './internal/linalg.js';

/**
 * Options of {@link spectralSignatures}.
 *
 * @public
 */
export interface SpectralSignaturesOptions extends InspectorOptionsBase {
  /** Features to inspect, `x → [n, d]` (default: logits; pass penultimate activations, see {@link layerFeatures}). */
  readonly features?: FeatureFn;
  /** Expected fraction ε of poisoned samples in a class, in (0, 0.5) (default 0.05). */
  readonly poisonFraction?: number;
  /** Flag the ⌈removalFactor·ε·n_c⌉ highest scores of each class (default 1.5, as in the paper). */
  readonly removalFactor?: number;
}

const OPTIONS = ['features', 'batchSize', 'poisonFraction', 'removalFactor'];

/**
 * Spectral signatures: for each class, the features of its samples are centred and projected on
 * their top singular vector; the outlier score is the squared projection. Poisoned samples share a
 * direction of large variance (the backdoor), so they score highest; the ⌈1.5·ε·n_c⌉ top scores of
 * every class are flagged. Scores are divided by their class mean (the top eigenvalue), so they can
 * be compared across classes.
 *
 * Paper: Brandon Tran, Jerry Li, Aleksander Madry (2018), "Spectral Signatures in Backdoor Attacks",
 * NeurIPS, {@link https://arxiv.org/abs/1811.00636}.
 *
 * Threat model: dataset inspection of a model trained on possibly poisoned data (white-box features).
 *
 * Options (defaults): `features` (logits), `poisonFraction` ε (0.05), `removalFactor` (1.5), `batchSize` (256).
 *
 * @example
 * ```ts
 * const inspector = spectralSignatures({ features: layerFeatures(layers, 'dense2'), poisonFraction: 0.1 });
 * const { scores, flagged } = await inspector.inspect(model, { x, y });
 * ```
 * @public
 */
export function spectralSignatures(options: SpectralSignaturesOptions = {}): Inspector {
  checkKnownOptions('spectralSignatures', options, OPTIONS);
  const toRemove = removalCount('spectralSignatures', options.poisonFraction ?? 0.05, options.removalFactor ?? 1.5);
  return Object.freeze({
    name: 'spectral-signatures',
    async inspect(model: Model, data: LabeledData): Promise<Inspection> {
      const { labels, features } = await inspectData('spectralSignatures', model, data, options);
      return flagPerClass(labels, toRemove, (members) => {
        const mu = mean(features, members);
        const v = symmetricEigen(covariance(features, mu, members)).vectors[0] as number[];
        return members.map((i) => dot((features[i] as number[]).map((f, j) => f - (mu[j] as number)), v) ** 2);
      });
    },
  });
}
