import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { isAdvxError, Rng, toQueryModel } from '@advx/core';
import { linearModel } from '@advx/core/testing';

import { occlusionConsistency } from './occlusion-consistency.js';
import { occlusionMap } from './occlusion-map.js';

const rng = new Rng(3);
const weights = [0, 1, 2].map(() => Array.from({ length: 36 }, () => rng.normal()));
const model = linearModel({ weights, inputShape: [6, 6, 1] });
const x = tf.tensor4d(
  Array.from({ length: 3 * 36 }, () => rng.uniform()),
  [3, 6, 6, 1],
);

describe('occlusionConsistency', () => {
  it('confidence score = the largest occlusion-map drop of the predicted class; label score = share of changed top-1', async () => {
    const maps = (await (await occlusionMap(model, x, { size: 2, stride: 2 })).array()) as number[][][];
    const conf = await occlusionConsistency({ size: 2, stride: 2, measure: 'confidence', batchSize: 5 }).score(model, x);
    maps.forEach((m, i) => expect(conf[i]).toBeCloseTo(Math.max(0, ...m.flat()), 6));
    // By hand for the label measure: logits of every covered copy.
    const px = Array.from(await x.data());
    const z = (v: number[]) => weights.map((w) => w.reduce((s, a, k) => s + a * v[k]!, 0));
    const argmax = (v: number[]) => v.indexOf(Math.max(...v));
    const label = await occlusionConsistency({ size: 2, stride: 2 }).score(model, x);
    for (let i = 0; i < 3; i++) {
      const img = px.slice(i * 36, i * 36 + 36);
      const top = argmax(z(img));
      let changed = 0;
      for (let r = 0; r < 3; r++) {
        for (let c = 0; c < 3; c++) {
          const covered = img.map((v, k) => (Math.floor(k / 6) >= 2 * r && Math.floor(k / 6) < 2 * r + 2 && k % 6 >= 2 * c && k % 6 < 2 * c + 2 ? 0 : v));
          if (argmax(z(covered)) !== top) changed++;
        }
      }
      expect(label[i]).toBeCloseTo(changed / 9, 6);
    }
  });

  it('leaks nothing and rejects bad input before any work', async () => {
    const before = tf.memory().numTensors;
    await occlusionConsistency({ size: 3 }).score(model, x);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => occlusionConsistency({ measure: 'x' as never })).toThrowError(/INVALID_OPTION/);
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => occlusionConsistency({ size: 9 }).score(model, x), 'INVALID_OPTION'],
      [() => occlusionConsistency().score(toQueryModel(model, { output: 'scores' }), x), 'UNSUPPORTED_MODEL'],
      [() => occlusionConsistency({ size: 2 }).score(model, tf.zeros([1, 5, 5, 1])), 'INVALID_SHAPE'],
    ];
    for (const [fn, code] of cases) {
      const e = await fn().catch((err: unknown) => err);
      expect(isAdvxError(e, code as never), String(e)).toBe(true);
    }
  });
});
