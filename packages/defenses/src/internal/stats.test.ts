import { describe, expect, it } from 'vitest';

import { betaQuantile, binomialTestHalf, clopperPearsonLower, normalQuantile, regularizedBeta } from './stats.js';

// References from SciPy 1.17 (scipy.stats.norm.ppf, beta.ppf, binomtest(...).pvalue).
describe('certification statistics', () => {
  it('normal quantile', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 8);
    expect(normalQuantile(0.6)).toBeCloseTo(0.2533471031357997, 8);
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 7);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0)).toBe(-Infinity);
  });
  it('incomplete beta and Beta quantiles', () => {
    expect(regularizedBeta(0.5, 2, 2)).toBeCloseTo(0.5, 12);
    // I_x(1, 1) = x; I_x(a, 1) = x^a.
    expect(regularizedBeta(0.3, 1, 1)).toBeCloseTo(0.3, 12);
    expect(regularizedBeta(0.9, 5, 1)).toBeCloseTo(0.9 ** 5, 12);
    expect(betaQuantile(0.001, 90, 11)).toBeCloseTo(0.7753298801677749, 9);
    expect(betaQuantile(0.001, 990, 11)).toBeCloseTo(0.9760361871553114, 9);
    expect(betaQuantile(0.05, 7, 4)).toBeCloseTo(0.39337578389458766, 9);
  });
  it('Clopper–Pearson lower bound: k = n gives α^(1/n); k = 0 gives 0', () => {
    expect(clopperPearsonLower(100000, 100000, 0.001)).toBeCloseTo(0.001 ** (1 / 100000), 12);
    expect(clopperPearsonLower(0, 10, 0.05)).toBe(0);
  });
  it('two-sided binomial test at ½', () => {
    expect(binomialTestHalf(60, 100)).toBeCloseTo(0.05688793364098089, 10);
    expect(binomialTestHalf(55, 100)).toBeCloseTo(0.36820161732669615, 10);
    expect(binomialTestHalf(10, 10)).toBeCloseTo(0.001953125, 12);
    expect(binomialTestHalf(3, 10)).toBeCloseTo(0.34375, 10);
    expect(binomialTestHalf(5, 10)).toBe(1);
  });
});
