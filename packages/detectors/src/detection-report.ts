import { AdvxError, option, resolveOptions, rocAuc, type OptionsInput } from '@advx/core';

import { thresholdAtFpr } from './internal/threshold.js';

const DETECTION_REPORT_OPTIONS = {
  falsePositiveRate: option.number(0.05, 'target false-positive rate: the threshold lets at most this fraction of the clean scores above it', {
    min: 0,
    max: 1,
    above: true,
    below: true,
  }),
};

/**
 * Options of {@link detectionReport}.
 *
 * @public
 */
export type DetectionReportOptions = OptionsInput<typeof DETECTION_REPORT_OPTIONS>;

/**
 * How well a detector's scores separate clean from adversarial samples: see {@link detectionReport}.
 *
 * @public
 */
export interface DetectionReport {
  /** Area under the ROC curve (0.5: chance, 1: perfect). */
  readonly auc: number;
  /** Threshold set on the clean scores: a sample is flagged when its score is > threshold. */
  readonly threshold: number;
  /** Fraction of clean scores above the threshold (≤ the target). */
  readonly falsePositiveRate: number;
  /** Fraction of adversarial scores above the threshold (true-positive rate). */
  readonly detectionRate: number;
}

/**
 * ROC-AUC and the detection rate at a target false-positive rate, from a detector's scores on clean
 * and on adversarial samples: the threshold is the smallest clean score with at most
 * `falsePositiveRate` of the clean scores above it.
 *
 * @param clean - scores of clean samples (negatives).
 * @param adversarial - scores of adversarial samples (positives).
 * @param options - `falsePositiveRate` in (0, 1) (default 0.05).
 * @throws AdvxError `INVALID_SHAPE` for empty or non-finite scores, `INVALID_OPTION` for a bad rate.
 * @example
 * ```ts
 * const r = detectionReport([0.1, 0.2, 0.3], [0.9, 0.25], { falsePositiveRate: 0.34 });
 * // r.threshold 0.2, r.detectionRate 1, r.falsePositiveRate 1/3, r.auc 5/6
 * ```
 * @public
 */
export function detectionReport(clean: ArrayLike<number>, adversarial: ArrayLike<number>, options: DetectionReportOptions = {}): DetectionReport {
  const { falsePositiveRate: fpr } = resolveOptions('detectionReport', DETECTION_REPORT_OPTIONS, options);
  for (const [name, s] of [
    ['clean', clean],
    ['adversarial', adversarial],
  ] as const) {
    if (!s || s.length === 0 || Array.from(s).some((v) => !Number.isFinite(v))) {
      throw new AdvxError('INVALID_SHAPE', `detectionReport: ${name} scores must be a non-empty list of finite numbers.`);
    }
  }
  const threshold = thresholdAtFpr(clean, fpr);
  const above = (s: ArrayLike<number>) => Array.from(s).filter((v) => v > threshold).length / s.length;
  return { auc: rocAuc(clean, adversarial), threshold, falsePositiveRate: above(clean), detectionRate: above(adversarial) };
}
