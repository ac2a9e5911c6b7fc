/**
 * Consistency under occlusion (Horváth & Egervári, ICDIP 2018) against per-image adversarial patches
 * on the zoo's mnist-cnn (wasm): an 8×8 patch at a fixed location (rows/columns 2–9) optimized for
 * each image by 40 signed-gradient steps on the cross-entropy of its label (the patch pixels are free
 * inside [0, 1]); clean images are shipped test images 100–199, patched ones are made from images 0–99.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { crossEntropy } from '@advx/core';
import { assertConformance, checkDetector } from '@advx/core/testing';
import { useWasm } from '@advx/backend-wasm';
import { loadDataset, loadModel, type ZooModel } from '@advx/models-zoo';

import { detectionReport, occlusionConsistency } from '../src/index.js';

const SIDE = 8;
const AT = 2;
let cnn: ZooModel;
let clean: tf.Tensor;
let patched: tf.Tensor;
let success = 0;

/** Per-image patches at a fixed location, by signed gradient ascent of the label's cross-entropy. */
function optimizePatches(x: tf.Tensor4D, y: tf.Tensor1D, steps: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  const mask = tf.tidy(() => tf.pad(tf.ones([1, SIDE, SIDE, 1]), [[0, 0], [AT, h - AT - SIDE], [AT, w - AT - SIDE], [0, 0]]));
  let adv = tf.tidy(() => tf.add(tf.mul(x, tf.sub(1, mask)), tf.mul(mask, 0.5))) as tf.Tensor4D;
  const loss = (z: tf.Tensor) => tf.sum(crossEntropy(cnn.model.logits(z), y));
  for (let s = 0; s < steps; s++) {
    const next = tf.tidy(() => tf.clipByValue(tf.add(adv, tf.mul(mask, tf.mul(0.1, tf.sign(tf.grad(loss)(adv))))), 0, 1)) as tf.Tensor4D;
    adv.dispose();
    adv = next;
  }
  mask.dispose();
  return adv;
}

beforeAll(async () => {
  await useWasm();
  cnn = await loadModel('mnist-cnn');
  const { x, y } = await loadDataset('mnist', { count: 200, source: 'shipped' });
  clean = tf.slice(x, 100, 100);
  const xs = tf.slice(x, 0, 100) as tf.Tensor4D;
  const ys = tf.slice(y, 0, 100) as tf.Tensor1D;
  const adv = optimizePatches(xs, ys, 40);
  const [pred, labels] = await Promise.all([tf.tidy(() => tf.argMax(cnn.model.logits(adv), 1)).data(), ys.data()]);
  const ok = Array.from(labels.keys()).filter((i) => pred[i] !== labels[i]);
  success = ok.length / labels.length;
  const idx = tf.tensor1d(ok, 'int32');
  patched = tf.gather(adv, idx);
  tf.dispose([x, y, xs, ys, adv, idx]);
});
afterAll(() => {
  tf.dispose([clean, patched]);
  cnn.layers.dispose();
});

describe('occlusionConsistency on patch-attacked vs clean mnist-cnn inputs (wasm)', () => {
  it('the patches work (≥ 80 % of images misclassified) and the detector separates them (ROC-AUC ≥ 0.9)', { timeout: 300_000 }, async () => {
    expect(success).toBeGreaterThanOrEqual(0.8);
    const make = () => occlusionConsistency({ size: SIDE, stride: 2 });
    assertConformance(await checkDetector(make, { model: cnn.model, clean, adversarial: patched, minAuc: 0.9 }));
    const d = make();
    const r = detectionReport(await d.score(cnn.model, clean), await d.score(cnn.model, patched));
    const label = occlusionConsistency({ size: SIDE, stride: 2, measure: 'label' });
    const rl = detectionReport(await label.score(cnn.model, clean), await label.score(cnn.model, patched));
    console.info(
      `occlusion consistency vs 8×8 patches on mnist-cnn (wasm; patch success ${(100 * success).toFixed(0)} %, ${patched.shape[0]} patched vs 100 clean): ` +
        `confidence ROC-AUC ${r.auc.toFixed(3)}, detection ${(100 * r.detectionRate).toFixed(1)} % at ${(100 * r.falsePositiveRate).toFixed(1)} % FPR; ` +
        `label ROC-AUC ${rl.auc.toFixed(3)}, detection ${(100 * rl.detectionRate).toFixed(1)} % at ${(100 * rl.falsePositiveRate).toFixed(1)} % FPR`,
    );
  });
});
