import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { assertConformance, checkAttack, selfLabeledData } from '@advx/core/testing';

import { brightnessModel, expectCode, imageMlp, rows } from '../test/fixtures.js';

import { universalPatch } from './universal-patch.js';

const { model: imageNet } = imageMlp;
const imageData = selfLabeledData(imageNet, 4, 8) as { x: tf.Tensor4D; labels: tf.Tensor1D };

describe('universalPatch: the universal patch as a registered dataset-level attack', () => {
  it('closed form on a brightness model: the patch saturates at white; it fools iff side²·0.8 lifts the sum over 18', async () => {
    // Class 1 iff the sum of the 36 pixels exceeds 18; every image is 0.2-gray (sum 7.2, class 0).
    const before = tf.memory().numTensors;
    const x = tf.fill([10, 6, 6, 1], 0.2);
    const labels = tf.zeros([10], 'int32') as tf.Tensor1D;
    const attack = universalPatch({ steps: 30, optimizer: 'sign', stepSize: 0.05, imagesPerStep: 4 });
    // ε = 8 → a 2×2 patch (sum ≤ 10.4), 9 → 3×3 (≤ 14.4), 16 → 4×4 (≤ 20 > 18 once every patch pixel is above 0.875).
    const r = await attack.run(brightnessModel, x, { labels }, { epsilons: [8, 9, 16], seed: 2 });
    expect(r.success.map((s) => s.every(Boolean))).toEqual([false, false, true]);
    expect(r.success.map((s) => s.some(Boolean))).toEqual([false, false, true]);
    for (const [e, side] of [2, 3, 4].entries()) {
      for (const row of await rows(r.clipped[e]!)) {
        // 30 signed steps of 0.05 from a uniform start: every patch pixel is white; the rest is untouched.
        expect(row.filter((v) => v === 1).length).toBe(side * side);
        expect(row.filter((v) => Math.abs(v - 0.2) < 1e-7).length).toBe(36 - side * side);
      }
    }
    // Placements come from each sample's stream: not all the same.
    const corners = (await rows(r.clipped[1]!)).map((row) => row.indexOf(1));
    expect(new Set(corners).size).toBeGreaterThan(1);
    r.dispose();
    tf.dispose([x, labels]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('passes the attack conformance suite (one batch, maxPasses refused) on an image MLP', async () => {
    assertConformance(
      await checkAttack(universalPatch({ steps: 40, imagesPerStep: 8, stepSize: 0.1 }), {
        model: imageNet,
        x: imageData.x,
        labels: imageData.labels,
        epsilons: [4, 16, 36],
      }),
    );
  });

  it('is listed as a dataset-level L0 attack; rejects bad options and non-image models before any work', async () => {
    expect(universalPatch.meta).toMatchObject({ name: 'universal-patch', scope: 'dataset', norms: ['l0'], goals: ['untargeted'] });
    await expectCode('INVALID_OPTION', async () => universalPatch({ stepSize: 0 }));
    await expectCode('INVALID_OPTION', async () => universalPatch({ optimizer: 'sgd' as never }));
    await expectCode('INVALID_OPTION', () => universalPatch().run(imageNet, imageData.x, { labels: imageData.labels }, { epsilons: [9], maxPasses: 10 }));
    const flatX = tf.zeros([2, 64]);
    const flatY = tf.zeros([2], 'int32') as tf.Tensor1D;
    await expectCode('UNSUPPORTED_MODEL', () => universalPatch().run(imageMlp.flat, flatX, { labels: flatY }, { epsilons: [9] }));
    tf.dispose([flatX, flatY]);
  });
});
