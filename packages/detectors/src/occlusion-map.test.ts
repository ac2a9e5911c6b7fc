import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { isAdvxError, Rng } from '@advx/core';
import { linearModel } from '@advx/core/testing';

import { occlusionMap } from './occlusion-map.js';

const H = 6;
const W = 5;
const rng = new Rng(7);
const weights = [0, 1].map(() => Array.from({ length: H * W }, () => rng.normal()));
const model = linearModel({ weights, inputShape: [H, W, 1] });
const pixels = Array.from({ length: 2 * H * W }, () => rng.uniform());
const x = tf.tensor4d(pixels, [2, H, W, 1]);

/** By hand: covering pixels P with `fill` lowers the logit of class c by Σ_{p∈P} w_c,p (x_p − fill). */
function handMap(sample: number, c: number, size: number, stride: number, fill: number): number[][] {
  const rows = Math.floor((H - size) / stride) + 1;
  const cols = Math.floor((W - size) / stride) + 1;
  return Array.from({ length: rows }, (_, r) =>
    Array.from({ length: cols }, (_, q) => {
      let drop = 0;
      for (let i = r * stride; i < r * stride + size; i++) {
        for (let j = q * stride; j < q * stride + size; j++) drop += weights[c]![i * W + j]! * (pixels[sample * H * W + i * W + j]! - fill);
      }
      return drop;
    }),
  );
}

describe('occlusionMap (Zeiler & Fergus 2014)', () => {
  it('of a linear model equals the hand-computed logit drops Σ w·(x − fill) under each patch', async () => {
    const classes = tf.tensor1d([1, 0], 'int32');
    for (const [size, stride, fill] of [
      [2, 1, 0],
      [3, 2, 0.5],
      [1, 1, 0],
    ] as const) {
      const maps = await occlusionMap(model, x, { size, stride, fill, classes, score: 'logit', batchSize: 7 });
      const got = (await maps.array()) as number[][][];
      const want = [handMap(0, 1, size, stride, fill), handMap(1, 0, size, stride, fill)];
      expect(maps.shape).toEqual([2, want[0]!.length, want[0]![0]!.length]);
      got.forEach((m, s) => m.forEach((row, r) => row.forEach((v, q) => expect(v).toBeCloseTo(want[s]![r]![q]!, 5))));
      maps.dispose();
    }
    classes.dispose();
  });

  it('probability drops match softmax of the hand-computed logits, and batching does not change them', async () => {
    const maps = await occlusionMap(model, x, { size: 2, stride: 2 });
    const alt = await occlusionMap(model, x, { size: 2, stride: 2, batchSize: 1 });
    const got = Array.from(await maps.data());
    expect(Array.from(await alt.data())).toEqual(got);
    // Two classes: p_c = σ(z_c − z_other); check the first sample's first position by hand.
    const z = [0, 1].map((c) => weights[c]!.reduce((s, w, k) => s + w * pixels[k]!, 0));
    const c = z[0]! > z[1]! ? 0 : 1;
    const covered = [0, 1].map((k) => z[k]! - handMap(0, k, 2, 2, 0)[0]![0]!);
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    expect(got[0]).toBeCloseTo(sig(z[c]! - z[1 - c]!) - sig(covered[c]! - covered[1 - c]!), 5);
    tf.dispose([maps, alt]);
  });

  it('leaks no tensor and rejects bad options before any work', async () => {
    const before = tf.memory().numTensors;
    const m = await occlusionMap(model, x, { size: 3 });
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
    for (const [opts, code] of [
      [{ size: 7 }, 'INVALID_OPTION'],
      [{ stride: 0 }, 'INVALID_OPTION'],
      [{ fill: 2 }, 'INVALID_OPTION'],
      [{ score: 'x' }, 'INVALID_OPTION'],
    ] as const) {
      const e = await occlusionMap(model, x, opts as never).catch((err: unknown) => err);
      expect(isAdvxError(e, code), String(e)).toBe(true);
    }
    const flat = linearModel({
      weights: [
        [1, 2],
        [2, 1],
      ],
    });
    const xf = tf.tensor2d([[0.1, 0.2]]);
    const e = await occlusionMap(flat, xf).catch((err: unknown) => err);
    expect(isAdvxError(e, 'UNSUPPORTED_MODEL')).toBe(true);
    xf.dispose();
  });
});
