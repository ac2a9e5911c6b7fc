/**
 * The latent attack (Kos, Fischer & Song 2017) on the zoo's dense MNIST autoencoder, on the fastest
 * backend (wasm with the @advx/backend-wasm kernels): 50 shipped evaluation images, each paired with
 * a held-out image of another digit as its target, under L2 budgets ε = 2, 3, 4, 5 (100 steps;
 * 300 steps change nothing). The figures are printed; the assertions are the paper's claims,
 * measured: the perturbation stays in the budget while the reconstruction moves from the source to
 * the target, and the zoo classifier mnist-cnn reads the target's class in it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { useWasm } from '@advx/backend-wasm';
import { loadAutoencoder, loadDataset, loadModel, type Dataset, type ZooAutoencoder, type ZooModel } from '@advx/models-zoo';

import { latentAttack } from '../src/index.js';

const N = 50;
let ae: ZooAutoencoder;
let cnn: ZooModel;
let sources: Dataset;
let targets: tf.Tensor;
let targetLabels: Int32Array;
let sourceLabels: Int32Array;
const report = (line: string) => console.info(line);
const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
const median = (v: ArrayLike<number>) => {
  const s = Array.from(v).sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const mean = (v: ArrayLike<number>) => Array.from(v).reduce((a, b) => a + b, 0) / v.length;

async function labels(x: tf.Tensor): Promise<Int32Array> {
  const t = tf.tidy(() => tf.cast(tf.argMax(cnn.model.logits(x), 1), 'int32'));
  const v = (await t.data()) as Int32Array;
  t.dispose();
  return v;
}

const share = (pred: Int32Array, want: Int32Array) => pred.filter((p, i) => p === want[i]).length / pred.length;

/** Per-sample MSE of two batches. */
async function mse(a: tf.Tensor, b: tf.Tensor): Promise<Float32Array> {
  const t = tf.tidy(() => tf.mean(tf.reshape(tf.square(tf.sub(a, b)), [a.shape[0] as number, -1]), 1));
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return v;
}

beforeAll(async () => {
  await useWasm();
  ae = await loadAutoencoder('mnist-autoencoder');
  cnn = await loadModel('mnist-cnn');
  sources = await loadDataset('mnist', { count: N, source: 'shipped' });
  // Targets: held-out images 500–699; source i takes the first one from 500 + i on with another digit.
  const pool = await loadDataset('mnist', { offset: 500, count: 200, source: 'shipped' });
  const poolLabels = (await pool.y.data()) as Int32Array;
  sourceLabels = (await sources.y.data()) as Int32Array;
  const picks: number[] = [];
  for (let i = 0; i < N; i++) {
    let j = i;
    while (poolLabels[j] === sourceLabels[i]) j++;
    picks.push(j);
  }
  targetLabels = Int32Array.from(picks, (j) => poolLabels[j] as number);
  const idx = tf.tensor1d(picks, 'int32');
  targets = tf.gather(pool.x, idx);
  tf.dispose([idx, pool.x, pool.y]);
});
afterAll(() => {
  tf.dispose([sources.x, sources.y, targets]);
  ae.dispose();
  cnn.layers.dispose();
});

describe('Kos et al. 2017: latent attack on the zoo MNIST autoencoder', () => {
  it(
    'within L2 ε ∈ {2, 3, 4, 5} the reconstruction moves from the source to the target; mnist-cnn reads the target class in it',
    { timeout: 300_000 },
    async () => {
      const { encode, decode } = ae.autoencoder;
      const clean = tf.tidy(() => decode(encode(sources.x)));
      const before = { toTarget: mean(await mse(clean, targets)), toSource: mean(await mse(clean, sources.x)) };
      const cleanRecLabels = await labels(clean);
      const targetRec = tf.tidy(() => decode(encode(targets)));
      const targetRecLabels = await labels(targetRec);
      tf.dispose([clean, targetRec]);
      report(
        `mnist-autoencoder, n=${N}, before the attack: reconstruction MSE to target ${before.toTarget.toFixed(4)}, to source ${before.toSource.toFixed(4)}; ` +
          `mnist-cnn on clean reconstructions: source class ${pct(share(cleanRecLabels, sourceLabels))}; on the targets' own reconstructions: target class ${pct(share(targetRecLabels, targetLabels))}`,
      );
      expect(before.toTarget).toBeGreaterThan(5 * before.toSource);

      // Per budget: the measured ratio of the reconstruction's MSE to the target after/before and the
      // share mnist-cnn reads as the target class (asserted a little below what was measured).
      const budgets = [
        { eps: 2, maxTargetRatio: 0.85, minTargetRate: undefined },
        { eps: 3, maxTargetRatio: 0.68, minTargetRate: 0.05 },
        { eps: 4, maxTargetRatio: 0.5, minTargetRate: 0.35 },
        { eps: 5, maxTargetRatio: 0.33, minTargetRate: 0.6 },
      ];
      const rows: { eps: number; toTarget: number; toSource: number; targetRate: number; latentRatio: number }[] = [];
      for (const { eps, maxTargetRatio, minTargetRate } of budgets) {
        const memBefore = tf.memory().numTensors;
        const r = await latentAttack(ae.autoencoder, sources.x, targets, { epsilon: eps, norm: 'l2', steps: 100 });
        const maxL2 = Math.max(...r.perturbationL2);
        const toTarget = mean(r.reconstructionToTarget);
        const toSource = mean(r.reconstructionToSource);
        const recLabels = await labels(r.reconstruction);
        const advLabels = await labels(r.adversarial);
        const targetRate = share(recLabels, targetLabels);
        const latentRatio = median(Array.from(r.latentDistance, (d, i) => d / (r.initialLatentDistance[i] as number)));
        report(
          `L2 ε=${eps}: median ‖δ‖₂ ${median(r.perturbationL2).toFixed(3)} (max ${maxL2.toFixed(3)}); median latent distance after/before ${latentRatio.toFixed(3)}; ` +
            `reconstruction MSE to target ${before.toTarget.toFixed(4)} → ${toTarget.toFixed(4)}, to source ${before.toSource.toFixed(4)} → ${toSource.toFixed(4)}; ` +
            `mnist-cnn: reconstruction read as the target class ${pct(targetRate)}, adversarial input still read as the source class ${pct(share(advLabels, sourceLabels))}`,
        );
        expect(maxL2).toBeLessThanOrEqual(eps * (1 + 1e-5));
        expect(toTarget).toBeLessThanOrEqual(maxTargetRatio * before.toTarget);
        expect(toSource).toBeGreaterThan(before.toSource);
        if (minTargetRate !== undefined) expect(targetRate).toBeGreaterThanOrEqual(minTargetRate);
        rows.push({ eps, toTarget, toSource, targetRate, latentRatio });
        r.dispose();
        expect(tf.memory().numTensors).toBe(memBefore);
      }
      // Larger budgets get closer to the target, in latent space and in pixels.
      for (let i = 1; i < rows.length; i++) {
        expect(rows[i]!.latentRatio).toBeLessThan(rows[i - 1]!.latentRatio);
        expect(rows[i]!.toTarget).toBeLessThan(rows[i - 1]!.toTarget);
      }
      // At ε = 5 the reconstruction is closer to the target than to the source.
      expect(rows[3]!.toTarget).toBeLessThan(0.6 * rows[3]!.toSource);
    },
  );
});
