import { describe, expect, it } from 'vitest';

import { checkEstimatorAttack, cosineToTruth, estimateQuadratic, quadraticGradient } from '../test/estimator-checks.js';

import { nes } from './nes.js';

describe('nes', () => {
  it('conformance, query accounting and query-only access', async () => {
    await checkEstimatorAttack((o) => nes({ ...o, samples: 10, delta: 0.01, relStepSize: 0.25 }), 1 + 2 * 10);
  });

  it('estimates the gradient of a quadratic: cosine ≥ 0.97 with 2,000 antithetic pairs; the mean of 20 estimates is within 5 %', () => {
    expect(cosineToTruth(estimateQuadratic('nes', 2000, 0.01))).toBeGreaterThanOrEqual(0.97);
    const mean = new Float64Array(quadraticGradient.length);
    for (let s = 0; s < 20; s++) estimateQuadratic('nes', 500, 0.01, s).forEach((g, i) => (mean[i] = (mean[i] as number) + g / 20));
    const norm = Math.hypot(...quadraticGradient);
    quadraticGradient.forEach((t, i) => expect(Math.abs((mean[i] as number) - t)).toBeLessThan(0.05 * norm));
  });
});
