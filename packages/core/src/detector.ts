import type * as tf from '@tensorflow/tfjs-core';

import type { LabeledData } from './defense.js';
import type { AnyModel, Model } from './model.js';
import { createRegistry } from './registry.js';

/**
 * An input detector: scores each sample, higher = more suspicious (adversarial). Detectors that
 * need calibration implement `fit` on clean data and throw `NOT_FITTED` from `score` before it.
 *
 * @public
 */
export interface Detector {
  /** Registry name, kebab-case. */
  readonly name: string;
  /** Whether `fit` must be called before `score`. */
  readonly needsFit: boolean;
  /** Calibrates on clean data (e.g. a threshold at a target false-positive rate). */
  fit?(model: AnyModel, clean: tf.Tensor, options?: { seed?: number }): Promise<void>;
  /** One suspicion score per sample of `x`. */
  score(model: AnyModel, x: tf.Tensor, options?: { seed?: number }): Promise<Float32Array>;
}

/**
 * The result of a dataset {@link Inspector}.
 *
 * @public
 */
export interface Inspection {
  /** One suspicion score per sample (higher = more likely poisoned). */
  readonly scores: Float32Array;
  /** Indices flagged as suspicious, most suspicious first. */
  readonly flagged: Int32Array;
}

/**
 * A dataset inspector: finds poisoned (e.g. backdoored) samples in a labelled training set.
 *
 * @public
 */
export interface Inspector {
  /** Registry name, kebab-case. */
  readonly name: string;
  /** Inspects `data` through `model` (usually its penultimate-layer activations). */
  inspect(model: Model, data: LabeledData, options?: { seed?: number }): Promise<Inspection>;
}

/**
 * Static description of a detector or inspector in the registry.
 *
 * @public
 */
export interface DetectorMeta {
  /** Registry name, kebab-case. */
  readonly name: string;
  /** `input` detectors score inputs; `dataset` inspectors flag training samples. */
  readonly kind: 'input' | 'dataset' | 'explanation';
  /** Paper reference. */
  readonly paper?: string;
}

const detectors = createRegistry<DetectorMeta, (options?: never) => unknown>('detector');

/**
 * Registers a detector, inspector or explanation factory.
 *
 * @public
 */
export function registerDetector(meta: DetectorMeta, factory: (options?: never) => unknown): void {
  detectors.register(meta, factory);
}

/**
 * The registered detector factory named `name`; throws `UNKNOWN_NAME`.
 *
 * @public
 */
export function getDetector(name: string): (options?: never) => unknown {
  return detectors.get(name).factory;
}

/**
 * Metadata of every registered detector, sorted by name.
 *
 * @public
 */
export function listDetectors(): DetectorMeta[] {
  return detectors.list();
}
