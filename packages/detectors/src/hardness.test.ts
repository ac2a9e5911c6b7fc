import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isAdvxError } from '@advx/core';
import { assertConformance, checkDetector, linearModel } from '@advx/core/testing';
import { bim, deepfool, fgsm } from '@advx/attacks';
import { loadDataset, loadModel, type ZooModel } from '@advx/models-zoo';

import { detectionReport } from './detection-report.js';
import { hardness, hardnessDetector } from './hardness.js';

// Binary linear classifier with logits [−z/2, z/2], z = w·x + b: one Linf sign step of α lowers the
// margin |z| by exactly α‖w‖₁ while no coordinate touches a bound, so BIM flips a sample after
// ⌊|z| / (α‖w‖₁)⌋ + 1 steps; DeepFool's minimal L2 perturbation is |z|/‖w‖₂ (× 1.02 overshoot).
const w = [0.8, -1.2, 0.5, -0.3, 1.5, -0.7];
const b = 0.05;
const model = linearModel({ weights: [w.map((v) => -v / 2), w.map((v) => v / 2)], bias: [-b / 2, b / 2] });
const rows = [
  [0.5, 0.45, 0.5, 0.5, 0.52, 0.5],
  [0.6, 0.4, 0.55, 0.45, 0.6, 0.4],
  [0.4, 0.6, 0.45, 0.55, 0.4, 0.6],
  [0.45, 0.5, 0.5, 0.5, 0.5, 0.55],
];
const z = rows.map((r) => r.reduce((s, v, j) => s + v * w[j]!, b));
const wL1 = w.reduce((s, v) => s + Math.abs(v), 0);
const wL2 = Math.hypot(...w);
const alpha = 0.005;
const schedule = Array.from({ length: 40 }, (_, i) => i + 1);

describe('hardness', () => {
  it('counts BIM steps to flip a linear classifier exactly as by hand', async () => {
    const x = tf.tensor2d(rows);
    const h = await hardness(model, x, undefined, { attack: (steps) => bim({ steps, stepSize: alpha }), epsilon: 0.5, schedule });
    const want = z.map((v) => Math.floor(Math.abs(v) / (alpha * wL1)) + 1);
    expect(want.every((k) => k <= 40 && k > 1)).toBe(true);
    expect(Array.from(h)).toEqual(want);
    // A coarser schedule reports the first count at or above the exact one.
    const coarse = await hardness(model, x, undefined, { attack: (steps) => bim({ steps, stepSize: alpha }), epsilon: 0.5, schedule: [4, 16, 64] });
    expect(Array.from(coarse)).toEqual(want.map((k) => [4, 16, 64].find((s) => s >= k)));
    x.dispose();
  });

  it('is the minimal perturbation of a minimization attack (DeepFool: |z|/‖w‖₂), 0 for samples the labels call misclassified', async () => {
    const x = tf.tensor2d(rows);
    const h = await hardness(model, x, undefined, { attack: deepfool() });
    Array.from(h).forEach((d, i) => expect(d / (Math.abs(z[i]!) / wL2)).toBeCloseTo(1.02, 1));
    const pred = z.map((v) => (v > 0 ? 1 : 0));
    const labels = tf.tensor1d([pred[0]!, 1 - pred[1]!, pred[2]!, 1 - pred[3]!], 'int32');
    const audited = await hardness(model, x, labels, { attack: deepfool() });
    expect(audited[1]).toBe(0);
    expect(audited[3]).toBe(0);
    expect(audited[0]).toBeCloseTo(h[0]!, 5);
    tf.dispose([x, labels]);
  });

  it('rejects bad options before any work', async () => {
    const x = tf.tensor2d(rows);
    const before = tf.memory().numTensors;
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => hardness(model, x, undefined, { attack: fgsm() }), 'INVALID_OPTION'],
      [() => hardness(model, x, undefined, { attack: (s) => bim({ steps: s }) }), 'INVALID_OPTION'],
      [() => hardness(model, x, undefined, { attack: (s) => bim({ steps: s }), epsilon: 0.3, schedule: [4, 2] }), 'INVALID_OPTION'],
      [() => hardness(model, x, tf.tensor1d([0, 1], 'int32'), { attack: deepfool() }), 'BATCH_MISMATCH'],
      [() => hardness(model, tf.tensor2d([[2, 0, 0, 0, 0, 0]]), undefined, { attack: deepfool() }), 'OUT_OF_BOUNDS'],
    ];
    for (const [fn, code] of cases) {
      const e = await fn().catch((err: unknown) => err);
      expect(isAdvxError(e, code as never), String(e)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before + 2);
    x.dispose();
  });
});

describe('hardnessDetector on mnist-mlp: DeepFool adversarials flip back at once (cpu)', () => {
  let zoo: ZooModel;
  let clean: tf.Tensor;
  let adversarial: tf.Tensor;
  beforeAll(async () => {
    zoo = await loadModel('mnist-mlp');
    const { x, y } = await loadDataset('mnist', { count: 60, source: 'shipped' });
    clean = tf.slice(x, 30, 30);
    const xs = tf.slice(x, 0, 30);
    const ys = tf.slice(y, 0, 30);
    const r = await deepfool().run(zoo.model, xs, { labels: ys });
    adversarial = r.raw.clone();
    r.dispose();
    tf.dispose([x, y, xs, ys]);
  });
  afterAll(() => {
    tf.dispose([clean, adversarial]);
    zoo.layers.dispose();
  });
  it('passes the detector conformance suite (ROC-AUC ≥ 0.9)', { timeout: 120_000 }, async () => {
    const make = () => hardnessDetector({ attack: (steps) => bim({ steps, stepSize: 0.01 }), epsilon: 0.3, schedule: [1, 2, 4, 8, 16, 32] });
    assertConformance(await checkDetector(make, { model: zoo.model, clean, adversarial, minAuc: 0.9 }));
    const d = make();
    const r = detectionReport(await d.score(zoo.model, clean), await d.score(zoo.model, adversarial));
    console.info(
      `hardness detector (BIM steps of 0.01) on mnist-mlp, DeepFool vs clean (n=30+30, cpu): ROC-AUC ${r.auc.toFixed(3)}, detection ${(100 * r.detectionRate).toFixed(1)} % at ${(100 * r.falsePositiveRate).toFixed(1)} % FPR`,
    );
  });
});
