import { createRequire } from 'node:module';

import * as tf from '@tensorflow/tfjs-core';

import * as tfl from '@tensorflow/tfjs-layers';
import { expect } from 'vitest';

import { fromFunction, isAdvxError, Rng, type AdvxErrorCode, type LabeledData, type Model } from '@advx/core';
import { loadDataset } from '@advx/models-zoo';
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

/** Runs `fn` (sync or async) and expects an AdvxError with `code`. */
export async function expectCode(code: AdvxErrorCode, fn: () => unknown): Promise<void> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  expect(isAdvxError(caught, code), `expected ${code}, got ${String(caught)}`).toBe(true);
}

/** Softmax regression 784 → 10 on 28×28×1 images with seeded Glorot weights. */
export function logreg(seed = 1): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.flatten({ inputShape: [28, 28, 1] }));
  m.add(tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed }) }));
  return m;
}

/** The shipped MNIST evaluation set split into 600 training and 400 held-out images. */
export async function mnistSplit(): Promise<{ train: LabeledData; validation: LabeledData; dispose: () => void }> {
  const { x, y } = await loadDataset('mnist', { count: 1000, source: 'shipped' });
  const train = { x: tf.slice(x, 0, 600), y: tf.slice(y, 0, 600) };
  const validation = { x: tf.slice(x, 600, 400), y: tf.slice(y, 600, 400) };
  tf.dispose([x, y]);
  return { train, validation, dispose: () => tf.dispose([train.x, train.y, validation.x, validation.y]) };
}

/**
 * Registers a custom layer class with the CommonJS copy of tfjs-core too. Under vitest,
 * tfjs-layers resolves to its CommonJS `main`, whose require() loads a second tfjs-core with its own
 * serialization registry, while our sources register the class in the ESM copy; Node and bundlers
 * have one copy, where the module's own registerClass suffices (vitest.config.ts says why the ESM
 * build is not used).
 */
export function registerInCommonJsTfjs(cls: Parameters<typeof tf.serialization.registerClass>[0]): void {
  (createRequire(import.meta.url)('@tensorflow/tfjs-core') as typeof tf).serialization.registerClass(cls);
}
