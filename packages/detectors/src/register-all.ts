/**
 * Registers every detector, dataset inspector and explanation of `@advx/detectors` in the
 * `@advx/core` registry (for the command line, the docs tables and the conformance suites).
 * Application code should import the factories directly.
 *
 * @packageDocumentation
 */
import { registerDetector, type DetectorMeta } from '@advx/core';

import { activationClustering } from './activation-clustering.js';
import { featureSqueezing } from './feature-squeezing.js';
import { hardnessDetector } from './hardness.js';
import { occlusionConsistency } from './occlusion-consistency.js';
import { occlusionMap } from './occlusion-map.js';
import { saliencyMap } from './saliency-map.js';
import { spectralSignatures } from './spectral-signatures.js';
import { spectre } from './spectre.js';

type Factory = Parameters<typeof registerDetector>[1];

/** Entries of this package: metadata and factory (explanations are plain functions of the model and inputs). */
const entries: ReadonlyArray<readonly [DetectorMeta, unknown]> = [
  [{ name: 'feature-squeezing', kind: 'input', paper: 'Xu, Evans & Qi (2018), "Feature Squeezing", NDSS, https://arxiv.org/abs/1704.01155' }, featureSqueezing],
  [{ name: 'occlusion-consistency', kind: 'input', paper: 'Horváth & Egervári (2018), consistency under occlusion, ICDIP' }, occlusionConsistency],
  [{ name: 'hardness', kind: 'input', paper: 'attack effort (steps or minimal perturbation) to flip a sample' }, hardnessDetector],
  [
    {
      name: 'spectral-signatures',
      kind: 'dataset',
      paper: 'Tran, Li & Madry (2018), "Spectral Signatures in Backdoor Attacks", https://arxiv.org/abs/1811.00636',
    },
    spectralSignatures,
  ],
  [{ name: 'spectre', kind: 'dataset', paper: 'Hayase, Kong, Somani & Oh (2021), "SPECTRE", ICML, https://arxiv.org/abs/2104.11315' }, spectre],
  [
    {
      name: 'activation-clustering',
      kind: 'dataset',
      paper: 'Chen et al. (2018), "Detecting Backdoor Attacks ... by Activation Clustering", https://arxiv.org/abs/1811.03728',
    },
    activationClustering,
  ],
  [
    {
      name: 'saliency-map',
      kind: 'explanation',
      paper: 'Simonyan, Vedaldi & Zisserman (2013), https://arxiv.org/abs/1312.6034; SmoothGrad: https://arxiv.org/abs/1706.03825',
    },
    saliencyMap,
  ],
  [
    {
      name: 'occlusion-map',
      kind: 'explanation',
      paper: 'Zeiler & Fergus (2014), "Visualizing and Understanding Convolutional Networks", https://arxiv.org/abs/1311.2901',
    },
    occlusionMap,
  ],
];

for (const [meta, factory] of entries) registerDetector(meta, factory as Factory);
