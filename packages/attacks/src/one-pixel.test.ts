import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { fromFunction, Rng, toQueryModel } from '@advx/core';
import { assertConformance, checkAttack } from '@advx/core/testing';

import { checkQueryAccounting, imageNet, imageNetData, strictQueryModel } from '../test/black-box-fixtures.js';
import { expectCode, net, netData, rows, unitScaleMlp } from '../test/fixtures.js';

import { mutate, onePixel } from './one-pixel.js';

const { x, labels } = imageNetData;

/** A 5×4×3 RGB image model (60 inputs, 3 classes) and 6 images labelled by it. */
const rgbNet = unitScaleMlp(4, 60, 16, 3);
const rgb = fromFunction((v) => rgbNet.logits(tf.reshape(v, [-1, 60])), { inputShape: [5, 4, 3], numClasses: 3, bounds: [0, 1], output: 'logits' });
const rgbX = (() => {
  const r = new Rng(9);
  return tf.tensor4d(
    Float32Array.from({ length: 6 * 60 }, () => r.uniform()),
    [6, 5, 4, 3],
  );
})();
const rgbLabels = tf.tidy(() => tf.cast(tf.argMax(rgb.logits(rgbX), 1), 'int32') as tf.Tensor1D);

describe('onePixel: conformance', () => {
  it('three pixels on a scores query model (untargeted and targeted) and on a white-box model', async () => {
    const oracle = toQueryModel(imageNet, { output: 'scores' });
    assertConformance(
      await checkAttack(onePixel({ pixels: 3, populationSize: 20, generations: 10 }), { model: oracle, x, labels, epsilons: [1, 3], minSuccess: 0.75 }),
    );
    assertConformance(
      await checkAttack(onePixel({ pixels: 3, populationSize: 20, generations: 5 }), { model: imageNet, x, labels, epsilons: [3], minSuccess: 0.75 }),
    );
  });
});

describe('onePixel: differential evolution', () => {
  it('the DE/rand/1 child is a + F·(b − c), positions clamped to the image and values to the bounds', () => {
    const dims = { h: 5, w: 4, c: 3 };
    const a = Float64Array.from([1, 1, 0.5, 0.5, 0.5]);
    const b = Float64Array.from([4.5, 0.5, 0.9, 0.1, 1]);
    const c = Float64Array.from([0.5, 3.5, 0.1, 0.9, 0]);
    // 1 + 0.5·4 = 3; 1 + 0.5·(−3) = −0.5 → 0; 0.5 + 0.5·0.8 = 0.9; 0.5 − 0.4 = 0.1; 0.5 + 0.5 = 1.
    const child = mutate(a, b, c, 0.5, dims, [0, 1]);
    [3, 0, 0.9, 0.1, 1].forEach((v, j) => expect(child[j]).toBeCloseTo(v, 12));
    // F = 2 leaves the box: row 1 + 8 → 5 − 1e-6, column 1 − 6 → 0, values 2.1 → 1, −1.1 → 0, 2.5 → 1.
    expect(Array.from(mutate(a, b, c, 2, dims, [0, 1]))).toEqual([5 - 1e-6, 0, 1, 0, 1]);
  });

  it('changes at most `pixels` pixels, all channels of each, on an RGB model of any size', async () => {
    for (const pixels of [1, 2]) {
      const r = await onePixel({ pixels, populationSize: 12, generations: 4, earlyStop: false }).run(toQueryModel(rgb, { output: 'scores' }), rgbX, {
        labels: rgbLabels,
      });
      const [out, clean] = [await rows(r.raw), await rows(rgbX)];
      out.forEach((row, i) => {
        const changed = new Set<number>();
        row.forEach((v, j) => {
          if (v !== clean[i]?.[j]) changed.add(Math.floor(j / 3));
        });
        expect(changed.size).toBeGreaterThanOrEqual(1);
        expect(changed.size).toBeLessThanOrEqual(pixels);
        expect(r.distances[i] === Infinity || (r.distances[i] as number) <= 3 * pixels).toBe(true);
      });
      r.dispose();
    }
  });

  it('never raises the probability of the label over the generations (the fittest survivor is kept)', async () => {
    const oracle = toQueryModel(rgb, { output: 'scores' });
    const probs = async (generations: number) => {
      const r = await onePixel({ pixels: 1, populationSize: 12, generations, earlyStop: false }).run(oracle, rgbX, { labels: rgbLabels }, { seed: 5 });
      const p = tf.tidy(() => tf.softmax(rgb.logits(r.raw)));
      const values = (await p.array()) as number[][];
      p.dispose();
      r.dispose();
      const y = await rgbLabels.data();
      return values.map((row, i) => row[y[i] as number] as number);
    };
    const [g0, g3, g8] = [await probs(0), await probs(3), await probs(8)];
    g0.forEach((p, i) => {
      expect(g3[i]).toBeLessThanOrEqual(p);
      expect(g8[i]).toBeLessThanOrEqual(g3[i] as number);
    });
  });
});

describe('onePixel: queries', () => {
  it('spends populationSize·(1 + generations) queries without early stop, counted exactly', async () => {
    const epsilons = [1, 3];
    const pop = 10;
    const gens = 3;
    const limit = pop * (1 + gens) + 2 + epsilons.length;
    const { queries } = await checkQueryAccounting(
      onePixel({ pixels: 1, populationSize: pop, generations: gens, earlyStop: false }),
      imageNet,
      'scores',
      x,
      { labels },
      { epsilons },
      limit,
    );
    expect(Array.from(queries)).toEqual(new Array<number>(8).fill(limit));
    const strict = strictQueryModel(imageNet, 'scores');
    const r = await onePixel({ populationSize: 10, generations: 2 }).run(strict, x, { labels });
    expect(r.raw.shape).toEqual(x.shape);
    r.dispose();
  });
  it('refuses label-only models, non-image inputs and bad options before any query', async () => {
    const labelOnly = toQueryModel(imageNet, { output: 'label' });
    await expectCode('UNSUPPORTED_MODEL', () => onePixel().run(labelOnly, x, { labels }));
    expect(labelOnly.queries).toBe(0);
    await expectCode('UNSUPPORTED_MODEL', () => onePixel().run(net, netData.x, { labels: netData.labels }));
    for (const bad of [{ pixels: 0 }, { populationSize: 3 }, { generations: -1 }, { mutation: 0 }, { mutation: 3 }, { maxQueries: 0 }]) {
      await expectCode('INVALID_OPTION', () => onePixel(bad).run(imageNet, x, { labels }));
    }
  });
});
