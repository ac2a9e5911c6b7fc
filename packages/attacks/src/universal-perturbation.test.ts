import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { predictClasses, Rng, toQueryModel } from '@advx/core';
import { assertConformance, checkAttack, selfLabeledData } from '@advx/core/testing';

import { expectCode, logisticRegression, maxDiff, net } from '../test/fixtures.js';

import { foolingRate, universal, universalPerturbation } from './universal-perturbation.js';

const { w, z, wL1, wL2, model: logistic } = logisticRegression;

/** 12 class-1 points of the logistic model in [0.35, 0.65]^6 (so small perturbations never hit the bounds). */
const points = (() => {
  const rng = new Rng(4);
  const out: number[][] = [];
  while (out.length < 12) {
    const row = Array.from({ length: 6 }, () => 0.35 + 0.3 * rng.uniform());
    if (z(row) > 0.05) out.push(row);
  }
  return out;
})();

describe('universalPerturbation: closed forms on logistic regression', () => {
  it('linf: v = −c·sign(w); each visit to an unfooled point sets c ← c + (1 + η)(zᵢ/‖w‖₁ − c); ξ caps c', async () => {
    const x = tf.tensor2d(points);
    const zs = points.map(z);
    for (const xi of [0.03, 0.2]) {
      const r = await universalPerturbation(logistic, x, { epsilon: xi, foolingRate: 1, epochs: 3, overshoot: 0.02 });
      const v = Array.from(await r.perturbation.data());
      const c = -v[0]! * Math.sign(w[0]!);
      v.forEach((vj, j) => expect(vj).toBeCloseTo(-c * Math.sign(w[j]!), 6));
      expect(c).toBeLessThanOrEqual(xi + 1e-7);
      const fooled = zs.filter((zi) => zi - c * wL1 < 0).length / zs.length;
      expect(r.foolingRate).toBeCloseTo(fooled, 6);
      if (xi === 0.03) {
        // Too small to fool the farthest point: c saturates at ξ.
        expect(Math.max(...zs) / wL1).toBeGreaterThan(xi);
        expect(c).toBeCloseTo(xi, 6);
        expect(r.epochs).toBe(3);
      } else {
        // Large enough: every point fooled in the first pass, with c at most (1 + η)·max zᵢ/‖w‖₁.
        expect(r.foolingRate).toBe(1);
        expect(r.epochs).toBe(1);
        expect(c).toBeLessThanOrEqual((1.02 * Math.max(...zs)) / wL1 + 1e-6);
        expect(c).toBeGreaterThanOrEqual(Math.max(...zs) / wL1);
      }
      r.dispose();
    }
    x.dispose();
  });

  it('l2: v is parallel to −w with ‖v‖₂ ≤ ξ', async () => {
    const x = tf.tensor2d(points);
    const r = await universalPerturbation(logistic, x, { epsilon: 0.1, norm: 'l2', foolingRate: 1, epochs: 2 });
    const v = Array.from(await r.perturbation.data());
    const c = Math.sqrt(v.reduce((s, t) => s + t * t, 0));
    expect(c).toBeLessThanOrEqual(0.1 + 1e-6);
    v.forEach((vj, j) => expect(vj).toBeCloseTo((-c * w[j]!) / wL2, 5));
    r.dispose();
    x.dispose();
  });
});

describe('universalPerturbation on a seeded MLP', () => {
  const train = selfLabeledData(net, 11, 48);
  const held = selfLabeledData(net, 12, 48);

  it('fools held-out points more often than a random sign vector of the same radius; foolingRate agrees', async () => {
    const r = await universalPerturbation(net, train.x, { epsilon: 0.25, imagesPerStep: 8, epochs: 3, validation: held.x, seed: 1 });
    const rng = new Rng(2);
    const random = tf.tensor2d([Array.from({ length: 16 }, () => (rng.uniform() < 0.5 ? -0.25 : 0.25))]);
    const base = await foolingRate(net, held.x, random);
    expect(r.validationFoolingRate).toBeGreaterThan(base + 0.15);
    expect(await foolingRate(net, held.x, r.perturbation)).toBeCloseTo(r.validationFoolingRate ?? -1, 9);
    const inf = tf.tidy(() => tf.max(tf.abs(r.perturbation)));
    expect((await inf.data())[0]).toBeLessThanOrEqual(0.25 + 1e-6);
    tf.dispose([random, inf]);
    r.dispose();
  });

  it('is deterministic under a seed, leaks nothing, and the seed changes the visiting order', async () => {
    const before = tf.memory().numTensors;
    const a = await universalPerturbation(net, train.x, { epsilon: 0.1, epochs: 1, seed: 3 });
    const b = await universalPerturbation(net, train.x, { epsilon: 0.1, epochs: 1, seed: 3 });
    const c = await universalPerturbation(net, train.x, { epsilon: 0.1, epochs: 1, seed: 4 });
    expect(await maxDiff(a.perturbation, b.perturbation)).toBe(0);
    expect(await maxDiff(a.perturbation, c.perturbation)).toBeGreaterThan(0);
    [a, b, c].forEach((r) => r.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad input before any work and aborts', async () => {
    for (const bad of [
      { epsilon: 0.1, foolingRate: 0 },
      { epsilon: 0.1, epochs: 0 },
      { epsilon: 0.1, imagesPerStep: -1 },
      { epsilon: 0.1, overshoot: -1 },
      { epsilon: 0.1, passes: 2 },
    ]) {
      await expectCode('INVALID_OPTION', () => universalPerturbation(net, train.x, bad as never));
    }
    await expectCode('INVALID_EPSILON', () => universalPerturbation(net, train.x, { epsilon: -1 }));
    await expectCode('UNSUPPORTED_NORM', () => universalPerturbation(net, train.x, { epsilon: 1, norm: 'l1' as never }));
    await expectCode('UNSUPPORTED_MODEL', () => universalPerturbation(toQueryModel(net, { output: 'scores' }) as never, train.x, { epsilon: 0.1 }));
    const outside = tf.fill([2, 16], 3);
    const wrong = tf.zeros([1, 15]);
    await expectCode('OUT_OF_BOUNDS', () => universalPerturbation(net, outside, { epsilon: 0.1 }));
    await expectCode('INVALID_SHAPE', () => foolingRate(net, train.x, wrong));
    const ac = new AbortController();
    await expectCode('ABORTED', () => universalPerturbation(net, train.x, { epsilon: 0.1, signal: ac.signal, onProgress: (p) => p.step >= 4 && ac.abort() }));
    tf.dispose([outside, wrong]);
  });
});

describe('universal: the universal perturbation as a registered dataset-level attack', () => {
  const train = selfLabeledData(net, 11, 48);

  it('passes the attack conformance suite (one batch, maxPasses refused) on the MLP, DeepFool and gradient steps', async () => {
    assertConformance(await checkAttack(universal({ epochs: 2 }), { model: net, x: train.x, labels: train.labels, epsilons: [0.05, 0.25] }));
    assertConformance(
      await checkAttack(universal({ method: 'gradient', epochs: 3, norm: 'l2' }), { model: net, x: train.x, labels: train.labels, epsilons: [0.1, 0.5] }),
    );
  });

  it('applies at each ε the perturbation universalPerturbation fits at that ε: x_adv = clip(x + v), the same v for every sample', async () => {
    const before = tf.memory().numTensors;
    const labels = tf.tensor1d(await predictClasses(net, train.x), 'int32');
    const result = await universal({ imagesPerStep: 8, epochs: 2 }).run(net, train.x, { labels }, { epsilons: [0.1, 0.25], seed: 5, batchSize: 7 });
    for (const [e, epsilon] of [0.1, 0.25].entries()) {
      const fit = await universalPerturbation(net, train.x, { epsilon, imagesPerStep: 8, epochs: 2, seed: 5 });
      const expected = tf.tidy(() => tf.clipByValue(tf.add(train.x, fit.perturbation), 0, 1));
      expect(await maxDiff(result.clipped[e]!, expected)).toBeLessThanOrEqual(1e-6);
      // Fooled exactly where the fitted v changes the prediction.
      const pred = await predictClasses(net, expected);
      const clean = await labels.data();
      expect(result.success[e]).toEqual(Array.from(pred, (p, i) => p !== clean[i]));
      tf.dispose([expected]);
      fit.dispose();
    }
    // Every sample is charged its own forward passes and the nested DeepFool runs' passes.
    expect(result.samplePasses?.every((p) => p > 0)).toBe(true);
    expect(result.passes!.backward).toBeGreaterThan(0);
    result.dispose();
    labels.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is listed as a dataset-level attack and rejects bad options before any work', async () => {
    expect(universal.meta).toMatchObject({ name: 'universal-perturbation', scope: 'dataset', norms: ['linf', 'l2'], goals: ['untargeted'] });
    await expectCode('INVALID_OPTION', async () => universal({ epochs: 0 }));
    await expectCode('INVALID_OPTION', async () => universal({ method: 'sgd' as never }));
    await expectCode('INVALID_OPTION', () => universal().run(net, train.x, { labels: train.labels }, { epsilons: [0.1], maxPasses: 10 }));
  });
});
