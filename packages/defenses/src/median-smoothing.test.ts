import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { assertConformance, checkPreprocessor } from '@advx/core/testing';

import { expectCode, imageData, imageNet, values } from '../test/fixtures.js';

import { medianSmoothing } from './median-smoothing.js';

/** Reference: scipy.ndimage.median_filter(x, size=k, mode='reflect') on one channel, by brute force. */
function referenceMedian(img: number[][], k: number): number[][] {
  const h = img.length;
  const w = (img[0] as number[]).length;
  const reflect = (i: number, n: number) => (i < 0 ? -i - 1 : i >= n ? 2 * n - i - 1 : i);
  const before = Math.floor(k / 2);
  return img.map((row, r) =>
    row.map((_, c) => {
      const win: number[] = [];
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) win.push((img[reflect(r - before + i, h)] as number[])[reflect(c - before + j, w)] as number);
      win.sort((a, b) => a - b);
      return win[Math.floor((k * k) / 2)] as number;
    }),
  );
}

describe('medianSmoothing', () => {
  it('removes a lone bright pixel (3×3) and matches a brute-force scipy-style reference for sizes 2–4', async () => {
    const spot = tf.tensor4d([0, 0, 0, 0, 1, 0, 0, 0, 0], [1, 3, 3, 1]);
    const cleaned = medianSmoothing({ size: 3 }).apply(spot, [0, 1]);
    expect(await values(cleaned)).toEqual(new Array(9).fill(0));
    tf.dispose([spot, cleaned]);

    const img = Array.from({ length: 5 }, (_, r) => Array.from({ length: 6 }, (_, c) => ((r * 7 + c * 13) % 11) / 10));
    const x = tf.tensor4d(img.flat(), [1, 5, 6, 1]);
    for (const k of [2, 3, 4]) {
      const y = medianSmoothing({ size: k }).apply(x, [0, 1]);
      const got = await values(y);
      const want = referenceMedian(img, k)
        .flat()
        .map((v) => Math.fround(v));
      expect(got, `size ${k}`).toEqual(want);
      y.dispose();
    }
    x.dispose();
  });

  it('filters each channel separately', async () => {
    const x = tf.tensor4d([0, 1, 0, 1, 1, 0, 0, 1], [1, 2, 2, 2]);
    const y = medianSmoothing({ size: 2 }).apply(x, [0, 1]);
    const c0 = referenceMedian(
      [
        [0, 0],
        [1, 0],
      ],
      2,
    ).flat();
    const c1 = referenceMedian(
      [
        [1, 1],
        [0, 1],
      ],
      2,
    ).flat();
    expect(await values(y)).toEqual(c0.flatMap((v, i) => [v, c1[i] as number]));
    tf.dispose([x, y]);
  });

  it('passes the preprocessor conformance suite: its gradient is exact (finite differences)', async () => {
    assertConformance(await checkPreprocessor(medianSmoothing({ size: 2 }), { model: imageNet, x: imageData.x }));
    assertConformance(await checkPreprocessor(medianSmoothing({ size: 3 }), { model: imageNet, x: imageData.x }));
  });

  it('the gradient of one output reaches exactly the median input, reflected edges included', async () => {
    // 1×3×3: the top-left output's 3×3 reflect window is rows/cols (0, 0, 1): the median of
    // [a, a, b, a, a, b, d, d, e] with a=0.1 b=0.9 d=0.3 e=0.5 is 0.3 = d (taken twice in the window).
    const x = tf.tensor4d([0.1, 0.9, 0.2, 0.3, 0.5, 0.6, 0.7, 0.8, 0.4], [1, 3, 3, 1]);
    const g = tf.grad((input: tf.Tensor) => tf.sum(tf.slice(medianSmoothing({ size: 3 }).apply(input, [0, 1]), [0, 0, 0, 0], [1, 1, 1, 1])))(x);
    expect(await values(g)).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0]);
    tf.dispose([x, g]);
  });

  it('rejects bad options and non-image input with a clear AdvxError, leaking nothing', async () => {
    for (const bad of [{ size: 1 }, { size: 6 }, { size: 2.5 }]) {
      await expectCode('INVALID_OPTION', () => medianSmoothing(bad));
    }
    const flat = tf.zeros([2, 9]);
    const small = tf.zeros([1, 2, 2, 1]);
    const before = tf.memory().numTensors;
    for (const [x, size] of [
      [flat, 2],
      [small, 3],
    ] as const) {
      await expectCode('INVALID_SHAPE', () => medianSmoothing({ size }).apply(x, [0, 1]));
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([flat, small]);
  });
});
