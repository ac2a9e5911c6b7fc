/**
 * `@advx/detectors`: adversarial-input detectors (feature squeezing, consistency under occlusion,
 * hardness), dataset inspectors for backdoor poisoning (spectral signatures, SPECTRE-style robust
 * covariance, activation clustering) with a BadNets poisoning generator, and explanations
 * (gradient saliency with SmoothGrad, occlusion maps, heat-map PNGs).
 *
 * @packageDocumentation
 */
export { badNets, stampTrigger, type BadNetsOptions, type PoisonedData, type TriggerOptions } from './badnets.js';
export { occlusionMap, type OcclusionMapOptions } from './occlusion-map.js';
export { renderHeatmapPng, type HeatmapPngOptions } from './render-heatmap-png.js';
export { saliencyMap, type SaliencyMapOptions, type SmoothGradOptions } from './saliency-map.js';
