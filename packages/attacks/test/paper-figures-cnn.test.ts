/**
 * Published figures reproduced on the zoo's CNNs with the first 500 images of the shipped evaluation
 * set, on the fastest backend (wasm with the @advx/backend-wasm kernels). Attacks are stronger-or-equal
 * checks and the papers' headline numbers; full 10k-sample figures go to the model cards and bench/.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { randomTargets, type AttackResult } from '@advx/core';
import { useWasm } from '@advx/backend-wasm';
import { loadDataset, loadModel, type ZooModel } from '@advx/models-zoo';

import { apgdCe, carliniWagnerL2, ddn, deepfool, fgsm, fmn, jsma, pgd } from '../src/index.js';

const N = 500;
let x: tf.Tensor4D;
let y: tf.Tensor1D;
let cnn: ZooModel;

const robustAccuracy = (r: AttackResult, e = 0) => r.success[e]!.filter((s) => !s).length / r.success[e]!.length;
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const report = (line: string) => console.info(line);

beforeAll(async () => {
  await useWasm();
  ({ x, y } = await loadDataset('mnist', { count: N, source: 'shipped' }));
  cnn = await loadModel('mnist-cnn');
});
afterAll(() => {
  tf.dispose([x, y]);
  cnn.layers.dispose();
});

describe('Madry et al. 2017: PGD-40 Linf ε = 0.3 on MNIST', () => {
  it('breaks the naturally trained mnist-cnn: robust accuracy ≤ 2 %', { timeout: 600_000 }, async () => {
    const r = await pgd({ steps: 40, stepSize: 0.01 }).run(cnn.model, x, { labels: y }, { epsilons: [0.3], seed: 0 });
    const acc = robustAccuracy(r);
    r.dispose();
    report(`PGD-40 ε=0.3 on mnist-cnn: robust accuracy ${(100 * acc).toFixed(1)} % (n=${N})`);
    expect(acc).toBeLessThanOrEqual(0.02);
  });
  it(
    'on the adversarially trained mnist-cnn-at: PGD-40 robust accuracy ≥ 85 %, and stronger attacks never do worse: FGSM ≥ PGD-40 ≥ APGD-CE',
    { timeout: 600_000 },
    async () => {
      const n = 300;
      const cnnAt = await loadModel('mnist-cnn-at');
      const xs = tf.slice(x, 0, n);
      const ys = tf.slice(y, 0, n);
      const f = await fgsm().run(cnnAt.model, xs, { labels: ys }, { epsilons: [0.3] });
      const p = await pgd({ steps: 40, stepSize: 0.01 }).run(cnnAt.model, xs, { labels: ys }, { epsilons: [0.3], seed: 0 });
      const a = await apgdCe({ steps: 100 }).run(cnnAt.model, xs, { labels: ys }, { epsilons: [0.3], seed: 0 });
      const [accF, accP, accA] = [robustAccuracy(f), robustAccuracy(p), robustAccuracy(a)];
      tf.dispose([xs, ys, ...[f, p, a].flatMap((r) => [r.raw, ...r.clipped])]);
      cnnAt.layers.dispose();
      report(
        `mnist-cnn-at ε=0.3 robust accuracy: FGSM ${(100 * accF).toFixed(1)} %, PGD-40 ${(100 * accP).toFixed(1)} %, APGD-CE-100 ${(100 * accA).toFixed(1)} % (n=${n}; Madry et al.: PGD-40 93.2 % on a larger CNN)`,
      );
      expect(accF).toBeGreaterThanOrEqual(accP);
      expect(accP).toBeGreaterThanOrEqual(accA);
      // Measured 88.0 % (first 300 shipped images; 86.5 % on the full 10k test set in the card).
      expect(accP).toBeGreaterThanOrEqual(0.85);
    },
  );
});

describe('minimum-norm L2 attacks on mnist-cnn: C&W (2017), DeepFool (2016), FMN (Pintor et al. 2021), DDN (Rony et al. 2019)', () => {
  it(
    'all succeed on ≥ 99 % of samples; DeepFool’s median L2 is ≥ C&W’s, and FMN’s and DDN’s (100 steps each) are ≤ C&W’s (AttackBench: FMN the stronger minimizer)',
    { timeout: 600_000 },
    async () => {
      const n = 50;
      const xs = tf.slice(x, 0, n);
      const ys = tf.slice(y, 0, n);
      const df = await deepfool().run(cnn.model, xs, { labels: ys });
      const t0 = Date.now();
      // 6 binary-search steps × 150 Adam steps at learning rate 0.1 converge on this model (the paper's
      // 9 × 10,000 at 0.01 is far beyond a test budget; 150 steps at 0.01 stop short of DeepFool).
      const cw = await carliniWagnerL2({ binarySearchSteps: 6, steps: 150, learningRate: 0.1, initialConst: 0.1 }).run(cnn.model, xs, { labels: ys });
      report(`C&W took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      const fm = await fmn({ norm: 'l2' }).run(cnn.model, xs, { labels: ys });
      const dd = await ddn().run(cnn.model, xs, { labels: ys });
      const ok = (r: AttackResult) => Array.from(r.distances).filter(Number.isFinite);
      const found = { DeepFool: ok(df), 'C&W': ok(cw), FMN: ok(fm), DDN: ok(dd) };
      report(
        `mnist-cnn L2 (n=${n}): ${Object.entries(found)
          .map(([name, d]) => `${name} success ${d.length}/${n}, median ${median(d).toFixed(3)}`)
          .join('; ')}`,
      );
      tf.dispose([xs, ys]);
      for (const r of [df, cw, fm, dd]) r.dispose();
      for (const d of Object.values(found)) expect(d.length / n).toBeGreaterThanOrEqual(0.99);
      expect(median(found.DeepFool)).toBeGreaterThanOrEqual(median(found['C&W']));
      expect(median(found.FMN)).toBeLessThanOrEqual(median(found['C&W']));
      expect(median(found.DDN)).toBeLessThanOrEqual(median(found['C&W']));
    },
  );
});

describe('Papernot et al. 2016: JSMA on mnist-cnn', () => {
  const n = 30;
  const jsmaRun = async (others: 'sum' | 'runner-up') => {
    const xs = tf.slice(x, 0, n);
    const ys = tf.slice(y, 0, n);
    const targets = await randomTargets(ys, 10, 0);
    const r = await jsma({ others }).run(cnn.model, xs, { targets, labels: ys });
    const changed = Array.from(r.distances).filter(Number.isFinite);
    tf.dispose([xs, ys, targets]);
    r.dispose();
    const success = changed.length / n;
    const meanFraction = changed.reduce((s, d) => s + d, 0) / changed.length / 784;
    report(
      `JSMA (others '${others}') on mnist-cnn (n=${n}): success ${(100 * success).toFixed(1)} %, mean distortion ${(100 * meanFraction).toFixed(2)} % of pixels (paper: 97.1 %, 4.0 %)`,
    );
    return { success, maxFraction: Math.max(...changed) / 784 };
  };
  it("the paper's saliency map (β on the sum of the other logits): success ≥ 85 % within 14.5 % of the pixels", { timeout: 600_000 }, async () => {
    const { success, maxFraction } = await jsmaRun('sum');
    expect(success).toBeGreaterThanOrEqual(0.85);
    expect(maxFraction).toBeLessThanOrEqual(0.145);
  });
  it('β on the runner-up logit: success ≥ 90 % within 14.5 % of the pixels', { timeout: 600_000 }, async () => {
    const { success, maxFraction } = await jsmaRun('runner-up');
    expect(success).toBeGreaterThanOrEqual(0.9);
    expect(maxFraction).toBeLessThanOrEqual(0.145);
  });
});
