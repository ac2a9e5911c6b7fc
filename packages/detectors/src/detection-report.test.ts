import { describe, expect, it } from 'vitest';

import { detectionReport } from './detection-report.js';

describe('detectionReport', () => {
  it('computes the threshold, rates and ROC-AUC by hand', () => {
    const r = detectionReport([0.1, 0.2, 0.3], [0.9, 0.25], { falsePositiveRate: 0.34 });
    expect(r.threshold).toBe(0.2);
    expect(r.falsePositiveRate).toBeCloseTo(1 / 3, 10);
    expect(r.detectionRate).toBe(1);
    expect(r.auc).toBeCloseTo(5 / 6, 10);
    const strict = detectionReport([0.1, 0.2, 0.3], [0.9, 0.25]);
    expect(strict.threshold).toBeCloseTo(0.3, 6);
    expect(strict.falsePositiveRate).toBe(0);
    expect(strict.detectionRate).toBe(0.5);
  });
  it('rejects empty or non-finite scores and bad rates', () => {
    expect(() => detectionReport([], [1])).toThrowError(/INVALID_SHAPE/);
    expect(() => detectionReport([0, NaN], [1])).toThrowError(/INVALID_SHAPE/);
    expect(() => detectionReport([0], [1], { falsePositiveRate: 0 })).toThrowError(/INVALID_OPTION/);
  });
});
