import { defineFactory, type Inspection, type Inspector, type LabeledData, type Model, type FactoryOptions } from '@advx/core';

import { flagPerClass, INSPECTOR_OPTIONS, inspectData, REMOVAL_OPTIONS, removalCount } from './internal/activations.js';
import { covariance, dot, mean, symmetricEigen } from './internal/linalg.js';

const SPECTRAL_SIGNATURES_OPTIONS = { ...INSPECTOR_OPTIONS, ...REMOVAL_OPTIONS };

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
 * Options: {@link spectralSignatures}.schema (each declared once, with its default, range and doc).
 *
 * <!-- options:spectral-signatures -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `features` | a function x → [n, d] | null | features to inspect, x → [n, d] (or any shape, flattened per sample): the paper's choice is the model's penultimate-layer activations, e.g. layerFeatures(layersModel, 'dense2') (none: the model's logits (weaker: a backdoor is usually far clearer in the penultimate layer)) |
 * | `batchSize` | integer in [1, ∞) | 256 | samples per forward pass |
 * | `poisonFraction` | number in (0, 0.5) | 0.05 | expected fraction ε of poisoned samples in a class |
 * | `removalFactor` | number in (0, ∞) | 1.5 | flag the ⌈removalFactor·ε·n_c⌉ highest scores of each class (1.5: as in the paper) |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * const inspector = spectralSignatures({ features: layerFeatures(layers, 'dense2'), poisonFraction: 0.1 });
 * const { scores, flagged } = await inspector.inspect(model, { x, y });
 * ```
 * @public
 */
export const spectralSignatures = defineFactory('spectralSignatures', SPECTRAL_SIGNATURES_OPTIONS, (options): Inspector => {
  const toRemove = removalCount(options.poisonFraction, options.removalFactor);
  return Object.freeze({
    name: 'spectral-signatures',
    async inspect(model: Model, data: LabeledData): Promise<Inspection> {
      const { labels, features } = await inspectData('spectralSignatures', model, data, options);
      return flagPerClass(labels, toRemove, (members) => {
        const mu = mean(features, members);
        const v = symmetricEigen(covariance(features, mu, members)).vectors[0] as number[];
        return members.map(
          (i) =>
            dot(
              (features[i] as number[]).map((f, j) => f - (mu[j] as number)),
              v,
            ) ** 2,
        );
      });
    },
  });
});

/**
 * Options of {@link spectralSignatures}.
 *
 * @public
 */
export type SpectralSignaturesOptions = FactoryOptions<typeof spectralSignatures>;
