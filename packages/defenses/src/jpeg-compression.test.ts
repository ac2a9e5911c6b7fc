import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { assertConformance, checkPreprocessor } from '@advx/core/testing';

import { expectCode, imageData, imageNet } from '../test/fixtures.js';

import { jpegCompression } from './jpeg-compression.js';

const l2 = async (a: tf.Tensor, b: tf.Tensor) => {
  const d = tf.tidy(() => tf.norm(tf.sub(a, b)));
  const v = (await d.data())[0] as number;
  d.dispose();
  return v;
};

describe('jpegCompression', () => {
  it('keeps a smooth image at quality 100 (≤ 2/255) and removes most of a high-frequency checkerboard at quality 10', async () => {
    const h = 16;
    const smooth = Array.from({ length: h * h }, (_, k) => 0.2 + (0.6 * ((k % h) + Math.floor(k / h))) / (2 * h));
    const x = tf.tensor4d(smooth, [1, h, h, 1]);
    const y100 = jpegCompression({ quality: 100 }).apply(x, [0, 1]);
    const maxErr = tf.tidy(() => tf.max(tf.abs(tf.sub(x, y100))));
    expect((await maxErr.data())[0]).toBeLessThanOrEqual(2 / 255 + 1e-6);
    const checker = tf.tensor4d(
      Array.from({ length: h * h }, (_, k) => (((k % h) + Math.floor(k / h)) % 2 === 0 ? 0.04 : -0.04)),
      [1, h, h, 1],
    );
    const attacked = tf.add(x, checker);
    // What survives of the perturbation: the distance between the compressed attacked and clean images.
    const y25 = jpegCompression({ quality: 10 }).apply(attacked, [0, 1]);
    const clean25 = jpegCompression({ quality: 10 }).apply(x, [0, 1]);
    const [before, after] = [await l2(attacked, x), await l2(y25, clean25)];
    expect(after).toBeLessThan(0.25 * before);
    // Outputs lie on the 8-bit grid.
    const off = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.mul(y25, 255), tf.round(tf.mul(y25, 255))))));
    expect((await off.data())[0]).toBeLessThan(1e-4);
    tf.dispose([x, y100, maxErr, checker, attacked, y25, clean25, off]);
  });

  it('handles 3 channels and other bounds', async () => {
    const x = tf.tensor4d(
      Array.from({ length: 8 * 8 * 3 }, (_, k) => (k % 3 === 0 ? 0.5 : k % 3 === 1 ? -0.5 : 0)),
      [1, 8, 8, 3],
    );
    const y = jpegCompression({ quality: 95 }).apply(x, [-1, 1]);
    expect(y.shape).toEqual([1, 8, 8, 3]);
    const err = tf.tidy(() => tf.max(tf.abs(tf.sub(x, y))));
    expect((await err.data())[0]).toBeLessThan(0.05);
    tf.dispose([x, y, err]);
  });

  it('passes the preprocessor conformance suite (BPDA identity gradient)', async () => {
    assertConformance(await checkPreprocessor(jpegCompression(), { model: imageNet, x: imageData.x }));
  });

  it('rejects bad options and inputs with a clear AdvxError, leaking nothing', async () => {
    for (const quality of [0, 101, 50.5]) expect(() => jpegCompression({ quality })).toThrow(/INVALID_OPTION/);
    const flat = tf.zeros([2, 9]);
    const four = tf.zeros([1, 8, 8, 4]);
    const before = tf.memory().numTensors;
    for (const x of [flat, four]) await expectCode('INVALID_SHAPE', () => jpegCompression().apply(x, [0, 1]));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([flat, four]);
  });
});
