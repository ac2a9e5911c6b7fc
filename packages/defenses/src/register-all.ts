/**
 * Registers every defense of `@advx/defenses` in the `@advx/core` registry (for the command line, the
 * docs tables and the conformance suites). Application code should import factories directly.
 *
 * @packageDocumentation
 */
import { registerDefense } from '@advx/core';

import { adversarialTraining } from './adversarial-training.js';
import { bitDepth } from './bit-depth.js';
import { withBoundedLeakyReLU } from './bounded-leaky-relu.js';
import { defensiveDistillation } from './defensive-distillation.js';
import { gaussianNoise } from './gaussian-noise.js';
import { jpegCompression } from './jpeg-compression.js';
import { medianSmoothing } from './median-smoothing.js';
import { smooth } from './randomized-smoothing.js';
import { reverseSigmoid } from './reverse-sigmoid.js';
import { roundOutput } from './round-output.js';
import { topOne } from './top-one.js';

/** The core registry types factories as `(options?) => defense`; some take required options or a model first. */
const asFactory = (factory: unknown) => factory as (options?: never) => unknown;

const XU = 'Xu, Evans & Qi (2018), "Feature Squeezing: Detecting Adversarial Examples in Deep Neural Networks", https://arxiv.org/abs/1704.01155';

registerDefense(
  {
    name: 'bit-depth',
    kind: 'preprocessor',
    paper: XU,
    caveat: 'Removes perturbations that cross no rounding threshold; bypassed by BPDA (identity backward pass), which it declares.',
  },
  bitDepth,
);
registerDefense(
  { name: 'median-smoothing', kind: 'preprocessor', paper: XU, caveat: 'Removes sparse (L0) perturbations; bypassed by attacking through its exact gradient.' },
  medianSmoothing,
);
registerDefense(
  {
    name: 'randomized-smoothing',
    kind: 'smoothing',
    paper: 'Cohen, Rosenfeld & Kolter (2019), "Certified Adversarial Robustness via Randomized Smoothing", https://arxiv.org/abs/1902.02918',
    caveat:
      'Certifies L2 robustness within a small radius with probability 1 − α; no bypass inside the radius, attacks on the smoothed classifier succeed beyond it.',
  },
  asFactory(smooth),
);
registerDefense(
  {
    name: 'adversarial-training',
    kind: 'trainer',
    paper:
      'Madry et al. (2018), https://arxiv.org/abs/1706.06083; Wong, Rice & Kolter (2020), https://arxiv.org/abs/2001.03994; Goodfellow, Shlens & Szegedy (2015), https://arxiv.org/abs/1412.6572',
    caveat:
      'Empirical robustness within the training epsilon and norm; bypassed by larger or other perturbations, and by PGD when a weak training attack overfits (catastrophic overfitting).',
  },
  asFactory(adversarialTraining),
);
registerDefense(
  {
    name: 'defensive-distillation',
    kind: 'trainer',
    paper:
      'Papernot, McDaniel, Wu, Jha & Swami (2016), "Distillation as a Defense to Adversarial Perturbations against Deep Neural Networks", https://arxiv.org/abs/1511.04508',
    caveat: 'Masks the gradients of softmax/cross-entropy attacks (FGSM, PGD-CE); bypassed by attacks on the logits such as C&W-L2 (Carlini & Wagner 2016).',
  },
  defensiveDistillation,
);
registerDefense(
  {
    name: 'jpeg-compression',
    kind: 'preprocessor',
    paper: 'Guo, Rana, Cisse & van der Maaten (2018), "Countering Adversarial Images using Input Transformations", https://arxiv.org/abs/1711.00117',
    caveat: 'Quantizes away small high-frequency perturbations of oblivious attacks; bypassed by BPDA (identity backward pass), which it declares.',
  },
  jpegCompression,
);
registerDefense(
  {
    name: 'gaussian-noise',
    kind: 'preprocessor',
    paper: 'Zantedeschi, Nicolae & Rawat (2017), "Efficient Defenses Against Adversarial Attacks", https://arxiv.org/abs/1707.06728',
    caveat: 'Randomizes the forward pass against perturbations tuned to one deterministic pass; bypassed by expectation over transformation (EOT).',
  },
  asFactory(gaussianNoise),
);
registerDefense(
  {
    name: 'bounded-leaky-relu',
    kind: 'layer',
    paper:
      'Liew, Khalil-Hani & Bakhteri (2016), "Bounded activation functions for enhanced training stability of deep neural networks on visual pattern recognition problems", https://doi.org/10.1016/j.neucom.2016.08.037',
    caveat:
      'Meant to bound the activations that localized patches inflate; bypassed by white-box patches and stickers optimised against the BL-ReLU model, which succeed about as often as on the ReLU model (measured on MNIST, defenses README), and by dense perturbations.',
  },
  asFactory(withBoundedLeakyReLU),
);
const TRAMER = 'Tramèr, Zhang, Juels, Reiter & Ristenpart (2016), "Stealing Machine Learning Models via Prediction APIs", https://arxiv.org/abs/1609.02943';
registerDefense(
  {
    name: 'round-output',
    kind: 'postprocessor',
    paper: TRAMER,
    caveat: 'Coarsens released scores against extraction; bypassed by decision-based attacks, which need only the label.',
  },
  roundOutput,
);
registerDefense(
  {
    name: 'top-one',
    kind: 'postprocessor',
    paper: TRAMER,
    caveat: 'Releases only the label against score-based attacks; bypassed by decision-based attacks (Boundary, HopSkipJump).',
  },
  topOne,
);
registerDefense(
  {
    name: 'reverse-sigmoid',
    kind: 'postprocessor',
    paper:
      'Lee, Edwards, Molloy & Su (2019), "Defending Against Neural Network Model Stealing Attacks Using Deceptive Perturbations", https://arxiv.org/abs/1806.00054',
    caveat: 'Deceptively perturbs released scores against extraction; bypassed by label-only extraction and decision-based attacks.',
  },
  reverseSigmoid,
);
