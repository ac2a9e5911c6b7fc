/**
 * Randomized smoothing (Cohen et al. 2019) of the zoo's mnist-cnn-noise (trained with Gaussian noise
 * σ = 0.25) on the first images of the shipped MNIST evaluation set, on wasm: the certified accuracy
 * vs L2 radius curve, and a soundness check — an L2 attack inside the certified radius does not change
 * the smoothed prediction.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { pgd } from '@advx/attacks';
import { useWasm } from '@advx/backend-wasm';
import { loadDataset, loadModel, type ZooModel } from '@advx/models-zoo';

import { normalQuantile } from '../src/internal/stats.js';
import { ABSTAIN, smooth } from '../src/index.js';

const N = 100;
const SIGMA = 0.25;
const [N0, NS, ALPHA] = [50, 500, 0.001];
let x: tf.Tensor4D;
let y: tf.Tensor1D;
let labels: Int32Array;
let zoo: ZooModel;

beforeAll(async () => {
  await useWasm();
  ({ x, y } = await loadDataset('mnist', { count: N, source: 'shipped' }));
  labels = (await y.data()) as Int32Array;
  zoo = await loadModel('mnist-cnn-noise');
});
afterAll(() => {
  tf.dispose([x, y]);
  zoo.layers.dispose();
});

describe('Cohen et al. 2019: certified accuracy vs L2 radius of mnist-cnn-noise (σ = 0.25)', () => {
  it(`certifies most of the first ${N} test images; the curve is non-increasing and bounded by σ·Φ⁻¹(α^(1/n))`, { timeout: 600_000 }, async () => {
    const g = smooth(zoo.model, { sigma: SIGMA, batchSize: NS });
    const { classes, radii } = await g.certify(x, { n0: N0, n: NS, alpha: ALPHA, seed: 0 });
    const radiiList = [0, 0.125, 0.25, 0.375, 0.5];
    const curve = radiiList.map((r) => Array.from(classes).filter((c, i) => c === labels[i] && (radii[i] as number) >= r).length / N);
    const abstained = Array.from(classes).filter((c) => c === ABSTAIN).length;
    const bound = SIGMA * normalQuantile(ALPHA ** (1 / NS));
    console.info(
      `mnist-cnn-noise smoothed, σ=${SIGMA}, n0=${N0}, n=${NS}, α=${ALPHA} (n=${N} images, wasm): certified accuracy ` +
        radiiList.map((r, k) => `r=${r}: ${(100 * curve[k]!).toFixed(0)} %`).join(', ') +
        `; abstained ${abstained}; largest possible radius ${bound.toFixed(3)}`,
    );
    for (let k = 1; k < curve.length; k++) expect(curve[k]).toBeLessThanOrEqual(curve[k - 1]!);
    for (const r of radii) expect(r).toBeLessThanOrEqual(bound + 1e-12);
    expect(curve[0]).toBeGreaterThanOrEqual(0.9);
    expect(curve[4]).toBeGreaterThanOrEqual(0.5);
  });

  it('an L2 PGD adversarial of the base model inside the certified radius does not change the smoothed prediction', { timeout: 600_000 }, async () => {
    const n = 20;
    const xs = tf.slice(x, 0, n);
    const ys = tf.slice(y, 0, n);
    const g = smooth(zoo.model, { sigma: SIGMA, batchSize: NS });
    const cert = await g.certify(xs, { n0: N0, n: NS, alpha: ALPHA, seed: 1 });
    const eps = 0.5;
    const attack = await pgd({ norm: 'l2', steps: 20, relStepSize: 2.5 / 20 }).run(zoo.model, xs, { labels: ys }, { epsilons: [eps], seed: 0 });
    const predicted = await g.predict(attack.clipped[0] as tf.Tensor, { n: NS, alpha: ALPHA, seed: 2 });
    const certifiedBeyond = Array.from(cert.radii, (r, i) => r > eps && cert.classes[i] !== ABSTAIN);
    const changed = certifiedBeyond.filter((c, i) => c && predicted[i] !== ABSTAIN && predicted[i] !== cert.classes[i]).length;
    const baseFooled = attack.success[0]!.filter(Boolean).length;
    console.info(
      `L2 PGD-20 ε=${eps} on the base model: fools it on ${baseFooled}/${n}; of the ${certifiedBeyond.filter(Boolean).length} samples certified beyond ε, the smoothed prediction changed on ${changed}`,
    );
    attack.dispose();
    tf.dispose([xs, ys]);
    expect(certifiedBeyond.filter(Boolean).length).toBeGreaterThanOrEqual(n / 2);
    expect(changed).toBe(0);
  });
});
