/**
 * `@advx/detectors`: adversarial-input detectors (feature squeezing, consistency under occlusion,
 * hardness), dataset inspectors for backdoor poisoning (spectral signatures, SPECTRE-style robust
 * covariance, activation clustering) with a BadNets poisoning generator, and explanations
 * (gradient saliency with SmoothGrad, occlusion maps, heat-map PNGs).
 *
 * @packageDocumentation
 */
export { badNets, stampTrigger, type BadNetsOptions, type PoisonedData, type TriggerOptions } from './badnets.js';
export { activationClustering, type ActivationClusteringOptions } from './activation-clustering.js';
export { detectionReport, type DetectionReport, type DetectionReportOptions } from './detection-report.js';
export { featureSqueezing, type FeatureSqueezingDetector, type FeatureSqueezingOptions } from './feature-squeezing.js';
export { hardness, hardnessDetector, type HardnessOptions } from './hardness.js';
export type { FeatureFn } from './internal/activations.js';
export { layerFeatures } from './layer-features.js';
export { occlusionConsistency, type OcclusionConsistencyOptions } from './occlusion-consistency.js';
export { occlusionMap, type OcclusionMapOptions } from './occlusion-map.js';
export { renderHeatmapPng, type HeatmapPngOptions } from './render-heatmap-png.js';
export { saliencyMap, type SaliencyMapOptions, type SmoothGradOptions } from './saliency-map.js';
export { spectralSignatures, type SpectralSignaturesOptions } from './spectral-signatures.js';
export { spectre, type SpectreOptions } from './spectre.js';
