import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { fromFunction, toQueryModel, type Model } from '@advx/core';
import { linearModel } from '@advx/core/testing';

import { expectCode } from '../test/fixtures.js';

import { normalQuantile } from './internal/stats.js';
import { ABSTAIN, smooth } from './randomized-smoothing.js';

/** Always class 0 (3 classes), whatever the input. */
const constant: Model = fromFunction((x) => tf.tile(tf.tensor2d([[2, 1, 0]]), [x.shape[0] as number, 1]) as tf.Tensor2D, {
  inputShape: [2],
  numClasses: 3,
  bounds: [0, 1],
  output: 'logits',
});
/** A binary linear classifier with boundary w·x = 1, ‖w‖ = 5: class 1 iff 3x₀ + 4x₁ > 1. */
const halfPlane = linearModel({
  weights: [
    [0, 0],
    [3, 4],
  ],
  bias: [0, -1],
});

describe('smooth (Cohen et al. 2019)', () => {
  it('all n votes correct: the radius is σ·Φ⁻¹(α^(1/n)) — 3.81σ for n = 100,000, α = 0.001', async () => {
    const x = tf.tensor2d([[0.2, 0.7]]);
    const sigma = 0.5;
    const { classes, radii, pALower } = await smooth(constant, { sigma }).certify(x, { n0: 100, n: 100_000, alpha: 0.001 });
    expect(classes[0]).toBe(0);
    expect(pALower[0]).toBeCloseTo(0.001 ** (1 / 100_000), 12);
    expect(radii[0]).toBeCloseTo(sigma * normalQuantile(0.001 ** (1 / 100_000)), 9);
    // SciPy: norm.ppf(0.001 ** (1 / 100000)) = 3.8114565633899145.
    expect((radii[0] as number) / sigma).toBeCloseTo(3.8114565633899145, 6);
    const small = await smooth(constant, { sigma: 1 }).certify(x, { n0: 10, n: 1000, alpha: 0.01 });
    expect(small.radii[0]).toBeCloseTo(normalQuantile(0.01 ** (1 / 1000)), 9);
    x.dispose();
  });

  it('on a linear classifier the certified radius approaches the distance to the boundary from below', async () => {
    // Distance of x to the hyperplane 3x₀ + 4x₁ = 1 is |3x₀ + 4x₁ − 1| / 5: 0.3 and 0.1 here.
    const x = tf.tensor2d([
      [0.3, 0.4],
      [0.3, 0.15],
    ]);
    const sigma = 0.25;
    const { classes, radii } = await smooth(halfPlane, { sigma }).certify(x, { n0: 100, n: 100_000, alpha: 0.001, seed: 3 });
    expect(Array.from(classes)).toEqual([1, 1]);
    for (const [i, d] of [0.3, 0.1].entries()) {
      expect(radii[i]).toBeLessThanOrEqual(d);
      expect(radii[i]).toBeGreaterThan(d - 0.01);
    }
    x.dispose();
  });

  it('abstains when the votes split (a point on the boundary), predicts when they do not', async () => {
    const x = tf.tensor2d([
      [0.2, 0.1],
      [0.6, 0.1],
      [0.1, 0.05],
    ]); // on the boundary, 0.24 above, 0.1 below
    const g = smooth(halfPlane, { sigma: 0.25, batchSize: 500 });
    const predicted = await g.predict(x, { n: 2000, alpha: 0.001 });
    expect(Array.from(predicted)).toEqual([ABSTAIN, 1, 0]);
    const votes = await g.votes(x, 2000);
    expect(Math.abs((votes[0]![0] as number) - 1000)).toBeLessThan(120); // ~Binomial(2000, ½)
    const certified = await g.certify(x, { n0: 100, n: 2000, alpha: 0.001 });
    expect(certified.classes[0]).toBe(ABSTAIN);
    expect(certified.radii[0]).toBe(0);
    expect(certified.classes[1]).toBe(1);
    x.dispose();
  });

  it('is seeded and does not depend on the batch size; leaks no tensor; works on query models', async () => {
    const x = tf.tensor2d([
      [0.3, 0.2],
      [0.25, 0.1],
    ]);
    const before = tf.memory().numTensors;
    const a = await smooth(halfPlane, { sigma: 0.3, batchSize: 1000 }).votes(x, 3001, 5);
    const b = await smooth(halfPlane, { sigma: 0.3, batchSize: 77 }).votes(x, 3001, 5);
    const c = await smooth(halfPlane, { sigma: 0.3 }).votes(x, 3001, 6);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.map((r) => r.reduce((s, v) => s + v, 0))).toEqual([3001, 3001]);
    await smooth(halfPlane, { sigma: 0.3 }).certify(x, { n0: 10, n: 100 });
    expect(tf.memory().numTensors).toBe(before);
    const q = toQueryModel(halfPlane, { output: 'label' });
    expect(await smooth(q, { sigma: 0.3, batchSize: 77 }).votes(x, 3001, 5)).toEqual(a);
    x.dispose();
  });

  it('rejects bad options and inputs with a clear AdvxError before any work, leaking nothing', async () => {
    const x = tf.tensor2d([[0.3, 0.2]]);
    const before = tf.memory().numTensors;
    for (const sigma of [0, -1, Infinity, Number.NaN]) await expectCode('INVALID_OPTION', async () => smooth(halfPlane, { sigma }));
    await expectCode('INVALID_MODEL', async () => smooth({} as Model, { sigma: 0.1 }));
    const g = smooth(halfPlane, { sigma: 0.1 });
    await expectCode('INVALID_OPTION', () => g.certify(x, { n: 0 }));
    await expectCode('INVALID_OPTION', () => g.certify(x, { n0: 1.5 }));
    await expectCode('INVALID_OPTION', () => g.predict(x, { alpha: 1 }));
    const wrong = tf.zeros([1, 3]);
    const outside = tf.tensor2d([[2, 0]]);
    await expectCode('INVALID_SHAPE', () => g.predict(wrong, { n: 10 }));
    await expectCode('OUT_OF_BOUNDS', () => g.certify(outside, { n0: 1, n: 10 }));
    tf.dispose([wrong, outside]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
