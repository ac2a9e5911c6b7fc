import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { fromFunction, isAdvxError } from '@advx/core';
import { linearModel } from '@advx/core/testing';

import { saliencyMap } from './saliency-map.js';

/** A 3-class linear model on 2×2×2 images: weights[c] has one entry per pixel and channel (HWC order). */
const weights = [
  [0.5, -1, 2, 0, -0.25, 0.75, 1, -3],
  [-1, 1, 0, 0.5, 2, -2, 0.1, 0.2],
  [0, 0, 1, 1, -1, -1, 0.3, 0.3],
];
const model = linearModel({ weights, inputShape: [2, 2, 2] });
const x = tf.tensor4d([0.1, 0.9, 0.4, 0.2, 0.7, 0.3, 0.5, 0.6, 0.2, 0.2, 0.8, 0.1, 0.3, 0.9, 0.4, 0.5], [2, 2, 2, 2]);
/** max over channels of |w_c| per pixel. */
const expected = (c: number) => [0, 1, 2, 3].map((p) => Math.max(Math.abs(weights[c]![2 * p]!), Math.abs(weights[c]![2 * p + 1]!)));

describe('saliencyMap (Simonyan et al. 2013)', () => {
  it('of a linear model is |w_c| (max over channels) for the explained class', async () => {
    const classes = tf.tensor1d([2, 0], 'int32');
    const maps = await saliencyMap(model, x, { classes });
    expect(maps.shape).toEqual([2, 2, 2]);
    const v = Array.from(await maps.data());
    expected(2).forEach((e, k) => expect(v[k]).toBeCloseTo(e, 6));
    expected(0).forEach((e, k) => expect(v[4 + k]).toBeCloseTo(e, 6));
    tf.dispose([maps, classes]);
  });

  it('explains the predicted class by default', async () => {
    const pred = Array.from(await tf.tidy(() => tf.argMax(model.logits(x), 1)).data());
    const maps = await saliencyMap(model, x);
    const v = Array.from(await maps.data());
    expected(pred[0]!).forEach((e, k) => expect(v[k]).toBeCloseTo(e, 6));
    expected(pred[1]!).forEach((e, k) => expect(v[4 + k]).toBeCloseTo(e, 6));
    maps.dispose();
  });

  it('SmoothGrad of a linear model is still |w| (the gradient does not depend on x); of x² it is E|2(x + ε)|', async () => {
    const maps = await saliencyMap(model, x, { classes: tf.tensor1d([1, 1], 'int32'), smoothGrad: { samples: 4 }, seed: 3 });
    const v = Array.from(await maps.data());
    expected(1).forEach((e, k) => expect(v[k]).toBeCloseTo(e, 5));
    maps.dispose();
    // One input, one class with score x²: |∂/∂x| = 2|x + ε|, ε ~ N(0, σ²). For x = 0.5, σ = 0.1 the
    // noise almost never flips the sign, so the mean is ≈ 2·0.5 = 1 within the sampling error 2σ/√m.
    const square = fromFunction((t) => tf.concat([tf.square(t), tf.zerosLike(t)], 1) as tf.Tensor2D, {
      inputShape: [1],
      numClasses: 2,
      bounds: [0, 1],
      output: 'logits',
    });
    const xs = tf.tensor2d([[0.5]]);
    const zero = tf.tensor1d([0], 'int32');
    const sg = await saliencyMap(square, xs, { classes: zero, smoothGrad: { samples: 400, noiseLevel: 0.1 }, seed: 1 });
    const [m] = await sg.data();
    expect(Math.abs(m! - 1)).toBeLessThan(3 * (0.2 / Math.sqrt(400)));
    const again = await saliencyMap(square, xs, { classes: zero, smoothGrad: { samples: 400, noiseLevel: 0.1 }, seed: 1 });
    expect(Array.from(await again.data())).toEqual([m]);
    tf.dispose([sg, again, xs, zero]);
  });

  it('batches give the same maps as one pass and leak no tensor', async () => {
    const before = tf.memory().numTensors;
    const one = await saliencyMap(model, x, { smoothGrad: { samples: 3 }, seed: 5 });
    const two = await saliencyMap(model, x, { smoothGrad: { samples: 3 }, seed: 5, batchSize: 1 });
    expect(Array.from(await two.data())).toEqual(Array.from(await one.data()));
    tf.dispose([one, two]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad input with a clear AdvxError before any work, leaking nothing', async () => {
    const before = tf.memory().numTensors;
    const bad = tf.zeros([1, 3, 3, 2]);
    const outOfRange = tf.tensor1d([5, 0], 'int32');
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => saliencyMap(model, bad), 'INVALID_SHAPE'],
      [() => saliencyMap(model, x, { classes: outOfRange }), 'LABEL_OUT_OF_RANGE'],
      [() => saliencyMap(model, x, { smoothGrad: { samples: 0 } }), 'INVALID_OPTION'],
      [() => saliencyMap(model, x, { batchSize: 0 }), 'INVALID_OPTION'],
      [() => saliencyMap(model, x, { steps: 3 } as never), 'INVALID_OPTION'],
      [() => saliencyMap({} as never, x), 'INVALID_MODEL'],
    ];
    for (const [fn, code] of cases) {
      const e = await fn().catch((err: unknown) => err);
      expect(isAdvxError(e, code as never), `${code}: ${String(e)}`).toBe(true);
    }
    tf.dispose([bad, outOfRange]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
