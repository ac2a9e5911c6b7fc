import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { defend } from '@advx/core';
import { assertConformance, checkPreprocessor } from '@advx/core/testing';

import { expectCode, imageData, imageNet, values } from '../test/fixtures.js';

import { bitDepth } from './bit-depth.js';

describe('bitDepth', () => {
  it('rounds to 2^bits levels of the bounds (hand-computed), half to even', async () => {
    const x = tf.tensor1d([0, 0.2, 0.5, 0.51, 0.7, 1]);
    const one = bitDepth({ bits: 1 }).apply(x, [0, 1]);
    expect(await values(one)).toEqual([0, 0, 0, 1, 1, 1]);
    const two = bitDepth({ bits: 2 }).apply(x, [0, 1]);
    // levels 0, 1/3, 2/3, 1: 0.2·3 = 0.6 → 1/3; 0.5·3 = 1.5 → 2 (even); 0.51·3 → 2; 0.7·3 = 2.1 → 2.
    expect(await values(two)).toEqual([0, 1 / 3, 2 / 3, 2 / 3, 2 / 3, 1].map((v) => Math.fround(v)));
    // bounds [-1, 1]: the same grid, rescaled.
    const xs = tf.tensor1d([-1, -0.55, 0.1, 1]);
    const scaled = bitDepth({ bits: 1 }).apply(xs, [-1, 1]);
    expect(await values(scaled)).toEqual([-1, -1, 1, 1]);
    tf.dispose([x, one, two, xs, scaled]);
  });

  it('8 bits is the identity on 8-bit images', async () => {
    const x = tf.div(tf.range(0, 256), 255);
    const y = bitDepth({ bits: 8 }).apply(x, [0, 1]);
    const d = tf.max(tf.abs(tf.sub(x, y)));
    expect((await d.data())[0]).toBeLessThan(1e-6);
    tf.dispose([x, y, d]);
  });

  it('passes the preprocessor conformance suite (BPDA identity gradient)', async () => {
    assertConformance(await checkPreprocessor(bitDepth({ bits: 2 }), { model: imageNet, x: imageData.x }));
  });

  it("the rounding's exact gradient is zero: the suite flags it as masked", async () => {
    const report = await checkPreprocessor(bitDepth({ bits: 1, gradient: 'exact' }), { model: imageNet, x: imageData.x });
    expect(report.failures.map((f) => f.name)).toContain('gradient-flows');
    const g = tf.grad((x: tf.Tensor) => tf.sum(defend(imageNet, bitDepth({ bits: 1, gradient: 'exact' })).logits(x)))(imageData.x);
    expect((await tf.max(tf.abs(g)).data())[0]).toBe(0);
    g.dispose();
  });

  it('rejects bad options with a clear AdvxError', async () => {
    for (const bad of [{ bits: 0 }, { bits: 1.5 }, { bits: 17 }, { gradient: 'custom' as 'exact' }]) {
      await expectCode('INVALID_OPTION', () => bitDepth(bad));
    }
  });

  it('leaks no tensor', () => {
    const before = tf.memory().numTensors;
    bitDepth({ bits: 3 }).apply(imageData.x, [0, 1]).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
