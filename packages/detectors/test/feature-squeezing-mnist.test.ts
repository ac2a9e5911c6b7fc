/**
 * Xu, Evans & Qi (NDSS 2018), Table 5: the MNIST joint feature-squeezing detector (1-bit depth +
 * 2×2 median, threshold at 5 % false positives on legitimate images) detects 98.2 % of successful
 * adversarial examples. Reproduced on the zoo's mnist-cnn on wasm: the threshold is fitted on
 * shipped test images 500–999, the false-positive rate measured on images 0–199 and the detection
 * rate on the successful adversarial examples crafted from the first 200 (FGSM), 100 (BIM), 30 (C&W)
 * or 20 (JSMA) images: the attack budgets are cut to fit the test time.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { randomTargets, type AttackResult } from '@advx/core';
import { useWasm } from '@advx/backend-wasm';
import { bim, carliniWagnerL2, fgsm, jsma } from '@advx/attacks';
import { bitDepth, medianSmoothing } from '@advx/defenses';
import { loadDataset, loadModel, type ZooModel } from '@advx/models-zoo';

import { detectionReport, featureSqueezing, type FeatureSqueezingDetector } from '../src/index.js';

let cnn: ZooModel;
let x: tf.Tensor4D;
let y: tf.Tensor1D;
let detector: FeatureSqueezingDetector;
let cleanScores: Float32Array;
const figures: string[] = [];

beforeAll(async () => {
  await useWasm();
  cnn = await loadModel('mnist-cnn');
  ({ x, y } = await loadDataset('mnist', { count: 1000, source: 'shipped' }));
  detector = featureSqueezing({ squeezers: [bitDepth({ bits: 1 }), medianSmoothing({ size: 2 })], falsePositiveRate: 0.05 });
  const fitSet = tf.slice(x, 500, 500);
  await detector.fit(cnn.model, fitSet);
  fitSet.dispose();
  const cleanSet = tf.slice(x, 0, 200);
  cleanScores = await detector.score(cnn.model, cleanSet);
  cleanSet.dispose();
});
afterAll(() => {
  console.info(figures.join('\n'));
  tf.dispose([x, y]);
  cnn.layers.dispose();
});

/**
 * Detection rate over the successful adversarial examples of `r`: those of its only epsilon for
 * fixed-epsilon attacks, the finite-distance raw outputs for minimization attacks.
 */
async function detected(r: AttackResult): Promise<{ rate: number; count: number; auc: number }> {
  const fixed = r.epsilons.length > 0;
  const ok = fixed ? r.success[0]!.flatMap((s, i) => (s ? [i] : [])) : Array.from(r.distances).flatMap((d, i) => (Number.isFinite(d) ? [i] : []));
  const idx = tf.tensor1d(ok, 'int32');
  const adv = tf.gather(fixed ? r.clipped[0]! : r.raw, idx);
  const scores = await detector.score(cnn.model, adv);
  tf.dispose([idx, adv]);
  const flags = Array.from(scores, (s) => s > (detector.threshold as number));
  const report = detectionReport(cleanScores, scores);
  return { rate: flags.filter(Boolean).length / flags.length, count: ok.length, auc: report.auc };
}

describe('Xu et al. 2018: joint feature squeezing (1-bit + 2×2 median) on mnist-cnn, threshold at 5 % FPR', () => {
  it('keeps the false-positive rate near 5 % on held-out clean images', () => {
    const fpr = Array.from(cleanScores).filter((s) => s > (detector.threshold as number)).length / cleanScores.length;
    figures.push(
      `feature squeezing on mnist-cnn (wasm): threshold ${detector.threshold!.toFixed(4)} (fit on 500 clean), FPR ${(100 * fpr).toFixed(1)} % on 200 held-out clean`,
    );
    expect(fpr).toBeLessThanOrEqual(0.1);
  });

  const attacks: Array<[string, number, (xs: tf.Tensor, ys: tf.Tensor1D) => Promise<AttackResult>, number]> = [
    ['FGSM Linf ε=0.3', 200, (xs, ys) => fgsm().run(cnn.model, xs, { labels: ys }, { epsilons: [0.3] }), 0.5],
    ['BIM Linf ε=0.3, 10 steps of 0.03', 100, (xs, ys) => bim({ steps: 10, stepSize: 0.03 }).run(cnn.model, xs, { labels: ys }, { epsilons: [0.3] }), 0.85],
    [
      'C&W-L2 (3 × 40 Adam steps, lr 0.1)',
      30,
      (xs, ys) => carliniWagnerL2({ binarySearchSteps: 3, steps: 40, learningRate: 0.1, initialConst: 1 }).run(cnn.model, xs, { labels: ys }),
      0.85,
    ],
    [
      'JSMA (targeted, random targets; JS pair search)',
      20,
      async (xs, ys) => jsma({ pairSearch: 'js' }).run(cnn.model, xs, { targets: await randomTargets(ys, 10, 0), labels: ys }),
      0.85,
    ],
  ];
  for (const [name, n, run, min] of attacks) {
    it(`detects ≥ ${100 * min} % of successful ${name} examples`, { timeout: 300_000 }, async () => {
      const xs = tf.slice(x, 0, n);
      const ys = tf.slice(y, 0, n);
      const r = await run(xs, ys);
      const d = await detected(r);
      r.dispose();
      tf.dispose([xs, ys]);
      figures.push(
        `  ${name}: detection ${(100 * d.rate).toFixed(1)} % of ${d.count} successful (n=${n}), ROC-AUC ${d.auc.toFixed(3)} vs 200 clean (paper, joint MNIST detector: 98.2 % overall)`,
      );
      expect(d.count).toBeGreaterThan(0);
      expect(d.rate).toBeGreaterThanOrEqual(min);
    });
  }
});
