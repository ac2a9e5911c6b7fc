import { describe, expect, it } from 'vitest';

import { clopperPearson, regularizedBeta } from './clopper-pearson.js';

// References: scipy.stats.beta.ppf(α/2, k, n−k+1) and beta.ppf(1−α/2, k+1, n−k) (SciPy 1.10, Debian 12).
const SCIPY: readonly [number, number, number, number][] = [
  [0, 10, 0, 0.3084971078187607],
  [50, 100, 0.39832112950330095, 0.601678870496699],
  [1, 300, 8.438913231780044e-5, 0.018431252048067885],
  [299, 300, 0.9815687479519322, 0.9999156108676822],
  [7, 8, 0.47349032912479344, 0.9968402764687481],
  [300, 300, 0.9877790253057065, 1],
  [3, 1000, 0.0006190999316495713, 0.008742023238478303],
];

describe('clopperPearson', () => {
  it('matches SciPy’s beta quantiles, edge cases k = 0 and k = n included', () => {
    for (const [k, n, lo, hi] of SCIPY) {
      const [l, h] = clopperPearson(k, n);
      expect(l, `${k}/${n} lower`).toBeCloseTo(lo, 10);
      expect(h, `${k}/${n} upper`).toBeCloseTo(hi, 10);
    }
  });

  it('closed forms: k = 0 gives 1 − (α/2)^(1/n) as the upper bound; the interval holds k/n and narrows with n', () => {
    expect(clopperPearson(0, 20)[1]).toBeCloseTo(1 - 0.025 ** (1 / 20), 12);
    expect(clopperPearson(20, 20)[0]).toBeCloseTo(0.025 ** (1 / 20), 12);
    const [l1, h1] = clopperPearson(30, 100);
    const [l2, h2] = clopperPearson(300, 1000);
    expect(l1).toBeLessThan(0.3);
    expect(h1).toBeGreaterThan(0.3);
    expect(h2 - l2).toBeLessThan(h1 - l1);
    expect(regularizedBeta(0.5, 2, 2)).toBeCloseTo(0.5, 14);
    expect(regularizedBeta(0.3, 1, 1)).toBeCloseTo(0.3, 14);
  });

  it('n = 0 is [0, 1]; bad counts and confidences are refused', () => {
    expect(clopperPearson(0, 0)).toEqual([0, 1]);
    expect(() => clopperPearson(5, 4)).toThrow(/0 ≤ k ≤ n/);
    expect(() => clopperPearson(1.5, 4)).toThrow(/integers/);
    expect(() => clopperPearson(1, 4, 1)).toThrow(/confidence/);
  });
});
