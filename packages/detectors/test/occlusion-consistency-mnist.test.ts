/**
 * Consistency under occlusion (Horváth & Egervári, ICDIP 2018) against adversarial patches on the
 * zoo's mnist-cnn (wasm): per image, an 8×8 sticker (64 pixels, free inside [0, 1]) placed and
 * optimised by `adversarialPatch` of @advx/attacks (40 signed-gradient steps, 2 placements); clean
 * images are shipped test images 100–159, patched ones the successful patches on images 0–59.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { assertConformance, checkDetector } from '@advx/core/testing';
import { adversarialPatch } from '@advx/attacks';
import { useWasm } from '@advx/backend-wasm';
import { loadDataset, loadModel, type ZooModel } from '@advx/models-zoo';

import { detectionReport, occlusionConsistency } from '../src/index.js';

const SIDE = 8;
const N = 60;
let cnn: ZooModel;
let clean: tf.Tensor;
let patched: tf.Tensor;
let success = 0;

beforeAll(async () => {
  await useWasm();
  cnn = await loadModel('mnist-cnn');
  const { x, y } = await loadDataset('mnist', { count: 200, source: 'shipped' });
  clean = tf.slice(x, 100, 60);
  const xs = tf.slice(x, 0, N);
  const ys = tf.slice(y, 0, N) as tf.Tensor1D;
  const r = await adversarialPatch({ steps: 40, restarts: 2 }).run(cnn.model, xs, { labels: ys }, { epsilons: [SIDE * SIDE], seed: 0 });
  const ok = r.success[0]!.flatMap((s, i) => (s ? [i] : []));
  success = ok.length / N;
  const idx = tf.tensor1d(ok, 'int32');
  patched = tf.gather(r.clipped[0]!, idx);
  r.dispose();
  tf.dispose([x, y, xs, ys, idx]);
});
afterAll(() => {
  tf.dispose([clean, patched]);
  cnn.layers.dispose();
});

describe('occlusionConsistency on patch-attacked vs clean mnist-cnn inputs (wasm)', () => {
  it('the patches work (≥ 80 % of images misclassified) and the detector separates them (ROC-AUC ≥ 0.9)', { timeout: 600_000 }, async () => {
    expect(success).toBeGreaterThanOrEqual(0.8);
    const make = () => occlusionConsistency({ size: 6, stride: 3 });
    const d = make();
    const r = detectionReport(await d.score(cnn.model, clean), await d.score(cnn.model, patched));
    console.info(
      `occlusion consistency (6×6 occluder, stride 3, label measure) vs 8×8 patches on mnist-cnn (wasm; patch success ${(100 * success).toFixed(0)} % of n=${N}, ` +
        `${patched.shape[0]} patched vs ${clean.shape[0]} clean): ROC-AUC ${r.auc.toFixed(3)}, detection ${(100 * r.detectionRate).toFixed(1)} % at ${(100 * r.falsePositiveRate).toFixed(1)} % FPR`,
    );
    assertConformance(await checkDetector(make, { model: cnn.model, clean, adversarial: patched, minAuc: 0.9 }));
  });
});
