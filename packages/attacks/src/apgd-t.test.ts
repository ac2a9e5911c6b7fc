import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { targetedDlr } from '@advx/core';
import { assertConformance, checkAttack, linearModel } from '@advx/core/testing';

import { expectCode, maxDiff, mislabelledBatch, seededMlp } from '../test/fixtures.js';
import { apgdT } from './apgd-t.js';

const mlp = seededMlp(1);
const mlpTimes8 = seededMlp(1, 8);
const { x, labels } = mislabelledBatch(mlp);

afterAll(() => tf.dispose([x, labels]));

describe('apgd-t: conformance', () => {
  it('linf (numTargets 9 capped at numClasses − 1 = 4)', async () => {
    assertConformance(await checkAttack(apgdT({ steps: 10 }), { model: mlp, x, labels, epsilons: [0.02, 0.1, 0.3], minSuccess: 1 }));
  });
  it('l2', async () => {
    assertConformance(await checkAttack(apgdT({ steps: 10, norm: 'l2' }), { model: mlp, x, labels, epsilons: [0.1, 0.5, 1.5], minSuccess: 1 }));
  });
  it('l1 (the l1-APGD steps and the exact projection onto the L1 ball ∩ box)', async () => {
    assertConformance(await checkAttack(apgdT({ steps: 10, norm: 'l1' }), { model: mlp, x, labels, epsilons: [0.5, 2, 6], minSuccess: 0.75 }));
  });
});

describe('apgd-t: targets', () => {
  it('tries the classes by decreasing clean logit: only the second target is reachable here', async () => {
    // z_y = 0, z_a = −0.5, z_c = 10·x₁ − 1, z_d = −2 at x = (0.04, 0.5): clean logits 0 > −0.5 > −0.6 > −2.
    // Within ε = 0.1 only c can overtake y (x₁ → 0.14 gives z_c = 0.4); a and d are constant.
    const model = linearModel({
      weights: [
        [0, 0],
        [0, 0],
        [10, 0],
        [0, 0],
      ],
      bias: [0, -0.5, -1, -2],
    });
    const x1 = tf.tensor2d([[0.04, 0.5]]);
    const y1 = tf.tensor1d([0], 'int32');
    const one = await apgdT({ numTargets: 1, steps: 10, randomStart: false }).run(model, x1, { labels: y1 }, { epsilons: [0.1] });
    const two = await apgdT({ numTargets: 2, steps: 10, randomStart: false }).run(model, x1, { labels: y1 }, { epsilons: [0.1] });
    expect(one.success[0]).toEqual([false]);
    expect(two.success[0]).toEqual([true]);
    // Target a: the targeted DLR toward a grows as z_c falls (its denominator shrinks), so x₁ goes down to 0.
    const [[a0, a1]] = (await one.clipped[0]?.array()) as number[][] as [[number, number]];
    expect(a0).toBeCloseTo(0, 6);
    expect(a1).toBeCloseTo(0.5, 6);
    // Target c: the first step (η = 2ε, projected) reaches x₁ = 0.14, predicted class c.
    const [[b0, b1]] = (await two.clipped[0]?.array()) as number[][] as [[number, number]];
    expect(b0).toBeCloseTo(0.14, 6);
    expect(b1).toBeCloseTo(0.5, 6);
    const pred = tf.tidy(() => tf.argMax(model.logits(two.clipped[0] as tf.Tensor), 1));
    expect(Array.from(await pred.data())).toEqual([2]);
    tf.dispose([x1, y1, pred]);
    one.dispose();
    two.dispose();
  });

  it('more targets never lose a success, and numTargets above numClasses − 1 equals numClasses − 1', async () => {
    const epsilons = [0.01, 0.02];
    const one = await apgdT({ numTargets: 1, steps: 15 }).run(mlp, x, { labels }, { epsilons, seed: 1 });
    const four = await apgdT({ numTargets: 4, steps: 15 }).run(mlp, x, { labels }, { epsilons, seed: 1 });
    const many = await apgdT({ numTargets: 50, steps: 15 }).run(mlp, x, { labels }, { epsilons, seed: 1 });
    for (let e = 0; e < epsilons.length; e++) {
      one.success[e]?.forEach((ok, i) => {
        if (ok) expect(four.success[e]?.[i], `eps ${epsilons[e]}, sample ${i}`).toBe(true);
      });
      expect(await maxDiff(four.clipped[e] as tf.Tensor, many.clipped[e] as tf.Tensor)).toBe(0);
    }
    tf.dispose([one, four, many].flatMap((r) => [r.raw, ...r.clipped]));
  });
});

describe('apgd-t: invariants', () => {
  it('×8 logits (exact in float32) give the identical result: the targeted DLR loss is scale-invariant', async () => {
    for (const norm of ['linf', 'l2'] as const) {
      const epsilons = norm === 'linf' ? [0.01, 0.03] : [0.05, 0.2];
      const attack = apgdT({ steps: 20, norm, earlyStop: false, numTargets: 3 });
      const a = await attack.run(mlp, x, { labels }, { epsilons, seed: 3 });
      const b = await attack.run(mlpTimes8, x, { labels }, { epsilons, seed: 3 });
      for (let e = 0; e < epsilons.length; e++) {
        expect(await maxDiff(a.clipped[e] as tf.Tensor, b.clipped[e] as tf.Tensor), `${norm}, eps ${epsilons[e]}`).toBe(0);
        expect(b.success[e]).toEqual(a.success[e]);
      }
      expect(a.success[0]?.some(Boolean) && !a.success[0]?.every(Boolean), 'the fixture must be partly robust').toBe(true);
      a.dispose();
      b.dispose();
    }
  });

  it('a batch of N equals N single runs with restarts and without early stop; same seed, same output', async () => {
    const attack = apgdT({ steps: 10, restarts: 2, numTargets: 2, earlyStop: false });
    const full = await attack.run(mlp, x, { labels }, { epsilons: [0.015], seed: 9 });
    const again = await attack.run(mlp, x, { labels }, { epsilons: [0.015], seed: 9 });
    const singles = await attack.run(mlp, x, { labels }, { epsilons: [0.015], seed: 9, batchSize: 1 });
    expect(await maxDiff(full.clipped[0] as tf.Tensor, again.clipped[0] as tf.Tensor)).toBe(0);
    expect(await maxDiff(full.clipped[0] as tf.Tensor, singles.clipped[0] as tf.Tensor)).toBeLessThan(1e-6);
    expect(singles.success).toEqual(full.success);
    tf.dispose([full, again, singles].flatMap((r) => [r.raw, ...r.clipped]));
  });
});

describe('apgd-t: loss and validation', () => {
  it('the targeted DLR loss (core targetedDlr) has the hand-derived gradient', async () => {
    const logits = tf.tensor2d([
      [3, 1, 0, -1],
      [0.5, 2, -1, 1],
    ]);
    const y = tf.tensor1d([0, 1], 'int32');
    const t = tf.tensor1d([1, 3], 'int32');
    // Row 0, y = 0, t = 1: L = (z_t − z_y)/D with D = π1 − (π3 + π4)/2 = 3.5 and z_t − z_y = −2:
    // ∂L/∂z0 = (−D − (−2))/D² = −1.5/12.25, ∂L/∂z1 = 1/3.5, ∂L/∂z2 = ∂L/∂z3 = −(−2)·(−½)/D² = −1/12.25.
    const g = tf.grad((z: tf.Tensor) => tf.sum(targetedDlr(z as tf.Tensor2D, tf.tensor1d([0], 'int32'), tf.tensor1d([1], 'int32'))))(
      tf.slice(logits, [0, 0], [1, 4]),
    );
    const row = Array.from(await g.data());
    [-1.5 / 12.25, 1 / 3.5, -1 / 12.25, -1 / 12.25].forEach((v, j) => expect(row[j]).toBeCloseTo(v, 6));
    tf.dispose([logits, y, t, g]);
  });

  it('rejects bad options, fewer than 4 classes and targeted goals with INVALID_OPTION, leaking nothing', async () => {
    for (const options of [{ numTargets: 0 }, { numTargets: 1.5 }, { steps: 0 }, { rho: 2 }, { alpha: 0 }, { loss: 'ce' }]) {
      await expectCode('INVALID_OPTION', () => apgdT(options as Parameters<typeof apgdT>[0]));
    }
    const three = linearModel({
      weights: [
        [1, 0],
        [0, 1],
        [-1, -1],
      ],
    });
    const x3 = tf.tensor2d([[0.6, 0.4]]);
    const y3 = tf.tensor1d([0], 'int32');
    await expectCode('INVALID_OPTION', () => apgdT({ steps: 2 }).run(three, x3, { labels: y3 }, { epsilons: [0.1] }));
    const t = tf.tensor1d([1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2], 'int32');
    await expectCode('INVALID_OPTION', () => apgdT({ steps: 2 }).run(mlp, x, { targets: t, labels }, { epsilons: [0.1] }));
    tf.dispose([x3, y3, t]);
  });
});
