import * as tf from '@tensorflow/tfjs-core';

import { fromFunction, Rng, type Model } from '@advx/core';
import { mlpModel, type LabeledBatch } from '@advx/core/testing';

/** A seeded ReLU MLP on 6×6×1 images (flattened inside): a small nonlinear image classifier. */
export const imageNet: Model = (() => {
  const mlp = mlpModel({ seed: 3, inputs: 36, hidden: 16, classes: 4 });
  return fromFunction((x) => mlp.logits(tf.reshape(x, [-1, 36])), { inputShape: [6, 6, 1], numClasses: 4, bounds: [0, 1], output: 'logits' });
})();

/**
 * Eight 6×6×1 images, each a seeded permutation of 36 distinct levels 0.1 + 0.8·k/35 (gaps of 0.023),
 * labelled by {@link imageNet}: no two pixels are within the finite-difference step of the
 * conformance suite, so rank-based transforms (median) keep their ranks under it.
 */
export const imageData: LabeledBatch = (() => {
  const rng = new Rng(7);
  const levels = Array.from({ length: 8 }, () => Array.from(rng.permutation(36), (k) => 0.1 + (0.8 * k) / 35)).flat();
  const x = tf.tensor4d(levels, [8, 6, 6, 1]);
  const labels = tf.tidy(() => tf.cast(tf.argMax(imageNet.logits(x), 1), 'int32') as tf.Tensor1D);
  return { x, labels };
})();

/** The values of a tensor as nested arrays. */
export async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}
