/**
 * Defensive distillation's known failure (Carlini & Wagner 2016, https://arxiv.org/abs/1607.04311)
 * on the zoo's mnist-cnn-distilled (T = 100) against mnist-cnn, on wasm: FGSM and PGD on the
 * cross-entropy lose most of their success (masked gradients of a saturated softmax), while C&W-L2 on
 * the logits still succeeds on ≥ 95 % of the samples.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type AttackResult } from '@advx/core';
import { carliniWagnerL2, fgsm, pgd } from '@advx/attacks';
import { useWasm } from '@advx/backend-wasm';
import { loadDataset, loadModel, type ZooModel } from '@advx/models-zoo';

const N = 100;
let x: tf.Tensor4D;
let y: tf.Tensor1D;
let cnn: ZooModel;
let distilled: ZooModel;

const success = (r: AttackResult) => r.success[0]!.filter(Boolean).length / r.success[0]!.length;
const pct = (v: number) => `${(100 * v).toFixed(0)} %`;

beforeAll(async () => {
  await useWasm();
  ({ x, y } = await loadDataset('mnist', { count: N, source: 'shipped' }));
  cnn = await loadModel('mnist-cnn');
  distilled = await loadModel('mnist-cnn-distilled');
});
afterAll(() => {
  tf.dispose([x, y]);
  cnn.layers.dispose();
  distilled.layers.dispose();
});

describe('Papernot et al. 2016 / Carlini & Wagner 2016: defensive distillation masks gradients, it does not add robustness', () => {
  it('FGSM and PGD-40 (CE) at Linf ε = 0.3 succeed far less on mnist-cnn-distilled than on mnist-cnn', { timeout: 600_000 }, async () => {
    const rates: number[] = [];
    for (const model of [cnn.model, distilled.model]) {
      const f = await fgsm().run(model, x, { labels: y }, { epsilons: [0.3] });
      const p = await pgd({ steps: 40, stepSize: 0.01 }).run(model, x, { labels: y }, { epsilons: [0.3], seed: 0 });
      rates.push(success(f), success(p));
      f.dispose();
      p.dispose();
    }
    const [fCnn, pCnn, fDist, pDist] = rates as [number, number, number, number];
    console.info(
      `success at ε=0.3 (n=${N}, wasm): FGSM mnist-cnn ${pct(fCnn)} vs distilled ${pct(fDist)}; PGD-40 mnist-cnn ${pct(pCnn)} vs distilled ${pct(pDist)}`,
    );
    expect(fDist).toBeLessThan(fCnn - 0.3);
    expect(pDist).toBeLessThan(pCnn - 0.3);
  });

  it('C&W-L2 on the logits still succeeds on ≥ 95 % of samples of the distilled model', { timeout: 600_000 }, async () => {
    const n = 40;
    const xs = tf.slice(x, 0, n);
    const ys = tf.slice(y, 0, n);
    const cw = await carliniWagnerL2({ binarySearchSteps: 6, steps: 150, learningRate: 0.1, initialConst: 0.1 }).run(distilled.model, xs, { labels: ys });
    const ok = Array.from(cw.distances)
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    console.info(`C&W-L2 on mnist-cnn-distilled (n=${n}, wasm): success ${ok.length}/${n}, median L2 ${ok[Math.floor(ok.length / 2)]?.toFixed(3)}`);
    cw.dispose();
    tf.dispose([xs, ys]);
    expect(ok.length / n).toBeGreaterThanOrEqual(0.95);
  });
});
