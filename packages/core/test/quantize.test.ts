import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { linf, quantizeToward } from '../src/index.js';
import { linearModel } from '../src/testing/index.js';
import { gradientSign } from './reference-attacks.js';

const model = linearModel({
  weights: [
    [1, -1, 0.5, 0],
    [-1, 1, 0, 0.5],
    [0, 0, -0.5, -0.5],
  ],
  bias: [0, 0, 0.6],
});

describe('8-bit output (quantize: 8)', () => {
  it('rounds toward the input onto the 1/255 grid', async () => {
    const x = tf.tensor2d([[10 / 255, 200 / 255]]);
    const adv = tf.tensor2d([[(10 + 3.7) / 255, (200 - 2.2) / 255]]);
    const q = quantizeToward(adv, x, [0, 1]);
    const k = Array.from(await q.data()).map((v) => v * 255);
    expect(k[0]).toBeCloseTo(13, 4);
    expect(k[1]).toBeCloseTo(198, 4);
    tf.dispose([x, adv, q]);
  });
  it('keeps the input where rounding would cross it (input off the grid)', async () => {
    const x = tf.tensor2d([[10.5 / 255]]);
    const adv = tf.tensor2d([[10.8 / 255]]);
    const q = quantizeToward(adv, x, [0, 1]);
    expect((await q.data())[0]).toBeCloseTo(10.5 / 255, 7);
    tf.dispose([x, adv, q]);
  });
  it('an attack run returns exact grid points inside every ball and counts the survivors', async () => {
    const x = tf.tensor2d(
      [
        [153, 102, 128, 128],
        [77, 179, 102, 153],
        [128, 128, 51, 26],
        [204, 26, 230, 77],
      ].map((r) => r.map((v) => v / 255)),
    );
    const labels = tf.tensor1d([0, 1, 2, 0], 'int32');
    const before = tf.memory().numTensors;
    const epsilons = [0.05, 0.3];
    const r = await gradientSign({ steps: 5 }).run(model, x, { labels }, { epsilons, quantize: 8 });
    for (let e = 0; e < epsilons.length; e++) {
      const values = await r.clipped[e]!.data();
      for (const v of values) expect(Math.abs(v * 255 - Math.round(v * 255))).toBeLessThan(1e-3);
      const d = linf.distance(r.clipped[e]!, x);
      expect(Math.max(...(await d.data()))).toBeLessThanOrEqual(epsilons[e]! + 1e-6);
      d.dispose();
      const pred = tf.tidy(() => tf.argMax(model.logits(r.clipped[e]!), 1));
      const p = await pred.data();
      pred.dispose();
      expect(r.success[e]).toEqual(Array.from(p, (c, i) => c !== [0, 1, 2, 0][i]));
      expect(r.quantization!.survived[e]).toBeLessThanOrEqual(r.quantization!.before[e]!);
      expect(r.quantization!.survived[e]).toBe(r.success[e]!.filter(Boolean).length);
    }
    expect(r.quantization!.levels).toBe(255);
    r.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, labels]);
  });
});
