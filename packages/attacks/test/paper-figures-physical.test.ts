/**
 * Physical-world, universal and transfer attacks on the zoo's mnist-cnn, on the fastest backend
 * (wasm with the @advx/backend-wasm kernels), sized for the CI budget: a few hundred shipped
 * evaluation images, training images and held-out images disjoint. Each figure is printed next to
 * the paper's setting; the assertions are the qualitative claims of the papers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Rng, toQueryModel } from '@advx/core';
import { useWasm } from '@advx/backend-wasm';
import { loadDataset, loadModel, type Dataset, type ZooModel } from '@advx/models-zoo';

import { adversarialPatch, eot, evaluateUnderTransforms, fgsm, foolingRate, pgd, trainPatch, trainSubstitute, universalPerturbation } from '../src/index.js';

let cnn: ZooModel;
let train: Dataset;
let held: Dataset;
const report = (line: string) => console.info(line);
const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
const rate = (flags: readonly boolean[]) => flags.filter(Boolean).length / flags.length;

/** A perturbation `[1, 28, 28, 1]` of ±eps per pixel with seeded random signs. */
function randomSigns(eps: number, seed: number): tf.Tensor {
  const rng = new Rng(seed);
  return tf.tensor(
    Float32Array.from({ length: 784 }, () => (rng.uniform() < 0.5 ? -eps : eps)),
    [1, 28, 28, 1],
  );
}

async function errorRate(x: tf.Tensor, y: tf.Tensor1D): Promise<number> {
  const t = tf.tidy(() => tf.mean(tf.cast(tf.notEqual(tf.cast(tf.argMax(cnn.model.logits(x), 1), 'int32'), y), 'float32')));
  const [v] = await t.data();
  t.dispose();
  return v as number;
}

beforeAll(async () => {
  await useWasm();
  cnn = await loadModel('mnist-cnn');
  train = await loadDataset('mnist', { count: 300, source: 'shipped' });
  held = await loadDataset('mnist', { offset: 500, count: 200, source: 'shipped' });
});
afterAll(() => {
  tf.dispose([train.x, train.y, held.x, held.y]);
  cnn.layers.dispose();
});

describe('Brown et al. 2017: adversarial patch on mnist-cnn', () => {
  it(
    'a universal targeted patch under random placement succeeds more the larger it is; 16×16 fools ≥ 35 % of held-out images',
    { timeout: 300_000 },
    async () => {
      const rates: number[] = [];
      for (const size of [8, 16]) {
        const r = await trainPatch(cnn.model, train, { size, target: 3, steps: 60, imagesPerStep: 32, stepSize: 0.05, validation: held, seed: 0 });
        rates.push(r.validation?.successRate ?? 0);
        r.dispose();
      }
      report(
        `universal patch → "3" on mnist-cnn, held-out success under random placement (n=${held.x.shape[0]} minus the 3s): 8×8 ${pct(rates[0]!)}, 16×16 ${pct(rates[1]!)} (Brown et al., ImageNet: success rises with the patch's share of the image)`,
      );
      expect(rates[1]!).toBeGreaterThanOrEqual(0.35);
      expect(rates[1]!).toBeGreaterThan(rates[0]! + 0.2);
    },
  );

  it('per-image stickers (saliency placement): untargeted success grows with the sticker budget', { timeout: 300_000 }, async () => {
    const n = 20;
    const xs = tf.slice(held.x, 0, n);
    const ys = tf.slice(held.y, 0, n);
    const r = await adversarialPatch({ steps: 30, restarts: 1 }).run(cnn.model, xs, { labels: ys }, { epsilons: [16, 36], seed: 0 });
    const [s4, s6] = [rate(r.success[0]!), rate(r.success[1]!)];
    report(`per-image sticker on mnist-cnn (n=${n}): 4×4 ${pct(s4)}, 6×6 ${pct(s6)} untargeted success`);
    expect(s6).toBeGreaterThanOrEqual(s4);
    expect(s6).toBeGreaterThanOrEqual(0.3);
    r.dispose();
    tf.dispose([xs, ys]);
  });
});

describe('Athalye et al. 2018: expectation over transformation on mnist-cnn', () => {
  it('PGD through EOT survives fresh random transformations far more often than plain PGD', { timeout: 300_000 }, async () => {
    const n = 30;
    const xs = tf.slice(held.x, 0, n);
    const ys = tf.slice(held.y, 0, n);
    const transforms = { rotation: 20, translation: 2, scale: [0.9, 1.1] as const, blur: 0.8, brightness: 0.05 };
    const fresh = { transforms, samples: 10, seed: 99 };
    const plain = await pgd({ steps: 10, relStepSize: 0.2 }).run(cnn.model, xs, { labels: ys }, { epsilons: [0.3], seed: 0 });
    const robust = eot(cnn.model, { transforms, samples: 4, seed: 0 });
    const viaEot = await pgd({ steps: 10, relStepSize: 0.2, earlyStop: false }).run(robust, xs, { labels: ys }, { epsilons: [0.3], seed: 0 });
    const p = await evaluateUnderTransforms(cnn.model, plain.clipped[0]!, { labels: ys }, fresh);
    const e = await evaluateUnderTransforms(cnn.model, viaEot.clipped[0]!, { labels: ys }, fresh);
    const c = await evaluateUnderTransforms(cnn.model, xs, { labels: ys }, fresh);
    report(
      `Linf ε=0.3 under 10 fresh transformations (n=${n}): clean error ${pct(c.successRate)}, PGD-10 ${pct(p.successRate)} (success before transformation ${pct(rate(plain.success[0]!))}), EOT-PGD-10 (4 samples) ${pct(e.successRate)} (Athalye et al., ImageNet 2D: 96.4 % mean adversarial rate over transformations)`,
    );
    expect(e.successRate).toBeGreaterThan(p.successRate + 0.3);
    tf.dispose([xs, ys]);
    plain.dispose();
    viaEot.dispose();
    robust.dispose();
  });
});

describe('Moosavi-Dezfooli et al. 2017: universal adversarial perturbation on mnist-cnn', () => {
  it('one Linf ε=0.3 perturbation fools a large share of held-out images, far more than random signs', { timeout: 300_000 }, async () => {
    const r = await universalPerturbation(cnn.model, train.x, { epsilon: 0.3, method: 'gradient', epochs: 4, foolingRate: 0.9, validation: held.x, seed: 0 });
    const random = randomSigns(0.3, 1);
    const base = await foolingRate(cnn.model, held.x, random);
    report(
      `UAP Linf ε=0.3 (gradient inner steps, ${r.epochs} passes over ${train.x.shape[0]} images): fooling rate train ${pct(r.foolingRate)}, held-out ${pct(r.validationFoolingRate!)} (n=${held.x.shape[0]}); random signs ${pct(base)} (paper, ImageNet: 78–93 % at ℓ∞ ξ = 10/255 or ℓ2 ξ = 2000)`,
    );
    expect(r.validationFoolingRate!).toBeGreaterThanOrEqual(0.3);
    expect(r.validationFoolingRate!).toBeGreaterThan(base + 0.2);
    random.dispose();
    r.dispose();
  });
});

describe('Papernot et al. 2017: substitute training and transfer to mnist-cnn', () => {
  it('an MLP substitute from 100 seeds and label queries imitates the oracle; FGSM on it transfers above random noise', { timeout: 300_000 }, async () => {
    const seeds = await loadDataset('mnist', { offset: 800, count: 100, source: 'shipped' });
    const oracle = toQueryModel(cnn.model, { output: 'label' });
    const sub = await trainSubstitute(oracle, seeds.x, { hidden: [200, 200], rounds: 4, epochs: 10, seed: 0 });
    const subAcc =
      1 -
      (await (async () => {
        const t = tf.tidy(() => tf.mean(tf.cast(tf.notEqual(tf.cast(tf.argMax(sub.model.logits(held.x), 1), 'int32'), held.y), 'float32')));
        const [v] = await t.data();
        t.dispose();
        return v as number;
      })());
    const adv = await fgsm().run(sub.model, held.x, { labels: held.y }, { epsilons: [0.3] });
    const transfer = await errorRate(adv.clipped[0]!, held.y);
    const noisy = tf.tidy(() => tf.clipByValue(tf.add(held.x, randomSigns(0.3, 2)), 0, 1));
    const noise = await errorRate(noisy, held.y);
    report(
      `substitute (MLP 200-200, ρ=4, ${sub.queries} label queries) accuracy on held-out ${pct(subAcc)}; FGSM ε=0.3 on it: oracle error ${pct(transfer)} (random signs ${pct(noise)}, n=${held.x.shape[0]}; Papernot et al.: substitute 81.2 %, transfer 84.2 % at ρ=6, 150 seeds)`,
    );
    expect(sub.queries).toBe(800);
    expect(subAcc).toBeGreaterThanOrEqual(0.6);
    expect(transfer).toBeGreaterThan(noise);
    tf.dispose([seeds.x, seeds.y, noisy]);
    adv.dispose();
    sub.dispose();
  });
});
