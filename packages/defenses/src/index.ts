/**
 * `@advx/defenses`: defenses for TensorFlow.js models on the advx core — input preprocessors with
 * declared gradients (so attacks through `defend()` are honest, BPDA where a transform is not
 * differentiable).
 *
 * Every defense documents the threat model it addresses, the one it does not, and its known bypass.
 *
 * @packageDocumentation
 */
export { bitDepth, type BitDepthOptions } from './bit-depth.js';
export { medianSmoothing, type MedianSmoothingOptions } from './median-smoothing.js';
