import { describe, expect, it } from 'vitest';

import { Rng } from '../rng.js';
import { rocAuc } from './roc-auc.js';

/** The definition, O(n·p): the fraction of (negative, positive) pairs ranked right, ties ½. */
function pairwiseAuc(negatives: readonly number[], positives: readonly number[]): number {
  let wins = 0;
  for (const q of negatives) for (const s of positives) wins += s > q ? 1 : s === q ? 0.5 : 0;
  return wins / (negatives.length * positives.length);
}

describe('rocAuc', () => {
  it('hand cases: perfect 1, reversed 0, ties 1/2, partial', () => {
    expect(rocAuc([0.1, 0.2], [0.9, 0.3])).toBe(1);
    expect(rocAuc([0.9, 0.8], [0.1, 0.2])).toBe(0);
    expect(rocAuc([0.5, 0.5], [0.5, 0.5])).toBe(0.5);
    expect(rocAuc([1, 2, 3], [1, 2, 3])).toBe(0.5);
    // Pairs (pos > neg): 0.35 > 0.1 ✓, 0.35 > 0.4 ✗, 0.8 > both ✓✓ → 3/4
    expect(rocAuc([0.1, 0.4], [0.35, 0.8])).toBe(0.75);
    // A tie counts 1/2: (0.3 vs 0.3) = ½, (0.5 vs 0.3) = 1 → 1.5/2
    expect(rocAuc([0.3], [0.3, 0.5])).toBe(0.75);
    // Unequal sizes: 3 negatives, 1 positive above two of them → 2/3
    expect(rocAuc(Float32Array.from([0, 1, 5]), [2])).toBeCloseTo(2 / 3, 12);
  });

  it('is undefined (NaN) for an empty list or a NaN score', () => {
    expect(rocAuc([], [1])).toBeNaN();
    expect(rocAuc([1], [])).toBeNaN();
    expect(rocAuc([0.1, NaN], [0.5])).toBeNaN();
    expect(rocAuc([0.1], [NaN, NaN])).toBeNaN();
  });

  it('equals the pairwise definition on seeded random scores with many ties', () => {
    const rng = new Rng(18);
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + rng.int(40);
      const p = 1 + rng.int(40);
      // Scores on a coarse grid (10 levels) so that ties within and across the two lists are common.
      const neg = Array.from({ length: n }, () => rng.int(10) / 10);
      const pos = Array.from({ length: p }, () => (rng.int(10) + (trial % 3)) / 10);
      expect(rocAuc(neg, pos)).toBeCloseTo(pairwiseAuc(neg, pos), 12);
    }
  });
});
