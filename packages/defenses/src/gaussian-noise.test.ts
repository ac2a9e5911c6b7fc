import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { assertConformance, checkPreprocessor } from '@advx/core/testing';

import { imageData, imageNet } from '../test/fixtures.js';

import { gaussianNoise } from './gaussian-noise.js';

describe('gaussianNoise', () => {
  it('adds N(0, σ²) noise: sample mean ≈ 0 and std ≈ σ over 40,000 draws; clipped to the bounds', async () => {
    const x = tf.fill([40_000], 0.5);
    const y = gaussianNoise({ sigma: 0.1, clip: false }).apply(x, [0, 1]);
    const { mean, variance } = tf.moments(tf.sub(y, x));
    const [m, v] = [(await mean.data())[0] as number, (await variance.data())[0] as number];
    // Standard errors: 0.1/200 = 5e-4 for the mean, about 0.1·0.0035 for the std.
    expect(Math.abs(m)).toBeLessThan(2e-3);
    expect(Math.abs(Math.sqrt(v) - 0.1)).toBeLessThan(2e-3);
    const clipped = gaussianNoise({ sigma: 1 }).apply(x, [0, 1]);
    const range = tf.stack([tf.min(clipped), tf.max(clipped)]);
    expect(Array.from(await range.data())).toEqual([0, 1]);
    tf.dispose([x, y, mean, variance, clipped, range]);
  });

  it('is seeded: the same seed gives the same sequence of draws, successive calls differ', async () => {
    const x = tf.fill([2, 3], 0.5);
    const [a, b] = [gaussianNoise({ sigma: 0.1, seed: 4 }), gaussianNoise({ sigma: 0.1, seed: 4 })];
    const [a1, a2, b1, b2] = [a.apply(x, [0, 1]), a.apply(x, [0, 1]), b.apply(x, [0, 1]), b.apply(x, [0, 1])];
    expect(await a1.data()).toEqual(await b1.data());
    expect(await a2.data()).toEqual(await b2.data());
    expect(await a1.data()).not.toEqual(await a2.data());
    tf.dispose([x, a1, a2, b1, b2]);
  });

  it('passes the preprocessor conformance suite (randomized, BPDA identity gradient)', async () => {
    assertConformance(await checkPreprocessor(gaussianNoise({ sigma: 0.05 }), { model: imageNet, x: imageData.x }));
  });

  it('rejects bad options with a clear AdvxError', () => {
    for (const bad of [{ sigma: 0 }, { sigma: -1 }, { sigma: Infinity }, { sigma: 0.1, clip: 'yes' as unknown as boolean }]) {
      expect(() => gaussianNoise(bad)).toThrow(/INVALID_OPTION/);
    }
  });
});
