import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, defineFactory, option, validateInput, type AnyModel, type Detector, type Preprocessor, type FactoryOptions } from '@advx/core';
import { forEachChunk } from '@advx/core/plugin';

import { checkModel, probabilities } from './internal/checks.js';
import { thresholdAtFpr } from './internal/threshold.js';

const FEATURE_SQUEEZING_OPTIONS = {
  squeezers: option.custom<readonly Preprocessor[], undefined>(
    undefined,
    "the squeezers, core Preprocessors, e.g. bitDepth({ bits: 1 }) and medianSmoothing({ size: 2 }) of @advx/defenses (the paper's MNIST joint detector)",
    {
      type: 'a non-empty array of Preprocessors, e.g. [bitDepth({ bits: 1 }), medianSmoothing({ size: 2 })]',
      accepts: (v) => Array.isArray(v) && v.length > 0 && v.every((s) => !!s && typeof (s as Preprocessor).apply === 'function'),
    },
  ),
  falsePositiveRate: option.number(0.05, 'target false-positive rate on the clean data given to fit', { min: 0, max: 1, above: true, below: true }),
  batchSize: option.integer(256, 'samples per forward pass', { min: 1 }),
};

/**
 * The feature-squeezing detector: a {@link Detector} with its fitted threshold.
 *
 * @public
 */
export interface FeatureSqueezingDetector extends Detector {
  /** Threshold fitted by `fit` (`undefined` before): a sample is adversarial when its score is > threshold. */
  readonly threshold: number | undefined;
  /** Sets the threshold at the target false-positive rate on the clean batch `clean`. */
  fit(model: AnyModel, clean: tf.Tensor, options?: { seed?: number }): Promise<void>;
  /** `score(x) > threshold` per sample; throws `NOT_FITTED` before `fit`. */
  detect(model: AnyModel, x: tf.Tensor): Promise<boolean[]>;
}

/**
 * Feature squeezing: the score of an input is the largest L1 distance between the model's softmax
 * output on the input and on each squeezed version of it, `max_s ‖f(x) − f(s(x))‖₁` (in [0, 2]).
 * Squeezing (fewer bits per pixel, a median filter) barely changes a legitimate prediction but
 * often undoes an adversarial perturbation. `fit` sets the threshold at the target false-positive
 * rate on clean data.
 *
 * Paper: Weilin Xu, David Evans, Yanjun Qi (2018), "Feature Squeezing: Detecting Adversarial
 * Examples in Deep Neural Networks", NDSS, {@link https://arxiv.org/abs/1704.01155}. Their MNIST
 * joint detector (1-bit depth + 2×2 median) detects 98.2 % of successful adversarial examples at a
 * 5 % false-positive rate (Table 5).
 *
 * Threat model: detection of non-adaptive attacks; white-box models, or query models returning
 * scores. Known bypass: attacks that optimise through the squeezers (He et al. 2017,
 * {@link https://arxiv.org/abs/1706.04701}).
 *
 * Options: {@link featureSqueezing}.schema (each declared once, with its default, range and doc).
 *
 * <!-- options:feature-squeezing -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `squeezers` | a non-empty array of Preprocessors, e.g. [bitDepth({ bits: 1 }), medianSmoothing({ size: 2 })] | required | the squeezers, core Preprocessors, e.g. bitDepth({ bits: 1 }) and medianSmoothing({ size: 2 }) of @advx/defenses (the paper's MNIST joint detector) |
 * | `falsePositiveRate` | number in (0, 1) | 0.05 | target false-positive rate on the clean data given to fit |
 * | `batchSize` | integer in [1, ∞) | 256 | samples per forward pass |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import { bitDepth, medianSmoothing } from '@advx/defenses';
 * const detector = featureSqueezing({ squeezers: [bitDepth({ bits: 1 }), medianSmoothing({ size: 2 })] });
 * await detector.fit(model, cleanImages);           // threshold at 5 % false positives
 * const flags = await detector.detect(model, suspiciousImages);
 * ```
 * @public
 */
export const featureSqueezing = defineFactory('featureSqueezing', FEATURE_SQUEEZING_OPTIONS, (o): FeatureSqueezingDetector => {
  const { squeezers, falsePositiveRate: fpr, batchSize } = o;
  let threshold: number | undefined;

  async function scores(model: AnyModel, x: tf.Tensor): Promise<Float32Array> {
    checkModel(model, 'featureSqueezing', true);
    await validateInput(model, x);
    const out = new Float32Array(x.shape[0] as number);
    await forEachChunk(x, batchSize, async (batch, offset) => {
      const base = await probabilities(model, batch);
      let best: tf.Tensor1D | undefined;
      try {
        for (const s of squeezers) {
          const squeezed = tf.tidy(() => s.apply(batch, model.bounds));
          const p = await probabilities(model, squeezed).finally(() => squeezed.dispose());
          const d = tf.tidy(() => {
            const l1 = tf.sum(tf.abs(tf.sub(base, p)), 1) as tf.Tensor1D;
            return (best ? tf.maximum(best, l1) : l1) as tf.Tensor1D;
          });
          p.dispose();
          best?.dispose();
          best = d;
        }
        out.set(await (best as tf.Tensor1D).data(), offset);
      } finally {
        base.dispose();
        best?.dispose();
      }
    });
    return out;
  }

  async function score(model: AnyModel, x: tf.Tensor): Promise<Float32Array> {
    if (threshold === undefined) {
      throw new AdvxError('NOT_FITTED', 'featureSqueezing: call fit(model, cleanData) before score() to set the detection threshold.');
    }
    return scores(model, x);
  }

  return {
    name: 'feature-squeezing',
    needsFit: true,
    get threshold() {
      return threshold;
    },
    async fit(model: AnyModel, clean: tf.Tensor) {
      threshold = thresholdAtFpr(await scores(model, clean), fpr);
    },
    score,
    async detect(model: AnyModel, x: tf.Tensor) {
      const s = await score(model, x);
      const t = threshold as number;
      return Array.from(s, (v) => v > t);
    },
  };
});

/**
 * Options of {@link featureSqueezing}.
 *
 * @public
 */
export type FeatureSqueezingOptions = FactoryOptions<typeof featureSqueezing>;
