import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isAdvxError, toQueryModel } from '@advx/core';
import { assertConformance, checkDetector, linearModel } from '@advx/core/testing';
import { fgsm } from '@advx/attacks';
import { bitDepth, medianSmoothing } from '@advx/defenses';
import { loadDataset, loadModel, type ZooModel } from '@advx/models-zoo';

import { detectionReport } from './detection-report.js';
import { featureSqueezing } from './feature-squeezing.js';

const softmax = (z: number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

describe('featureSqueezing (Xu et al. 2018): closed form on a linear model', () => {
  const weights = [
    [2, -1, 0.5],
    [-1, 1.5, 1],
    [0.2, 0.3, -2],
  ];
  const model = linearModel({ weights, inputShape: [3] });
  const rows = [
    [0.3, 0.8, 0.45],
    [0.6, 0.1, 0.9],
    [0.2, 0.2, 0.2],
    [0.9, 0.7, 0.6],
  ];
  const logits = (x: number[]) => weights.map((w) => w.reduce((s, v, j) => s + v * x[j]!, 0));
  /** By hand: max over squeezers of ‖softmax(Wx) − softmax(W s(x))‖₁ with s = 1-bit rounding and s = ×0.5 toward 0. */
  const hand = (x: number[]) => {
    const p = softmax(logits(x));
    const l1 = (q: number[]) => p.reduce((s, v, k) => s + Math.abs(v - q[k]!), 0);
    const rounded = x.map((v) => (v > 0.5 ? 1 : 0));
    const halved = x.map((v) => v / 2);
    return Math.max(l1(softmax(logits(rounded))), l1(softmax(logits(halved))));
  };
  const halve = { name: 'halve', gradient: 'exact' as const, randomized: false, apply: (x: tf.Tensor) => tf.mul(x, 0.5) };

  it('scores are the max L1 softmax distance over the squeezers; the threshold sits at the target FPR', async () => {
    const x = tf.tensor2d(rows);
    const detector = featureSqueezing({ squeezers: [bitDepth({ bits: 1 }), halve], falsePositiveRate: 0.25, batchSize: 3 });
    await expect(detector.score(model, x)).rejects.toThrowError(/NOT_FITTED/);
    await detector.fit(model, x);
    const s = Array.from(await detector.score(model, x));
    const want = rows.map(hand);
    s.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    // 4 clean scores, 25 % allowed above: the threshold is the 3rd smallest score.
    expect(detector.threshold).toBeCloseTo([...want].sort((a, b) => a - b)[2]!, 5);
    expect((await detector.detect(model, x)).filter(Boolean)).toHaveLength(1);
    // Same scores through a score-returning query model.
    const q = toQueryModel(model, { output: 'scores' });
    Array.from(await detector.score(q, x)).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    x.dispose();
  });

  it('rejects bad options and inputs before any work', async () => {
    expect(() => featureSqueezing({ squeezers: [] })).toThrowError(/INVALID_OPTION/);
    expect(() => featureSqueezing({ squeezers: [halve], falsePositiveRate: 1 })).toThrowError(/INVALID_OPTION/);
    expect(() => featureSqueezing({ squeezers: [halve], threshold: 1 } as never)).toThrowError(/INVALID_OPTION/);
    const detector = featureSqueezing({ squeezers: [halve] });
    const before = tf.memory().numTensors;
    const bad = tf.tensor2d([[2, 0, 0]]);
    const e = await detector.fit(model, bad).catch((err: unknown) => err);
    expect(isAdvxError(e, 'OUT_OF_BOUNDS')).toBe(true);
    const labelOnly = toQueryModel(model, { output: 'label' });
    const ok = tf.tensor2d([[0.1, 0.2, 0.3]]);
    const e2 = await detector.fit(labelOnly, ok).catch((err: unknown) => err);
    expect(isAdvxError(e2, 'UNSUPPORTED_MODEL')).toBe(true);
    tf.dispose([bad, ok]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('featureSqueezing on mnist-mlp against FGSM (cpu)', () => {
  let zoo: ZooModel;
  let clean: tf.Tensor;
  let adversarial: tf.Tensor;
  beforeAll(async () => {
    zoo = await loadModel('mnist-mlp');
    const { x, y } = await loadDataset('mnist', { count: 200, source: 'shipped' });
    clean = tf.slice(x, 100, 100);
    const r = await fgsm().run(zoo.model, tf.slice(x, 0, 100), { labels: tf.slice(y, 0, 100) }, { epsilons: [0.2] });
    adversarial = tf.keep(r.clipped[0]!.clone());
    r.dispose();
    tf.dispose([x, y]);
  });
  afterAll(() => {
    tf.dispose([clean, adversarial]);
    zoo.layers.dispose();
  });
  it('passes the detector conformance suite (ROC-AUC ≥ 0.8)', async () => {
    const make = () => featureSqueezing({ squeezers: [bitDepth({ bits: 1 }), medianSmoothing({ size: 2 })] });
    const report = await checkDetector(make, { model: zoo.model, clean, adversarial, minAuc: 0.8 });
    assertConformance(report);
    const d = make();
    await d.fit(zoo.model, clean);
    const r = detectionReport(await d.score(zoo.model, clean), await d.score(zoo.model, adversarial));
    console.info(
      `feature squeezing on mnist-mlp vs FGSM ε=0.2 (n=100, cpu): ROC-AUC ${r.auc.toFixed(3)}, detection ${(100 * r.detectionRate).toFixed(1)} % at ${(100 * r.falsePositiveRate).toFixed(1)} % FPR`,
    );
  });
});
