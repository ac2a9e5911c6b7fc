/**
 * `@advx/defenses`: defenses for TensorFlow.js models on the advx core — input preprocessors with
 * declared gradients (so attacks through `defend()` are honest, BPDA where a transform is not
 * differentiable) — randomized smoothing with certified L2 radii, adversarial training and
 * defensive distillation trainers, the bounded leaky ReLU layer and output postprocessors.
 *
 * Every defense documents the threat model it addresses, the one it does not, and its known bypass.
 *
 * @packageDocumentation
 */
export { adversarialTraining, type AdversarialTrainingOptions } from './adversarial-training.js';
export { bitDepth, type BitDepthOptions } from './bit-depth.js';
export { BoundedLeakyReLU, boundedLeakyRelu, withBoundedLeakyReLU, type BoundedLeakyReLUArgs } from './bounded-leaky-relu.js';
export { defensiveDistillation, type DefensiveDistillationOptions, type DistillationResult, type DistillationTrainer } from './defensive-distillation.js';
export type { EarlyStopping, RobustEvaluation, TrainingOptions } from './internal/training-options.js';
export { gaussianNoise, type GaussianNoiseOptions } from './gaussian-noise.js';
export { jpegCompression, type JpegCompressionOptions } from './jpeg-compression.js';
export { medianSmoothing, type MedianSmoothingOptions } from './median-smoothing.js';
export { postprocess, type Postprocessor } from './postprocess.js';
export {
  ABSTAIN,
  smooth,
  type Certification,
  type CertifyOptions,
  type SmoothedClassifier,
  type SmoothOptions,
  type SmoothPredictOptions,
} from './randomized-smoothing.js';
export { reverseSigmoid, type ReverseSigmoidOptions } from './reverse-sigmoid.js';
export { roundOutput, type RoundOutputOptions } from './round-output.js';
export { topOne } from './top-one.js';
